"""Where an informer lists and watches from: the API server over HTTPS, or its own store.

An :class:`~kubeward.controllers.informer.Informer` knows one small interface,
:class:`ListWatchSource` (client-go's ``ListerWatcher``); two implementations exist:

- :class:`ClientSource` — an ordinary API client (:class:`kubeward.client.api.APIClient`). The
  controller-manager uses it, as any controller outside the server would.
- :class:`StoreSource` — the API server's own :class:`~kubeward.api.registry.store.Store`, with
  no HTTP in between. It watches through an :class:`EventFeed`; the server passes its watch
  broadcaster for the store, so an in-process informer costs no storage stream of its own.
  (This module may not import ``kubeward.server``; the broadcaster satisfies the protocol.)

Rules every source keeps:

 1. ``list()`` returns every object with ``apiVersion`` and ``kind`` set, and the revision the
    list was read at.
 2. ``watch(rv)`` yields the events after ``rv`` (``ADDED``, ``MODIFIED``, ``DELETED``,
    ``BOOKMARK``) and may end at any time; it raises :class:`~kubeward.errors.Gone` when ``rv``
    can no longer be watched from (compacted, or the watcher fell too far behind).
 3. A source with a selector reports an object that stops matching as ``DELETED`` and one that
    starts matching as ``ADDED``, as the API server does for a watch with a selector (the
    client source leaves that to the server; the store source does it itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from kubeward.api.meta import JSONObject
from kubeward.api.registry.store import ListOptions, Store, WatchEvent
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient


@dataclass(frozen=True)
class Listed:
    """The result of a list (rule 1)."""

    items: list[JSONObject]
    resource_version: str


@dataclass(frozen=True)
class SourceEvent:
    """One watch event (rule 2)."""

    type: str
    object: JSONObject


class ListWatchSource(Protocol):
    """What an informer lists and watches (client-go's ``ListerWatcher``)."""

    @property
    def resource_type(self) -> ResourceType: ...

    async def list(self) -> Listed: ...

    def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]: ...


class EventFeed(Protocol):
    """The server's fan-out of one store's watch (``server.watch.Broadcaster``)."""

    async def start(self) -> None: ...

    def events(self, from_revision: int) -> AsyncIterator[WatchEvent]: ...


def _typed(items: list[JSONObject], rt: ResourceType) -> list[JSONObject]:
    for item in items:
        item.setdefault("apiVersion", rt.api_version)
        item.setdefault("kind", rt.kind)
    return items


async def _close(events: AsyncIterator[object]) -> None:
    """End an inner stream now, not when it is collected: it may hold a connection open."""
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


class ClientSource:
    """One kind, read through the API server's REST API as the client's identity."""

    def __init__(
        self,
        client: APIClient,
        rt: ResourceType,
        *,
        namespace: str = "",
        field_selector: str = "",
        label_selector: str = "",
        watch_timeout: int = 300,
    ) -> None:
        self.client = client
        self.rt = rt
        self.namespace = namespace
        self.watch_timeout = watch_timeout
        # The server applies the selectors, to the list and to the watch (rule 3).
        self.params: dict[str, str] = {}
        if field_selector:
            self.params["fieldSelector"] = field_selector
        if label_selector:
            self.params["labelSelector"] = label_selector

    @property
    def resource_type(self) -> ResourceType:
        return self.rt

    async def list(self) -> Listed:
        listed = await self.client.list(self.rt, self.namespace, params=self.params or None)
        revision = str((listed.get("metadata") or {}).get("resourceVersion") or "")
        return Listed(_typed(list(listed.get("items") or []), self.rt), revision)

    async def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]:
        events = self.client.watch(
            self.rt,
            self.namespace,
            resource_version=resource_version,
            timeout_seconds=self.watch_timeout,
            params=self.params,
        )
        try:
            async for event in events:
                yield SourceEvent(event.type, event.object)
        finally:
            await _close(events)


class StoreSource:
    """One kind, read from the server's own store (no HTTP, no authorization: the server itself).

    Args:
        store: the kind's store.
        feed: where watch events come from; without one, each watch is a storage watch of its
            own (tests, tools). The server passes ``broadcasters.for_store(store)``.
        namespace: only this namespace ("" for all).
        options: label and field selectors (rule 3); ``limit`` and versions are ignored.
    """

    def __init__(
        self,
        store: Store,
        *,
        feed: EventFeed | None = None,
        namespace: str = "",
        options: ListOptions | None = None,
    ) -> None:
        self.store = store
        self.feed = feed
        self.namespace = namespace
        selectors = options or ListOptions()
        self.options = ListOptions(
            label_selector=selectors.label_selector, field_selector=selectors.field_selector
        )
        self._filtered = not (
            self.options.label_selector.empty and self.options.field_selector.empty
        )

    @property
    def resource_type(self) -> ResourceType:
        return self.store.rt

    async def list(self) -> Listed:
        if self.feed is not None:
            # Started before the list, the feed's window covers the list's revision, so the
            # watch that follows is served from the shared stream rather than its own.
            await self.feed.start()
        listed = await self.store.list(self.namespace, self.options)
        revision = str(listed["metadata"]["resourceVersion"])
        return Listed(_typed(listed["items"], self.store.rt), revision)

    async def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]:
        revision = int(resource_version or "0")
        if self.feed is not None:
            events = self.feed.events(revision)
        else:
            events = self.store.watch_from(self.namespace, revision)
        try:
            async for event in events:
                translated = self._translate(event)
                if translated is not None:
                    yield translated
        finally:
            await _close(events)

    def _translate(self, event: WatchEvent) -> SourceEvent | None:
        obj = event.object
        if self.namespace and self.store.rt.namespaced:
            meta = obj.get("metadata") or {}
            if meta.get("namespace") != self.namespace:
                return None
        if not self._filtered:
            return SourceEvent(event.type, obj)
        matches = self.store.event_matches(event, self.options)
        if event.type != "MODIFIED" or event.previous is None:
            return SourceEvent(event.type, obj) if matches else None
        matched = self.store.event_matches(event, self.options, previous=True)
        if matches and matched:
            return SourceEvent("MODIFIED", obj)
        if matches:
            return SourceEvent("ADDED", obj)
        if matched:
            return SourceEvent("DELETED", obj)
        return None


class StoreSources:
    """Builds :class:`StoreSource`\\ s over the server's stores and its watch fan-out."""

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        feed_for: _FeedFor | None = None,
    ) -> None:
        self.stores = stores
        self.feed_for = feed_for

    def __call__(self, rt: ResourceType) -> StoreSource:
        store = self.stores[rt]
        feed = self.feed_for(store) if self.feed_for is not None else None
        return StoreSource(store, feed=feed)


class _FeedFor(Protocol):
    def __call__(self, store: Store, /) -> EventFeed: ...
