"""Watch fan-out: one storage stream per resource, shared by every watcher of it.

A :class:`Broadcaster` reads the backend's watch for one resource type into one shared log
of recent events, like kube-apiserver's watch cache. Each watcher holds only a cursor into
that log and takes, in one batch, everything after its cursor. A watcher is read in one of two
ways: in-process users pull batches (:meth:`WatchStream.next_batch`); an HTTP watch attaches
a :class:`WatchSink`, and the broadcaster pushes each watcher's pending batch into it from one
flush per burst of events — no task switch per watcher, one write per connection per flush.
Rules:

 1. A watcher that starts at a revision inside the log gets the logged events after it, then
    live events, with nothing lost or repeated: its cursor is placed and it is registered
    without yielding to the event loop in between.
 2. A watcher that starts at a compacted revision gets 410 Expired; one that starts before the
    log but after compaction gets its own storage watch, read no faster than the watcher takes
    its events, through a bounded buffer of ``window`` events.
 3. Publishing never waits for a watcher, and a slow watcher costs no memory of its own here:
    the log keeps between ``window`` and 1.25 × ``window`` events, shared. A sink that is not
    ready (its connection's buffer is full) is skipped and retried. A watcher whose cursor
    falls out of the log (more than ``window`` events behind) is ended with 410 Expired, and
    its ``on_overflow`` callback runs, which the HTTP handler uses to close a connection that
    has stopped reading. The client relists, as clients do (kube-apiserver likewise closes a
    watcher whose buffer overflows).
 4. Flushes are coalesced: the next one starts no sooner than the last one took, so pushing
    takes at most half of the event loop and, under load, each write carries more events
    instead of the loop falling behind. With few watchers a flush is immediate.
 5. When the storage stream ends every watcher ends after the events it already had.
 6. ``reached`` is a revision up to which every event of the resource is in the log: the last
    event published, or the storage's progress (storage/interfaces.py rule 7; etcd's progress
    notifications) when that is newer. A live watcher with nothing pending has seen every event
    up to it, so it may be given a bookmark at it (:meth:`WatchStream.bookmark_revision`) even
    if nothing of its kind changed, as kube-apiserver's watch cache does with etcd's progress.
    A watcher fed by its own storage watch (rule 2) is given that watch's progress likewise.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Protocol

from kubeward.api.registry.store import Store, WatchEvent
from kubeward.errors import Gone

log = logging.getLogger(__name__)

FELL_BEHIND = "the watcher fell too far behind; relist and watch again"
# A sink that was not ready is tried again after this long even if no event comes (rule 3).
_RETRY_SECONDS = 0.05


class WatchSink(Protocol):
    """Where a pushed watcher's events go (an HTTP connection)."""

    def ready(self) -> bool:
        """True when the sink can take a batch now (its connection's buffer has room).

        Raising ends the watcher with that error, as from :meth:`deliver`.
        """

    def deliver(self, batch: list[WatchEvent], shared: dict[object, bytes]) -> None:
        """Take ``batch`` at once, without waiting; raising ends the watcher with that error.

        ``shared`` is the same dict for every watcher handed this same batch in one flush, so
        that watchers that encode it alike encode it once.
        """


class WatchStream:
    """One watcher's events, in batches: everything pending at each read or push."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self._error: Exception | None = None
        self._sink: WatchSink | None = None
        self.ended = False
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None

    def _take(self) -> list[WatchEvent]:
        raise NotImplementedError

    def _has_pending(self) -> bool:
        raise NotImplementedError

    def end(self, error: Exception | None = None) -> None:
        """No more events; ``error`` is raised to the reader after the pending ones."""
        if not self.ended:
            self._error = error
        self.ended = True
        self._wake()

    def overflow(self) -> None:
        """Rule 3: the watcher fell too far behind; it ends with 410 Expired."""
        if self.overflowed:
            return
        self.overflowed = True
        self.end()
        if self.on_overflow is not None:
            self.on_overflow()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def attach(self, sink: WatchSink) -> None:
        """Push every batch into ``sink`` from now on, starting with what is pending."""
        self._sink = sink
        self._push()

    def _push(self, pool: dict[int, dict[object, bytes]] | None = None) -> bool:
        """Deliver what is pending to the sink; False if the sink was not ready for it.

        ``pool`` holds one flush's shared encodings by the batch's first revision: every batch
        of a flush ends at the end of the log, so its first event says what it holds.
        """
        sink = self._sink
        if sink is None or self.ended or not self._has_pending():
            return True
        # A sink that fails ends its own watcher and nobody else's: the flush goes on.
        try:
            if not sink.ready():
                return False
            batch = self._take()
            if batch:
                sink.deliver(batch, {} if pool is None else pool.setdefault(batch[0].revision, {}))
        except Exception as exc:  # the connection went away: the watcher ends with it
            self.end(exc)
        return True

    def bookmark_revision(self, delivered: int) -> int:
        """The revision a bookmark may carry now, given the last one ``delivered`` (rule 6)."""
        return delivered

    async def wait_end(self, timeout: float) -> bool:
        """For an attached stream: wait up to ``timeout`` s; True once the stream has ended.

        Raises:
            Gone: the watcher fell too far behind (rule 3).
            Exception: what ended the stream (a failed delivery, a private feed's error).
        """
        if not self.ended:
            await self._sleep(timeout)
        if self.overflowed:
            raise Gone(FELL_BEHIND)
        if self.ended and self._error is not None:
            raise self._error
        return self.ended

    async def next_batch(self, timeout: float) -> list[WatchEvent]:
        """Every pending event, waiting up to ``timeout`` seconds for one.

        Returns [] when the time ran out or the stream ended (``ended`` tells which).

        Raises:
            Gone: the watcher fell too far behind (rule 3).
            Exception: whatever ended a private storage feed (rule 2), after its last events.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not self.ended and not self._has_pending():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._sleep(remaining)
            if self.overflowed:
                raise Gone(FELL_BEHIND)
            batch = self._take()
            if batch:
                return batch
            if self.ended:
                if self._error is not None:
                    raise self._error
                return []

    async def _sleep(self, timeout: float) -> None:
        """Until woken (an event, the end) or ``timeout`` seconds pass (inf: no timer)."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _resolve, waiter) if timeout != math.inf else None
        try:
            await self._wait(waiter)
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    async def _wait(self, waiter: asyncio.Future[None]) -> None:
        await waiter


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _LiveStream(WatchStream):
    """A cursor into a broadcaster's log (rules 1 and 3)."""

    def __init__(self, broadcaster: Broadcaster, cursor: int, after: int) -> None:
        super().__init__()
        self._broadcaster = broadcaster
        self.cursor = cursor  # the sequence number of the next event to hand out
        # The watch starts after this revision; the log may not have caught up to it yet.
        self._after = after

    def _has_pending(self) -> bool:
        return self.cursor < self._broadcaster._next_seq

    def bookmark_revision(self, delivered: int) -> int:
        if self.ended or self._has_pending():
            return delivered
        return max(delivered, self._broadcaster.reached)

    def attach(self, sink: WatchSink) -> None:
        super().attach(sink)
        if not self.ended:
            self._broadcaster._pushed.add(self)

    async def _wait(self, waiter: asyncio.Future[None]) -> None:
        if self._sink is not None:  # pushed: the broadcaster's flush delivers, not this task
            await waiter
            return
        idle = self._broadcaster._idle
        idle.add(self)
        try:
            await waiter
        finally:
            idle.discard(self)

    def _take(self) -> list[WatchEvent]:
        b = self._broadcaster
        batch = b._log[self.cursor - b._first_seq :]
        self.cursor = b._next_seq
        if batch and batch[0].revision <= self._after:
            batch = [event for event in batch if event.revision > self._after]
        return batch


class _PrivateStream(WatchStream):
    """A bounded buffer fed from the watcher's own storage watch (rule 2)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit
        self._events: list[WatchEvent] = []
        self._space: asyncio.Future[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self.reached = 0  # rule 6, from its own storage watch

    def _push(self, pool: dict[int, dict[object, bytes]] | None = None) -> bool:
        delivered = super()._push(pool)
        if not delivered and self._retry is None:  # no broadcaster flush comes for this one
            self._retry = asyncio.get_running_loop().call_later(_RETRY_SECONDS, self._retry_push)
        return delivered

    def _retry_push(self) -> None:
        self._retry = None
        self._push()

    def end(self, error: Exception | None = None) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        super().end(error)

    def _has_pending(self) -> bool:
        return bool(self._events)

    def progress(self, revision: int) -> None:
        """The private storage watch's progress (rule 6): every event up to it is buffered."""
        self.reached = max(self.reached, revision)

    def bookmark_revision(self, delivered: int) -> int:
        if self.ended or self._events:
            return delivered
        return max(delivered, self.reached)

    async def put(self, event: WatchEvent) -> None:
        """Append ``event``, waiting while the buffer is full (or the sink is not ready)."""
        while len(self._events) >= self._limit and not self.ended:
            if self._sink is not None:
                if not self._push():
                    await asyncio.sleep(_RETRY_SECONDS)
                continue
            self._space = asyncio.get_running_loop().create_future()
            try:
                await self._space
            finally:
                self._space = None
        if not self.ended:
            self._events.append(event)
            self._wake()
            self._push()

    def _take(self) -> list[WatchEvent]:
        batch, self._events = self._events, []
        space = self._space
        if space is not None and not space.done():
            space.set_result(None)
        return batch


class Broadcaster:
    def __init__(self, store: Store, *, window: int = 4096) -> None:
        self.store = store
        self._window = window
        self._log: list[WatchEvent] = []
        self._first_seq = 0  # the sequence number of _log[0]
        self._next_seq = 0  # the sequence number the next event gets
        # Every event with a revision above this is in the log (or came after it was trimmed).
        self._covered_after = 0
        self.reached = 0  # rule 6
        self._live: set[_LiveStream] = set()
        self._idle: set[_LiveStream] = set()  # pulled streams waiting for an event
        self._pushed: set[_LiveStream] = set()  # streams with a sink
        self._flush_handle: asyncio.Handle | None = None
        self._next_flush_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closed = False

    async def start(self) -> None:
        if self._task is None:
            self._covered_after = await self.store.backend.current_revision()
            self.reached = self._covered_after
            self._task = asyncio.create_task(self._pump(self._covered_after))
        await self._ready.wait()

    async def _pump(self, from_revision: int) -> None:
        self._ready.set()
        try:
            async for event in self.store.watch_from("", from_revision, on_progress=self._progress):
                self._publish(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the storage stream broke: end every watcher so clients relist
            log.warning("watch stream for %s ended: %s", self.store.rt.resource, exc)
        finally:
            self._closed = True
            if self._flush_handle is not None:
                self._flush_handle.cancel()
                self._flush_handle = None
            self._flush()
            for stream in list(self._live):
                stream.end()

    def _progress(self, revision: int) -> None:
        """Rule 6: the storage says every event up to ``revision`` has come."""
        self.reached = max(self.reached, revision)

    def _publish(self, event: WatchEvent) -> None:
        self.reached = max(self.reached, event.revision)
        self._log.append(event)
        self._next_seq += 1
        if self._idle:
            idle, self._idle = self._idle, set()
            for stream in idle:
                stream._wake()
        if self._pushed and self._flush_handle is None:
            self._schedule_flush(self._next_flush_at)
        if len(self._log) >= self._window + self._window // 4:
            self._trim()

    def _schedule_flush(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        delay = at - loop.time()
        if delay > 0:
            self._flush_handle = loop.call_later(delay, self._flush)
        else:
            self._flush_handle = loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Push every attached watcher's pending batch (rule 4 spaces these out)."""
        self._flush_handle = None
        loop = asyncio.get_running_loop()
        cpu_started = time.thread_time()
        blocked = False
        pool: dict[int, dict[object, bytes]] = {}  # watchers given the same batch share encodings
        for stream in list(self._pushed):
            if stream.ended:
                self._pushed.discard(stream)
            elif not stream._push(pool):
                blocked = True
        # The gap is the flush's CPU time, not its wall time: time the process spent descheduled
        # on a busy machine is no reason to hold events back longer.
        finished = loop.time()
        self._next_flush_at = finished + (time.thread_time() - cpu_started)
        if blocked and not self._closed:
            self._schedule_flush(max(self._next_flush_at, finished + _RETRY_SECONDS))

    def _trim(self) -> None:
        """Rule 3: keep the newest ``window`` events; end the watchers left behind."""
        if self._flush_handle is not None:  # deliver first: a pushed watcher loses nothing
            self._flush_handle.cancel()
            self._flush()
        cut = len(self._log) - self._window
        self._covered_after = self._log[cut - 1].revision
        del self._log[:cut]
        self._first_seq += cut
        behind = [stream for stream in self._live if stream.cursor < self._first_seq]
        for stream in behind:
            self._live.discard(stream)
            self._pushed.discard(stream)
            stream.overflow()

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
        if from_revision < self._covered_after:
            private = _PrivateStream(self._window)
            feed = asyncio.create_task(self._feed_from_storage(private, from_revision))
            try:
                yield private
            finally:
                private.end()
                feed.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feed
            return
        # Rule 1: no await between placing the cursor and registering the stream.
        skip = bisect.bisect_right(self._log, from_revision, key=_revision)
        live = _LiveStream(self, self._first_seq + skip, from_revision)
        if self._closed:
            live.end()
        else:
            self._live.add(live)
        try:
            yield live
        finally:
            self._live.discard(live)
            self._idle.discard(live)
            self._pushed.discard(live)

    async def _feed_from_storage(self, stream: _PrivateStream, from_revision: int) -> None:
        error: Exception | None = None
        try:
            async for event in self.store.watch_from(
                "", from_revision, on_progress=stream.progress
            ):
                await stream.put(event)
                if stream.ended:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # compacted meanwhile (Gone) or storage trouble: tell the reader
            error = exc
        finally:
            stream.end(error)

    async def events(self, from_revision: int) -> AsyncGenerator[WatchEvent, None]:
        """Every event after ``from_revision``, then live ones, one at a time (in-process users)."""
        async with self.stream(from_revision) as stream:
            while True:
                batch = await stream.next_batch(math.inf)
                if not batch and stream.ended:
                    return
                for event in batch:
                    yield event


def _revision(event: WatchEvent) -> int:
    return event.revision


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
