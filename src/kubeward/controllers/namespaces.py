"""Namespace lifecycle inside the API server, driven by events (nothing polls).

Rules:
 1. ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist from the start.
 2. Deleting a namespace marks it ``Terminating``; the controller then deletes everything in it,
    and once it is empty clears ``spec.finalizers`` so that the namespace itself goes. Objects
    with finalizers of their own (or pods waiting for their node) keep the namespace until
    they are gone.
 3. The controller follows namespaces and every namespaced kind through shared informers
    (``controllers.factory``), kinds added while the server runs (custom resources) included.
    A namespace is looked at again when it changes and whenever an
    object in it is added, changed or deleted while it is terminating; so the deletion of the
    last object finishes the namespace, without a timer.
 4. Before the finalizer is cleared, storage itself is asked (one list per kind, limit 1) whether
    the namespace is empty: an object written just before the namespace was marked, whose event
    has not reached the cache yet, keeps the namespace (its event will bring it back here).
 5. The contents are left alone for ``deletion_grace`` seconds after the namespace is first seen
    terminating (one timer, as upstream's ``namespaceDeletionGracePeriod``, 5 s there, shorter
    here): ``kubectl delete -f`` of a file that lists a namespace before its objects deletes
    those objects itself, rather than racing the controller to them and meeting NotFound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import NAMESPACES
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer
from kubeward.errors import AlreadyExists, Conflict, NotFound

log = logging.getLogger("kubeward.controllers.namespaces")

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DELETION_GRACE_SECONDS = 0.5


async def ensure_default_namespaces(stores: dict[ResourceType, Store]) -> None:
    """Rule 1."""
    store = stores[NAMESPACES]
    for name in DEFAULT_NAMESPACES:
        with contextlib.suppress(AlreadyExists):
            await store.create(
                "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )


def _terminating(namespace: m.JSONObject | None) -> bool:
    return namespace is not None and bool(m.metadata(namespace).get("deletionTimestamp"))


class NamespaceController(Controller):
    """Rules 2-4, keyed by namespace name."""

    name = "namespace"

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        informers: InformerFactory,
        *,
        scheme: Scheme | None = None,
        deletion_grace: float = DELETION_GRACE_SECONDS,
    ) -> None:
        super().__init__(informers.informer(NAMESPACES))
        self._stores = stores
        self._deletion_grace = deletion_grace
        # Terminating namespaces whose grace period (rule 5) has begun, and those still in it.
        self._seen_terminating: set[str] = set()
        self._in_grace: set[str] = set()
        self.informer.add_event_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new),
            on_delete=self._namespace_deleted,
        )
        self._factory = informers
        self._contents: dict[ResourceType, Informer] = {}
        for rt in list(stores):
            if rt.namespaced:
                self._follow_contents(rt)
        self.depends_on(*self._contents.values())
        if scheme is not None:
            scheme.subscribe(self._kind_changed)

    def _follow_contents(self, rt: ResourceType) -> None:
        informer = self._factory.informer(rt)
        informer.add_event_handler(
            on_add=self._content_changed,
            on_update=lambda _old, new: self._content_changed(new),
            on_delete=self._content_changed,
        )
        self._contents[rt] = informer

    def _kind_changed(self, rt: ResourceType, added: bool) -> None:
        """Rule 3 for kinds that come and go at run time (the store follows the scheme first)."""
        if not rt.namespaced:
            return
        if added and rt in self._stores and rt not in self._contents:
            self._follow_contents(rt)
            self._factory.start()
        elif not added and self._contents.pop(rt, None) is not None:
            self._factory.remove(rt)

    def _namespace_changed(self, namespace: m.JSONObject) -> None:
        """Rule 5: the first sight of a terminating namespace starts its grace period."""
        name = m.name_of(namespace)
        if _terminating(namespace) and name not in self._seen_terminating:
            self._seen_terminating.add(name)
            self._in_grace.add(name)
            asyncio.get_running_loop().call_later(self._deletion_grace, self._grace_over, name)

    def _grace_over(self, name: str) -> None:
        self._in_grace.discard(name)
        self.queue.add(name)

    def _namespace_deleted(self, namespace: m.JSONObject) -> None:
        self._seen_terminating.discard(m.name_of(namespace))

    def _content_changed(self, obj: m.JSONObject) -> None:
        """Rule 3: an object in a terminating namespace changed, so may the namespace."""
        namespace = m.namespace_of(obj)
        if _terminating(self.cached(namespace)) and namespace not in self._in_grace:
            self.queue.add(namespace)

    async def reconcile(self, key: str) -> float | None:
        if not _terminating(self.cached(key)) or key in self._in_grace:
            return None  # in grace: its end brings the namespace back (rule 5)
        remaining = 0
        for rt, informer in list(self._contents.items()):
            store = self._stores.get(rt)
            for item in list(informer.in_namespace(key)):
                remaining += 1
                if store is None or m.metadata(item).get("deletionTimestamp"):
                    continue  # being deleted: its own finalizers or its node decide when
                with contextlib.suppress(NotFound, Conflict):
                    await store.delete(key, m.name_of(item))
        if remaining or not await self._empty_in_storage(key):
            return None  # the deletions' events bring the namespace back here (rule 3)
        await self._finish(key)
        return None

    async def _empty_in_storage(self, namespace: str) -> bool:
        """Rule 4."""
        for rt in list(self._contents):
            store = self._stores.get(rt)
            if store is None:
                continue  # no longer served
            listed = await store.list(namespace, ListOptions(limit=1))
            if listed["items"]:
                return False
        return True

    async def _finish(self, name: str) -> None:
        def clear(obj: m.JSONObject) -> m.JSONObject:
            obj.setdefault("spec", {})["finalizers"] = []
            return obj

        try:
            await self._stores[NAMESPACES].guaranteed_update("", name, clear)
        except NotFound:
            return
        log.info("namespace %s: empty, finalizer cleared", name)
