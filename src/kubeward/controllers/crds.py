"""The CRD controller: what makes a CustomResourceDefinition's kinds served, and unserved.

It runs inside the API server (it changes the server's own scheme), following the definitions
in storage. Rules, as the apiextensions-apiserver's naming, establishing and finalizing
controllers:

 1. Names: a definition's names are accepted unless another definition already serves the same
    kind in the same group (``NamesAccepted`` False, reason ``KindConflict``). Accepted names
    are copied to ``status.acceptedNames``.
 2. Established: once its names are accepted, every served version of the definition is
    registered in the scheme (``api.customresources.served_kinds``, with the HTTPS client
    ``client.webhook`` for conversion webhooks) and the ``Established``
    condition is True. A change to the spec re-registers the kinds (their watches end, and
    clients watch again), as upstream restarts the storage of a changed definition.
 3. Deleting: a definition with a ``deletionTimestamp`` is ``Terminating``; every object of it
    is deleted, and once none is left the kinds are unregistered and the
    ``customresourcecleanup.apiextensions.k8s.io`` finalizer removed, which lets the
    definition go. Objects held by finalizers of their own keep it terminating; the kind's
    informer brings the definition back here when they go (nothing polls).
 4. Before the server answers, every stored definition has been looked at once, so the kinds
    of established definitions are served from the first request after a restart.
 5. Definitions are followed through the server's shared informer
    (``controllers.informer``), one key per definition name: a definition no longer in the
    cache (deleted, or gone in a relist after 410) stops being served.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.customresources.conversion import WebhookCaller
from kubeward.api.customresources.kinds import served_kinds
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.apiextensions import (
    CLEANUP_FINALIZER,
    CUSTOM_RESOURCE_DEFINITIONS,
    storage_version,
)
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.client.webhook import post_json
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import Conflict, NotFound, StatusError

log = logging.getLogger("kubeward.apiserver.crd")


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": m.format_time(m.now()),
        "reason": reason,
        "message": message,
    }


class CRDController(Controller):
    """Rules 1-5, keyed by definition name."""

    name = "customresourcedefinitions"

    def __init__(
        self,
        scheme: Scheme,
        stores: dict[ResourceType, Store],
        informers: InformerFactory,
        webhook_caller: WebhookCaller = post_json,
    ) -> None:
        super().__init__(informers.informer(CUSTOM_RESOURCE_DEFINITIONS))
        self._scheme = scheme
        self._stores = stores
        self._factory = informers
        self._webhook_caller = webhook_caller  # how Webhook conversions reach their webhooks
        self._served: dict[str, tuple[Any, list[ResourceType]]] = {}  # name -> (spec, kinds)
        # Kinds of terminating definitions whose objects' deletions bring the definition back.
        self._awaiting: dict[ResourceType, str] = {}

    @property
    def _crds(self) -> Store:
        return self._stores[CUSTOM_RESOURCE_DEFINITIONS]

    async def prepare(self) -> None:
        """Rule 4."""
        self._factory.start()
        await self._factory.wait_for_sync([CUSTOM_RESOURCE_DEFINITIONS])
        for name in list(self.informer.cache):
            try:
                await self.reconcile(name)
            except StatusError as exc:
                log.warning("CustomResourceDefinition %s: %s", name, exc)

    async def reconcile(self, key: str) -> float | None:
        """Rules 1-3 and 5 for one definition."""
        crd = self.cached(key)
        if crd is None:
            self._unserve(key)
        elif m.metadata(crd).get("deletionTimestamp"):
            await self._finalize(crd)
        else:
            await self._establish(crd)
        return None

    # --- rules 1 and 2 ----------------------------------------------------------------------
    def _conflict(self, crd: m.JSONObject) -> str:
        spec = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        found = self._scheme.by_kind(str(spec.get("group", "")), str(kind))
        if found is None:
            return ""
        mine = self._served.get(m.name_of(crd))
        if mine is not None and found in mine[1]:
            return ""
        return f'"{kind}" is already in use'

    async def _establish(self, crd: m.JSONObject) -> None:
        name = m.name_of(crd)
        spec = crd.get("spec") or {}
        conflict = self._conflict(crd)
        if conflict:
            conditions = [
                _condition("NamesAccepted", "False", "KindConflict", conflict),
                _condition("Established", "False", "NotAccepted", "not all names are accepted"),
            ]
            await self._write_status(crd, conditions, accepted_names=None)
            return
        served = self._served.get(name)
        if served is None or served[0] != spec:
            self._unserve(name)
            kinds = served_kinds(crd, self._webhook_caller)
            for rt in kinds:
                self._scheme.add(rt)
            self._served[name] = (copy.deepcopy(spec), kinds)
            log.info("serving %s (%s)", name, ", ".join(rt.group_version for rt in kinds))
        conditions = [
            _condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
            _condition(
                "Established",
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            ),
        ]
        await self._write_status(crd, conditions, accepted_names=spec.get("names") or {})

    def _unserve(self, name: str) -> None:
        served = self._served.pop(name, None)
        if served is None:
            return
        for rt in served[1]:
            if self._awaiting.pop(rt, None) is not None:
                self._factory.remove(rt)
            self._scheme.remove(rt)
        log.info("stopped serving %s", name)

    async def _write_status(
        self,
        crd: m.JSONObject,
        conditions: list[dict[str, str]],
        *,
        accepted_names: dict[str, Any] | None,
    ) -> None:
        status = crd.get("status") or {}
        old = {c.get("type"): c for c in status.get("conditions") or []}
        unchanged = all(
            (old.get(c["type"]) or {}).get("status") == c["status"]
            and (old.get(c["type"]) or {}).get("reason") == c["reason"]
            for c in conditions
        ) and (accepted_names is None or status.get("acceptedNames") == accepted_names)
        if unchanged:
            return

        def update(current: m.JSONObject) -> m.JSONObject:
            new_status = current.setdefault("status", {})
            kept = {c.get("type"): c for c in new_status.get("conditions") or []}
            for condition in conditions:
                previous = kept.get(condition["type"])
                if previous is not None and previous.get("status") == condition["status"]:
                    condition = {**condition, "lastTransitionTime": previous["lastTransitionTime"]}
                kept[condition["type"]] = condition
            new_status["conditions"] = list(kept.values())
            if accepted_names is not None:
                new_status["acceptedNames"] = copy.deepcopy(accepted_names)
            return current

        with contextlib.suppress(NotFound):
            await self._crds.guaranteed_update("", m.name_of(crd), update, subresource="status")

    # --- rule 3 -----------------------------------------------------------------------------
    async def _finalize(self, crd: m.JSONObject) -> None:
        name = m.name_of(crd)
        if CLEANUP_FINALIZER not in (m.metadata(crd).get("finalizers") or []):
            self._unserve(name)
            return
        await self._write_status(
            crd,
            [
                _condition(
                    "Terminating",
                    "True",
                    "InstanceDeletionInProgress",
                    "CustomResource deletion is in progress",
                )
            ],
            accepted_names=None,
        )
        served = self._served.get(name)
        remaining = 0
        if served is not None and served[1]:
            # The storage version's store reads most objects without converting them.
            storage = storage_version(crd)
            kinds = sorted(served[1], key=lambda rt: rt.version != storage)
            store = self._stores.get(kinds[0])
            if store is not None:
                remaining = await _delete_all(store)
        if remaining:
            self._await_deletions(name, served[1][0] if served is not None else None)
            return
        self._unserve(name)

        def release(current: m.JSONObject) -> m.JSONObject:
            meta = m.metadata(current)
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != CLEANUP_FINALIZER]
            return current

        with contextlib.suppress(NotFound):
            await self._crds.guaranteed_update("", name, release)

    def _await_deletions(self, name: str, rt: ResourceType | None) -> None:
        """Rule 3: follow the kind's objects, so that their deletion brings the definition back."""
        if rt is None or rt in self._awaiting:
            return
        self._awaiting[rt] = name
        informer = self._factory.informer(rt)
        informer.add_event_handler(on_delete=lambda _obj: self.queue.add(name))
        self._factory.start()


async def _delete_all(store: Store) -> int:
    """Delete every object of a kind; how many are still there (held by finalizers)."""
    listed = await store.list("", ListOptions())
    remaining = 0
    for item in listed["items"]:
        with contextlib.suppress(NotFound, Conflict):
            _, gone = await store.delete(m.namespace_of(item), m.name_of(item))
            if not gone:
                remaining += 1
    return remaining
