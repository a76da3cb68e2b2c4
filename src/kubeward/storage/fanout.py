"""Watch fan-out inside one process: the write path feeds every watcher; nobody polls.

A backend owns one :class:`WatchHub`. After each acknowledged write (or batch of writes) the
backend calls :meth:`WatchHub.publish` on the event loop, and the hub appends the events to the
buffer of every subscription whose prefix matches. :func:`stream_events` turns a subscription
plus the backend's history into the iterator ``Backend.watch`` returns. Rules:

 1. A watcher subscribes first and notes the hub's revision R at that instant (no await in
    between), then replays history in (from_revision, R] from the log, then yields its buffered
    live events, which are exactly those above R. Nothing is lost or repeated across the seam.
 2. Publishing never blocks and never waits for a watcher: each subscription has a bounded
    buffer (``capacity`` events).
 3. A watcher that lets its buffer fill is *detached*, not ended: its buffer is dropped and, when
    it next reads, it catches up from the log from the last event it yielded and then
    subscribes again — what etcd does with its "unsynced" watchers. A slow watcher therefore
    costs the writers nothing and costs memory only up to ``capacity``. It ends with
    ``CompactedError`` only if the history it must catch up from has been compacted meanwhile;
    the API layer answers that with 410 Expired and the client relists.
 4. When the hub closes every watcher ends after yielding what it already had buffered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence

from kubeward.errors import CompactedError
from kubeward.storage.interfaces import Event

HistoryReader = Callable[[str, int, int, int], Awaitable[list[Event]]]
"""``(prefix, after, upto, limit)`` → up to ``limit`` events under ``prefix`` with revisions in
``(after, upto]``, in order; raises ``CompactedError`` if ``after`` is below the compacted revision."""

HISTORY_PAGE = 1000


class Subscription:
    """One watcher's live feed: a bounded buffer and a way to wait on it."""

    __slots__ = (
        "_capacity",
        "_events",
        "_waiter",
        "closed",
        "overflowed",
        "prefix",
        "start_revision",
    )

    def __init__(self, prefix: str, start_revision: int, capacity: int) -> None:
        self.prefix = prefix
        self.start_revision = start_revision
        self.closed = False
        self.overflowed = False
        self._capacity = capacity
        self._events: list[Event] = []
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, event: Event) -> bool:
        """Buffer ``event``; False if the buffer was full and the subscription is now detached."""
        if len(self._events) >= self._capacity:
            self.overflowed = True
            self._events = []
            self._wake()
            return False
        self._events.append(event)
        waiter = self._waiter  # _wake() inlined: this runs once per event per watcher
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def end(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_batch(self) -> list[Event]:
        """Every buffered event, waiting for one if need be; [] once closed or detached."""
        while not self._events:
            if self.closed or self.overflowed:
                return []
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        batch, self._events = self._events, []
        return batch


class WatchHub:
    """Every live subscription of one backend, grouped by prefix."""

    def __init__(self, capacity: int, revision: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"watch buffer capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.revision = revision
        self.closed = False
        self._by_prefix: dict[str, set[Subscription]] = {}

    @property
    def has_subscribers(self) -> bool:
        return bool(self._by_prefix)

    def subscribe(self, prefix: str) -> Subscription:
        sub = Subscription(prefix, self.revision, self.capacity)
        if self.closed:
            sub.end()
        else:
            self._by_prefix.setdefault(prefix, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        group = self._by_prefix.get(sub.prefix)
        if group is not None:
            group.discard(sub)
            if not group:
                del self._by_prefix[sub.prefix]

    def publish(self, revision: int, events: Sequence[Event]) -> None:
        """Record that writes up to ``revision`` are acknowledged and hand out their events.

        ``events`` are in revision order; callers may pass [] when ``has_subscribers`` is false.
        """
        if revision < self.revision:
            raise ValueError(f"revision went backwards: {revision} < {self.revision}")
        self.revision = revision
        detached: list[Subscription] = []
        for event in events:
            for prefix, group in self._by_prefix.items():
                if event.key.startswith(prefix):
                    for sub in group:
                        if not sub.offer(event):
                            detached.append(sub)
            if detached:
                for sub in detached:
                    self.unsubscribe(sub)
                detached.clear()

    def close(self) -> None:
        self.closed = True
        groups, self._by_prefix = self._by_prefix, {}
        for group in groups.values():
            for sub in group:
                sub.end()


async def stream_events(
    hub: WatchHub,
    prefix: str,
    from_revision: int,
    read_history: HistoryReader,
    compacted_revision: int,
) -> AsyncGenerator[Event, None]:
    """The iterator behind ``Backend.watch`` (rules 1, 3 and 4).

    Raises:
        CompactedError: ``from_revision`` (or the point a detached watcher must resume from) is
            below the compacted revision.
    """
    if from_revision < 0:
        raise ValueError(f"from_revision must be >= 0, got {from_revision}")
    if from_revision < compacted_revision:
        raise CompactedError(from_revision, compacted_revision)
    position = from_revision
    while not hub.closed:
        sub = hub.subscribe(prefix)
        try:
            while position < sub.start_revision:
                page = await read_history(prefix, position, sub.start_revision, HISTORY_PAGE)
                for event in page:
                    yield event
                # A short page means the history up to the subscription is exhausted.
                full = len(page) == HISTORY_PAGE
                position = page[-1].revision if full else sub.start_revision
                if hub.closed:
                    return
            while batch := await sub.next_batch():
                for event in batch:
                    if event.revision > position:
                        position = event.revision
                        yield event
        finally:
            hub.unsubscribe(sub)
