"""Watch fan-out: one storage stream per resource, shared by every watcher of it.

A :class:`Broadcaster` reads the backend's watch for one resource type and keeps a window of
recent events, like kube-apiserver's watch cache. Each watcher reads a :class:`WatchStream`
in batches: everything that arrived since its last read, so that an HTTP watch writes what a
connection has pending in one write however many events it is behind. Rules:

 1. A watcher that starts at a revision inside the window gets the buffered events after it,
    then live events, with nothing lost or repeated: the replay and the registration happen
    without yielding to the event loop in between.
 2. A watcher that starts at a compacted revision gets 410 Expired; one that starts before the
    window but after compaction gets its own storage watch, read no faster than the watcher
    takes its batches.
 3. Publishing never waits for a watcher. A watcher that falls more than ``queue_size`` events
    behind is ended with 410 Expired rather than slowing the writers or the other watchers: its
    pending events are dropped at once (so a slow watcher holds at most ``queue_size`` events
    here) and its ``on_overflow`` callback runs, which the HTTP handler uses to close a
    connection that has stopped reading. The client relists, as clients do.
 4. When the storage stream ends every watcher ends after the events it already had.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable
from typing import Any

from kubeward.api.registry.store import Store, WatchEvent
from kubeward.errors import Gone

log = logging.getLogger(__name__)

FELL_BEHIND = "the watcher fell too far behind; relist and watch again"


class WatchStream:
    """One watcher's pending events, handed out in batches (rule 3's bounded buffer)."""

    __slots__ = (
        "_error",
        "_events",
        "_limit",
        "_space",
        "_waiter",
        "ended",
        "on_overflow",
        "overflowed",
    )

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._events: list[WatchEvent] = []
        self._waiter: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None
        self._error: Exception | None = None
        self.ended = False
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None

    def offer(self, event: WatchEvent) -> None:
        """Append ``event`` without waiting; a full buffer ends the stream (rule 3)."""
        if self.ended:
            return
        if len(self._events) >= self._limit:
            self.overflowed = True
            self._events = []
            self.end()
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._events.append(event)
        waiter = self._waiter  # _wake() inlined: this runs once per event per watcher
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def put(self, event: WatchEvent) -> None:
        """Append ``event``, waiting while the buffer is full (a private storage feed, rule 2)."""
        while len(self._events) >= self._limit and not self.ended:
            self._space = asyncio.get_running_loop().create_future()
            try:
                await self._space
            finally:
                self._space = None
        if not self.ended:
            self._events.append(event)
            self._wake()

    def end(self, error: Exception | None = None) -> None:
        """No more events; ``error`` is raised to the reader after the pending ones."""
        if not self.ended:
            self._error = error
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_batch(self, timeout: float) -> list[WatchEvent]:
        """Every pending event, waiting up to ``timeout`` seconds for one.

        Returns [] when the time ran out or the stream ended (``ended`` tells which).

        Raises:
            Gone: the watcher fell more than the buffer's limit behind (rule 3).
            Exception: whatever ended a private storage feed (rule 2), after its last events.
        """
        if not self._events and not self.ended:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _resolve, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self.overflowed:
            raise Gone(FELL_BEHIND)
        if not self._events and self._error is not None:
            raise self._error
        batch, self._events = self._events, []
        space = self._space
        if space is not None and not space.done():
            space.set_result(None)
        return batch


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Broadcaster:
    def __init__(self, store: Store, *, window: int = 4096, queue_size: int = 4096) -> None:
        self.store = store
        self._window: collections.deque[WatchEvent] = collections.deque(maxlen=window)
        self._covered_after = (
            0  # every event with revision > this is in the window or was evicted after it
        )
        self._subscribers: set[WatchStream] = set()
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
                    if sub.ended:
                        self._subscribers.discard(sub)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the storage stream broke: end every watcher so clients relist
            log.warning("watch stream for %s ended: %s", self.store.rt.resource, exc)
        finally:
            self._closed = True
            for sub in list(self._subscribers):
                sub.end()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @contextlib.asynccontextmanager
    async def stream(self, from_revision: int) -> AsyncIterator[WatchStream]:
        """A :class:`WatchStream` of every event after ``from_revision``, then live ones.

        Raises:
            Gone: ``from_revision`` is compacted (rule 2).
        """
        await self.start()
        compacted = await self.store.backend.compacted_revision()
        if from_revision < compacted:
            raise Gone(f"too old resource version: {from_revision} ({compacted + 1})")
        sub = WatchStream(self._queue_size)
        if from_revision < self._covered_after:
            feed = asyncio.create_task(self._feed_from_storage(sub, from_revision))
            try:
                yield sub
            finally:
                sub.end()
                feed.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feed
            return
        for event in self._window:
            if event.revision > from_revision:
                sub.offer(event)
        if self._closed:
            sub.end()
        else:
            self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    async def _feed_from_storage(self, sub: WatchStream, from_revision: int) -> None:
        error: Exception | None = None
        try:
            async for event in self.store.watch_from("", from_revision):
                await sub.put(event)
                if sub.ended:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # compacted meanwhile (Gone) or storage trouble: tell the reader
            error = exc
        finally:
            sub.end(error)

    async def events(self, from_revision: int) -> AsyncGenerator[WatchEvent, None]:
        """Every event after ``from_revision``, then live ones, one at a time (in-process users)."""
        async with self.stream(from_revision) as stream:
            while True:
                batch = await stream.next_batch(3600.0)
                if not batch and stream.ended:
                    return
                for event in batch:
                    yield event


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

    async def close(self) -> None:
        for broadcaster in self._by_store.values():
            await broadcaster.close()


async def follow_until_one_ends(followers: Iterable[Coroutine[Any, Any, None]], what: str) -> None:
    """Run watch followers together until the first one ends, then stop the others.

    In-process indexes (RBAC, service accounts) follow several kinds at once; when any stream
    ends (the server stops, a watcher fell behind) they all relist, so they stop together.
    """
    tasks = [asyncio.create_task(follower) for follower in followers]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("%s watch ended, relisting: %s", what, task.exception())
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
