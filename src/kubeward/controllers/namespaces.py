"""Namespace lifecycle inside the API server, driven by events (nothing polls).

Rules:
 1. ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist from the start.
 2. Deleting a namespace marks it ``Terminating``; the controller then deletes everything in it,
    and once it is empty clears ``spec.finalizers`` so that the namespace itself goes. Objects
    with finalizers of their own (or pods waiting for their node) keep the namespace until
    they are gone.
 3. The controller follows namespaces and every namespaced kind through shared informers
    (``controllers.factory``). A namespace is looked at again when it changes and whenever an
    object in it is added, changed or deleted while it is terminating; so the deletion of the
    last object finishes the namespace, without a timer.
 4. Before the finalizer is cleared, storage itself is asked (one list per kind, limit 1) whether
    the namespace is empty: an object written just before the namespace was marked, whose event
    has not reached the cache yet, keeps the namespace (its event will bring it back here).
"""

from __future__ import annotations

import contextlib
import logging

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import NAMESPACES
from kubeward.api.scheme import ResourceType
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer
from kubeward.errors import AlreadyExists, Conflict, NotFound

log = logging.getLogger("kubeward.controllers.namespaces")

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


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

    def __init__(self, stores: dict[ResourceType, Store], informers: InformerFactory) -> None:
        super().__init__(informers.informer(NAMESPACES))
        self._stores = stores
        self._contents: dict[ResourceType, Informer] = {
            rt: informers.informer(rt) for rt in stores if rt.namespaced
        }
        for informer in self._contents.values():
            informer.add_event_handler(
                on_add=self._content_changed,
                on_update=lambda _old, new: self._content_changed(new),
                on_delete=self._content_changed,
            )
        self.depends_on(*self._contents.values())

    def _content_changed(self, obj: m.JSONObject) -> None:
        """Rule 3: an object in a terminating namespace changed, so may the namespace."""
        namespace = m.namespace_of(obj)
        if _terminating(self.cached(namespace)):
            self.queue.add(namespace)

    async def reconcile(self, key: str) -> float | None:
        if not _terminating(self.cached(key)):
            return None
        remaining = 0
        for rt, informer in self._contents.items():
            for item in informer.in_namespace(key):
                remaining += 1
                if m.metadata(item).get("deletionTimestamp"):
                    continue  # being deleted: its own finalizers or its node decide when
                with contextlib.suppress(NotFound, Conflict):
                    await self._stores[rt].delete(key, m.name_of(item))
        if remaining or not await self._empty_in_storage(key):
            return None  # the deletions' events bring the namespace back here (rule 3)
        await self._finish(key)
        return None

    async def _empty_in_storage(self, namespace: str) -> bool:
        """Rule 4."""
        for rt in self._contents:
            listed = await self._stores[rt].list(namespace, ListOptions(limit=1))
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
