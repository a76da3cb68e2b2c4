"""The garbage collector: deletes what lost its owners, and carries out foreground and orphan
deletion (``pkg/controller/garbagecollector``).

It follows every kind the API server serves that can be listed, watched and deleted (events
excepted: ``controllers.discovery``), looking again every ``DISCOVERY_PERIOD`` seconds so that
kinds added later (custom resources) are followed and kinds no longer served are dropped. It
keeps a graph from each owner's uid to its dependents. Rules:

 1. An object's owners, read from its ``ownerReferences``, are *solid* (the owner exists with
    that uid), *dangling* (no such object, or another uid) or *waiting* (the owner is being
    deleted in the foreground). Absence in the cache is confirmed with a live GET before an
    owner counts as dangling.
 2. With at least one solid owner the object stays; references to dangling or waiting owners
    are removed from it. Otherwise it is deleted (uid precondition): in the foreground when a
    waiting owner exists and it has dependents of its own, else with the policy its own
    finalizers ask for (``foregroundDeletion``, ``orphan``), else in the background.
 3. An owner marked for deletion with the ``orphan`` finalizer: its dependents lose their
    references to it, then the finalizer is removed (and the API server completes the
    deletion once no finalizer is left).
 4. An owner marked with ``foregroundDeletion``: every dependent not yet being deleted is
    deleted (rule 2); once no dependent with ``blockOwnerDeletion: true`` remains, the
    finalizer is removed.
 5. Work is keyed by uid; an event on an object queues it and, when it is deleted or marked
    for foreground deletion, its dependents (and its owners, which may be waiting for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kubeward.api import meta as m
from kubeward.api.registry.propagation import (
    BACKGROUND,
    FOREGROUND,
    FOREGROUND_FINALIZER,
    ORPHAN,
    ORPHAN_FINALIZER,
)
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers import ownership
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer, key_of
from kubeward.errors import KubewardError, NotFound

log = logging.getLogger("kubeward.controllers")

DISCOVERY_PERIOD = 30.0

Discover = Callable[[], Awaitable[list[ResourceType]]]


@dataclass
class _Node:
    rt: ResourceType
    key: str
    owners: list[m.JSONObject] = field(default_factory=list)


def _group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


class GarbageCollector(Controller):
    name = "garbagecollector"

    def __init__(
        self,
        informers: dict[ResourceType, Informer],
        client: APIClient,
        *,
        workers: int = 5,
        factory: InformerFactory | None = None,
        discover: Discover | None = None,
    ) -> None:
        """``informers``: the kinds followed from the start (their first lists are waited
        for); with ``factory`` and ``discover``, kinds are added and dropped as discovery
        changes."""
        ordered = list(informers.values())
        super().__init__(ordered[0], workers=workers)
        self.depends_on(*ordered[1:])
        self.informers: dict[ResourceType, Informer] = {}
        self.client = client
        self.factory = factory
        self.discover = discover
        self.by_kind: dict[tuple[str, str], ResourceType] = {}
        self.nodes: dict[str, _Node] = {}
        self.dependents: dict[str, set[str]] = {}
        for rt, informer in informers.items():
            self._follow(rt, informer)

    async def run(self) -> None:
        if self.factory is None or self.discover is None:
            await super().run()
            return
        resync = asyncio.create_task(self._discovery_loop())
        try:
            await super().run()
        finally:
            resync.cancel()

    async def _discovery_loop(self) -> None:
        assert self.factory is not None and self.discover is not None
        while True:
            await asyncio.sleep(DISCOVERY_PERIOD)
            try:
                kinds = await self.discover()
            except KubewardError as exc:
                log.warning("%s: discovery failed: %s", self.name, exc)
                continue
            self.sync_kinds(kinds, self.factory)

    def sync_kinds(self, kinds: list[ResourceType], factory: InformerFactory) -> None:
        """Follow kinds newly served; forget kinds no longer served."""
        wanted = set(kinds)
        for rt in [rt for rt in self.informers if rt not in wanted]:
            log.info("%s: no longer following %s", self.name, rt.qualified_resource)
            del self.informers[rt]
            self.by_kind.pop((rt.group, rt.kind), None)
            factory.remove(rt)
            for uid in [uid for uid, node in self.nodes.items() if node.rt == rt]:
                self.nodes.pop(uid, None)
        for rt in kinds:
            if rt not in self.informers:
                log.info("%s: following %s", self.name, rt.qualified_resource)
                self._follow(rt, factory.informer(rt))
        factory.start()

    def _follow(self, rt: ResourceType, informer: Informer) -> None:
        self.informers[rt] = informer
        self.by_kind[(rt.group, rt.kind)] = rt

        def added(obj: m.JSONObject) -> None:
            self._observed(rt, obj)

        def updated(old: m.JSONObject, new: m.JSONObject) -> None:
            self._updated(rt, old, new)

        informer.add_event_handler(added, updated, self._gone)

    def _enqueue(self, key: str, obj: m.JSONObject | None) -> None:
        """The base class's key listener: unused, this controller queues uids (rule 5)."""

    # --- the graph (rule 5) ---------------------------------------------------------------
    def _updated(self, rt: ResourceType, old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new:
            return
        self._observed(rt, new)

    def _observed(self, rt: ResourceType, obj: m.JSONObject) -> None:
        uid = ownership.uid_of(obj)
        if not uid:
            return
        meta = m.metadata(obj)
        owners = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
        previous = self.nodes.get(uid)
        for ref in previous.owners if previous is not None else []:
            self.dependents.get(str(ref.get("uid")), set()).discard(uid)
        self.nodes[uid] = _Node(rt, key_of(obj), owners)
        for ref in owners:
            self.dependents.setdefault(str(ref.get("uid")), set()).add(uid)
        finalizers = meta.get("finalizers") or []
        deleting = bool(meta.get("deletionTimestamp"))
        if owners or (
            deleting and (ORPHAN_FINALIZER in finalizers or FOREGROUND_FINALIZER in finalizers)
        ):
            self.queue.add(uid)
        if deleting and FOREGROUND_FINALIZER in finalizers:
            for dependent in self.dependents.get(uid, ()):
                self.queue.add(dependent)

    def _gone(self, obj: m.JSONObject) -> None:
        uid = ownership.uid_of(obj)
        node = self.nodes.pop(uid, None)
        if node is not None:
            for ref in node.owners:
                owner_uid = str(ref.get("uid"))
                self.dependents.get(owner_uid, set()).discard(uid)
                self.queue.add(owner_uid)
        for dependent in self.dependents.pop(uid, set()):
            self.queue.add(dependent)

    def _object(self, uid: str) -> m.JSONObject | None:
        node = self.nodes.get(uid)
        if node is None:
            return None
        obj = self.informers[node.rt].get(node.key)
        return obj if obj is not None and ownership.uid_of(obj) == uid else None

    # --- reconcile ------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        obj = self._object(key)
        if obj is None:
            return None
        node = self.nodes[key]
        meta = m.metadata(obj)
        finalizers = [str(f) for f in meta.get("finalizers") or []]
        if meta.get("deletionTimestamp"):
            if ORPHAN_FINALIZER in finalizers:
                await self._orphan_dependents(key)
                await self._remove_finalizer(node.rt, obj, ORPHAN_FINALIZER)
            elif FOREGROUND_FINALIZER in finalizers:
                await self._foreground(key, node.rt, obj)
            return None
        if node.owners:
            await self._check_owners(node, obj, finalizers)
        return None

    async def _owner_state(self, obj: m.JSONObject, ref: m.JSONObject) -> str:
        """Rule 1: ``solid``, ``dangling`` or ``waiting``."""
        rt = self.by_kind.get((_group_of(str(ref.get("apiVersion") or "")), str(ref.get("kind"))))
        if rt is None:
            return "solid"  # a kind this collector cannot see: never delete on its account
        namespace = m.namespace_of(obj) if rt.namespaced else ""
        name = str(ref.get("name") or "")
        owner = self.informers[rt].get(f"{namespace}/{name}" if namespace else name)
        if owner is None or ownership.uid_of(owner) != ref.get("uid"):
            try:
                owner = await self.client.get(rt, name, namespace)
            except NotFound:
                return "dangling"
        if ownership.uid_of(owner) != ref.get("uid"):
            return "dangling"
        meta = m.metadata(owner)
        if meta.get("deletionTimestamp") and FOREGROUND_FINALIZER in (meta.get("finalizers") or []):
            return "waiting"
        return "solid"

    async def _check_owners(self, node: _Node, obj: m.JSONObject, finalizers: list[str]) -> None:
        """Rule 2."""
        states = {str(ref.get("uid")): await self._owner_state(obj, ref) for ref in node.owners}
        if "solid" in states.values():
            gone = [uid for uid, state in states.items() if state != "solid"]
            if gone:
                refs = [r for r in node.owners if str(r.get("uid")) not in gone]
                await self._patch(node.rt, obj, {"metadata": {"ownerReferences": refs}})
            return
        uid = ownership.uid_of(obj)
        if (
            "waiting" in states.values() and self.dependents.get(uid)
        ) or FOREGROUND_FINALIZER in finalizers:
            policy = FOREGROUND
        elif ORPHAN_FINALIZER in finalizers:
            policy = ORPHAN
        else:
            policy = BACKGROUND
        log.info("%s: deleting %s %s (%s)", self.name, node.rt.kind, node.key, policy)
        with contextlib.suppress(NotFound):
            await self.client.delete(
                node.rt, m.name_of(obj), m.namespace_of(obj), uid=uid, propagation_policy=policy
            )

    async def _orphan_dependents(self, owner_uid: str) -> None:
        """Rule 3."""
        for uid in list(self.dependents.get(owner_uid, ())):
            dependent = self._object(uid)
            if dependent is None:
                continue
            node = self.nodes[uid]
            refs = [r for r in node.owners if str(r.get("uid")) != owner_uid]
            await self._patch(node.rt, dependent, {"metadata": {"ownerReferences": refs or None}})

    async def _foreground(self, uid: str, rt: ResourceType, obj: m.JSONObject) -> None:
        """Rule 4."""
        blocking = False
        for dependent_uid in list(self.dependents.get(uid, ())):
            dependent = self._object(dependent_uid)
            if dependent is None:
                continue
            for ref in self.nodes[dependent_uid].owners:
                if ref.get("uid") == uid and ref.get("blockOwnerDeletion") is True:
                    blocking = True
            if not ownership.is_deleting(dependent):
                self.queue.add(dependent_uid)
        if not blocking:
            await self._remove_finalizer(rt, obj, FOREGROUND_FINALIZER)

    async def _remove_finalizer(self, rt: ResourceType, obj: m.JSONObject, name: str) -> None:
        meta = m.metadata(obj)
        kept = [f for f in meta.get("finalizers") or [] if f != name]
        body = {
            "metadata": {"finalizers": kept or None, "resourceVersion": meta.get("resourceVersion")}
        }
        await self._patch(rt, obj, body)

    async def _patch(self, rt: ResourceType, obj: m.JSONObject, body: m.JSONObject) -> None:
        body.setdefault("metadata", {})["uid"] = ownership.uid_of(obj)
        with contextlib.suppress(NotFound):
            await self.client.patch(rt, m.name_of(obj), body, namespace=m.namespace_of(obj))
