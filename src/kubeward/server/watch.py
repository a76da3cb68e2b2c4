"""Watch fan-out: one storage stream per resource, shared by every watcher of it.

A :class:`Broadcaster` reads the backend's watch for one resource type and keeps a window of
recent events, like kube-apiserver's watch cache. Rules:

 1. A watcher that starts at a revision inside the window gets the buffered events after it,
    then live events, with nothing lost or repeated: the replay and the registration happen
    without yielding to the event loop in between.
 2. A watcher that starts at a compacted revision gets 410 Expired; one that starts before the
    window but after compaction gets its own storage watch.
 3. A watcher that falls more than ``queue_size`` events behind is ended with 410 Expired rather
    than slowing the writers or the other watchers; the client relists, as clients do.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncGenerator

from kubeward.api.registry.store import Store, WatchEvent
from kubeward.errors import Gone

log = logging.getLogger(__name__)

_END = object()


class _Subscriber:
    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self.overflowed = False

    def offer(self, item: object) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            # Make room for the end marker so the reader wakes and learns it fell behind.
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(_END)


class Broadcaster:
    def __init__(self, store: Store, *, window: int = 4096, queue_size: int = 4096) -> None:
        self.store = store
        self._window: collections.deque[WatchEvent] = collections.deque(maxlen=window)
        self._covered_after = (
            0  # every event with revision > this is in the window or was evicted after it
        )
        self._subscribers: set[_Subscriber] = set()
        self._queue_size = queue_size
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closed = False

    async def start(self) -> None:
        if self._task is None:
            self._covered_after = await self.store.backend.current_revision()
            self._task = asyncio.create_task(self._pump(self._covered_after))
        await self._ready.wait()

    async def _pump(self, from_revision: int) -> None:
        self._ready.set()
        try:
            async for event in self.store.watch_from("", from_revision):
                if len(self._window) == self._window.maxlen:
                    self._covered_after = self._window[0].revision
                self._window.append(event)
                for sub in list(self._subscribers):
                    sub.offer(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the storage stream broke: end every watcher so clients relist
            log.warning("watch stream for %s ended: %s", self.store.rt.resource, exc)
        finally:
            self._closed = True
            for sub in list(self._subscribers):
                sub.offer(_END)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def events(self, from_revision: int) -> AsyncGenerator[WatchEvent, None]:
        """Every event after ``from_revision``, then live ones, until the server stops."""
        await self.start()
        compacted = await self.store.backend.compacted_revision()
        if from_revision < compacted:
            raise Gone(f"too old resource version: {from_revision} ({compacted + 1})")
        if from_revision < self._covered_after:
            async for event in self.store.watch_from("", from_revision):
                yield event
            return
        sub = _Subscriber(self._queue_size)
        for event in self._window:
            if event.revision > from_revision:
                sub.offer(event)
        self._subscribers.add(sub)
        try:
            if self._closed:
                return
            while True:
                item = await sub.queue.get()
                if item is _END:
                    if sub.overflowed:
                        raise Gone("the watcher fell too far behind; relist and watch again")
                    return
                assert isinstance(item, WatchEvent)
                yield item
        finally:
            self._subscribers.discard(sub)


class Broadcasters:
    """One broadcaster per resource type, started on first use."""

    def __init__(self) -> None:
        self._by_store: dict[int, Broadcaster] = {}

    def for_store(self, store: Store) -> Broadcaster:
        found = self._by_store.get(id(store))
        if found is None:
            found = Broadcaster(store)
            self._by_store[id(store)] = found
        return found

    async def discard(self, store: Store) -> None:
        """Stop the broadcaster of a store no longer served: its watchers' streams end."""
        found = self._by_store.pop(id(store), None)
        if found is not None:
            await found.close()

    async def close(self) -> None:
        for broadcaster in self._by_store.values():
            await broadcaster.close()
