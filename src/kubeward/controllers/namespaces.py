"""Namespace lifecycle: the default namespaces (API server), and the deletion of a terminating
namespace's contents (the controller-manager's ``namespace`` controller).

Rules:
 1. ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist from the start
    (the API server creates them, as kube-apiserver's system-namespaces controller does).
 2. Deleting a namespace marks it ``Terminating``; the controller then deletes everything in it,
    as an API client under its own identity (``system:controller:namespace-controller`` may
    list, delete and deletecollection anything), and once it is empty removes the
    ``kubernetes`` finalizer through ``namespaces/NAME/finalize`` so that the namespace itself
    goes. Objects with finalizers of their own (or pods waiting for their node) keep the
    namespace until they are gone.
 3. What a namespace may hold comes from the API server's discovery (``controllers.discovery``:
    every namespaced kind that can be listed and deleted), looked at again when a namespace's
    deletion begins, so custom resources are deleted too. Kinds that can be watched (all but
    events) are followed through the manager's shared informers: a namespace is looked at again
    when it changes and whenever an object in it is added, changed or deleted while it is
    terminating, so the deletion of the last object finishes the namespace, without a timer.
    The others (events) are deleted with one deletecollection per pass; their kind cannot be
    followed, so if one of them is still there the namespace is looked at again after
    ``UNFOLLOWED_RECHECK_SECONDS``.
 4. A kind that supports ``deletecollection`` is emptied with one request per kind; the others
    object by object.
 5. Before the finalizer is removed, the API server is asked (one list per kind, limit 1)
    whether the namespace is empty: an object written just before the namespace was marked,
    whose event has not reached the cache yet, keeps the namespace (its event will bring it
    back here).
 6. Every pass over a terminating namespace reports upstream's deletion conditions in its
    status (``namespace_conditions``): discovery failures, deletion failures, the content and
    the finalizers remaining. A failed deletion is retried (with backoff) after the others.
 7. The contents are left alone for ``deletion_grace`` seconds after the namespace is first seen
    terminating (one timer, as upstream's ``namespaceDeletionGracePeriod``, 5 s there, shorter
    here): ``kubectl delete -f`` of a file that lists a namespace before its objects deletes
    those objects itself, rather than racing the controller to them and meeting NotFound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from kubeward.api import meta as m
from kubeward.api.registry.store import Store
from kubeward.api.resources.core import NAMESPACES
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.discovery import IGNORED
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer
from kubeward.controllers.namespace_conditions import (
    count_finalizers,
    deletion_conditions,
    merged,
    resource_name,
)
from kubeward.errors import AlreadyExists, Conflict, KubewardError, NotFound, StatusError

log = logging.getLogger("kubeward.controllers.namespaces")

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DELETION_GRACE_SECONDS = 0.5
UNFOLLOWED_RECHECK_SECONDS = 1.0
FINALIZER = "kubernetes"

# The namespaced kinds, and the group versions whose discovery failed.
DiscoverContents = Callable[[], Awaitable[tuple[list[ResourceType], list[str]]]]


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


def _followable(rt: ResourceType) -> bool:
    return (rt.group, rt.resource) not in IGNORED and "watch" in rt.verbs


class NamespaceController(Controller):
    """Rules 2-7, keyed by namespace name."""

    name = "namespace"

    def __init__(
        self,
        informers: InformerFactory,
        client: APIClient,
        kinds: list[ResourceType],
        *,
        discover: DiscoverContents | None = None,
        deletion_grace: float = DELETION_GRACE_SECONDS,
    ) -> None:
        """``kinds`` are the namespaced kinds discovery found (``discovery.namespace_contents``);
        ``discover`` finds them again when a namespace's deletion begins (rule 3)."""
        super().__init__(informers.informer(NAMESPACES))
        self._client = client
        self._discover = discover
        self._deletion_grace = deletion_grace
        # Terminating namespaces whose grace period (rule 7) has begun, and those still in it.
        self._seen_terminating: set[str] = set()
        self._in_grace: set[str] = set()
        self._stale = False
        self._discovery_failures: list[str] = []
        self.informer.add_event_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new),
            on_delete=self._namespace_deleted,
        )
        self._factory = informers
        self._contents: dict[ResourceType, Informer] = {}
        self._unfollowed: list[ResourceType] = []
        self._use(kinds)
        self.depends_on(*self._contents.values())

    def _use(self, kinds: list[ResourceType]) -> None:
        """Rule 3: follow the followable kinds (new ones start now), delete the rest by request."""
        self._unfollowed = [rt for rt in kinds if rt.namespaced and not _followable(rt)]
        for rt in kinds:
            if rt.namespaced and _followable(rt) and rt not in self._contents:
                self._follow_contents(rt)
        wanted = set(kinds)
        for rt in [rt for rt in self._contents if rt not in wanted]:
            del self._contents[rt]  # no longer served; the informer is the factory's to stop

    def _follow_contents(self, rt: ResourceType) -> None:
        informer = self._factory.informer(rt)
        informer.add_event_handler(
            on_add=self._content_changed,
            on_update=lambda _old, new: self._content_changed(new),
            on_delete=self._content_changed,
        )
        self._contents[rt] = informer

    def _namespace_changed(self, namespace: m.JSONObject) -> None:
        """Rule 7: the first sight of a terminating namespace starts its grace period."""
        name = m.name_of(namespace)
        if _terminating(namespace) and name not in self._seen_terminating:
            self._seen_terminating.add(name)
            self._in_grace.add(name)
            asyncio.get_running_loop().call_later(self._deletion_grace, self._grace_over, name)

    def _grace_over(self, name: str) -> None:
        self._in_grace.discard(name)
        self._stale = True  # rule 3: discovery again before this deletion
        self.queue.add(name)

    def _namespace_deleted(self, namespace: m.JSONObject) -> None:
        self._seen_terminating.discard(m.name_of(namespace))

    def _content_changed(self, obj: m.JSONObject) -> None:
        """Rule 3: an object in a terminating namespace changed, so may the namespace."""
        namespace = m.namespace_of(obj)
        if _terminating(self.cached(namespace)) and namespace not in self._in_grace:
            self.queue.add(namespace)

    async def _rediscover(self) -> None:
        if not self._stale or self._discover is None:
            return
        self._stale = False
        try:
            kinds, self._discovery_failures = await self._discover()
        except KubewardError as exc:
            log.warning("namespace controller: discovery failed: %s", exc)
            self._discovery_failures = [str(exc)]
            return  # the kinds known so far still serve; the next deletion tries again
        self._use(kinds)
        self._factory.start()

    async def reconcile(self, key: str) -> float | None:
        if not _terminating(self.cached(key)) or key in self._in_grace:
            return None  # in grace: its end brings the namespace back (rule 7)
        await self._rediscover()
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        failures: dict[str, StatusError] = {}
        for rt, informer in list(self._contents.items()):
            items = list(informer.in_namespace(key))
            if items:
                remaining[resource_name(rt.group, rt.resource)] = len(items)
                count_finalizers(items, finalizers)
            live = [i for i in items if not m.metadata(i).get("deletionTimestamp")]
            if live:  # being deleted: its own finalizers or its node decide when
                await self._try_delete(rt, key, live, failures)
        for rt in self._unfollowed:
            await self._try_delete(rt, key, None, failures)
        await self._report(key, remaining, finalizers, failures)
        if failures:
            raise next(iter(failures.values()))  # retried with backoff (rule 6)
        if remaining:
            return None  # the deletions' events bring the namespace back here (rule 3)
        left = await self._left_in_storage(key)
        if left is None:
            await self._finish(key)
            return None
        if left in self._contents:
            return None  # its events bring the namespace back (rule 5)
        return UNFOLLOWED_RECHECK_SECONDS

    async def _try_delete(
        self,
        rt: ResourceType,
        namespace: str,
        items: list[m.JSONObject] | None,
        failures: dict[str, StatusError],
    ) -> None:
        try:
            await self._delete_contents(rt, namespace, items)
        except StatusError as exc:
            failures[resource_name(rt.group, rt.resource)] = exc

    async def _report(
        self,
        name: str,
        remaining: dict[str, int],
        finalizers: dict[str, int],
        failures: dict[str, StatusError],
    ) -> None:
        """Rule 6: write the deletion conditions when they changed."""
        namespace = self.cached(name)
        if namespace is None:
            return
        wanted = deletion_conditions(
            discovery_failures=self._discovery_failures,
            content_failures={k: v.message for k, v in failures.items()},
            remaining=remaining,
            finalizers=finalizers,
        )
        status = namespace.get("status") or {}
        conditions = merged(status.get("conditions") or [], wanted, m.format_time(m.now()))
        if conditions is None:
            return
        body = {**namespace, "status": {**status, "conditions": conditions}}
        # A stale cache meets Conflict: the next pass, on the newer namespace, writes them.
        with contextlib.suppress(NotFound, Conflict):
            await self._client.update(NAMESPACES, body, subresource="status")

    async def _delete_contents(
        self, rt: ResourceType, namespace: str, items: list[m.JSONObject] | None
    ) -> None:
        """Rule 4 (``items`` None: whatever the server has)."""
        if "deletecollection" in rt.verbs:
            with contextlib.suppress(NotFound):
                await self._client.request(
                    "DELETE",
                    self._client.path(rt, namespace),
                    body={"kind": "DeleteOptions", "apiVersion": "v1"},
                )
            return
        if items is None:
            try:
                listed = await self._client.list(rt, namespace)
            except NotFound:
                return
            items = [
                i for i in listed.get("items") or [] if not m.metadata(i).get("deletionTimestamp")
            ]
        for item in items:
            with contextlib.suppress(NotFound, Conflict):
                await self._client.delete(rt, m.name_of(item), namespace)

    async def _left_in_storage(self, namespace: str) -> ResourceType | None:
        """Rule 5: a kind with something left in the namespace, or None when it is empty."""
        for rt in [*self._contents, *self._unfollowed]:
            try:
                listed = await self._client.list(rt, namespace, params={"limit": "1"})
            except NotFound:
                continue  # no longer served
            if listed.get("items"):
                return rt
        return None

    async def _finish(self, name: str) -> None:
        """Rule 2: remove our finalizer, leaving any other to its owner."""
        namespace = self.cached(name)
        if namespace is None:
            return
        spec = namespace.get("spec") or {}
        finalizers = list(spec.get("finalizers") or [])
        if FINALIZER not in finalizers:
            return
        body = {
            **namespace,
            "spec": {**spec, "finalizers": [f for f in finalizers if f != FINALIZER]},
        }
        try:
            await self._client.update(NAMESPACES, body, subresource="finalize")
        except NotFound:
            return
        log.info("namespace %s: empty, finalizer removed", name)
