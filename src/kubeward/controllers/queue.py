"""A deduplicating work queue with per-key exponential backoff, as client-go's workqueue.

Rules:

 1. A key waiting in the queue is there once, however often it is added.
 2. A key being processed is never handed to a second worker; added meanwhile, it is queued
    again when the first worker calls ``done``.
 3. ``add_rate_limited`` delays a key by ``base * 2**failures`` (capped at ``maximum``);
    ``forget`` resets its failure count after a success.
 4. ``add_after`` delays a key without counting a failure (deadlines, such as cleaning).
 5. Keys are handed out in the order they were added, unless the queue has a ``priority``:
    then the highest first, in the order added among equals (kube-scheduler's active queue
    orders pods so). A key's priority is read when it is added.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable


class WorkQueue:
    def __init__(
        self,
        *,
        base_delay: float = 0.005,
        max_delay: float = 60.0,
        priority: Callable[[str], int] | None = None,
    ) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._priority = priority
        self._order: list[str] = []
        self._ranked: list[tuple[int, int, str]] = []  # rule 5: (-priority, sequence, key)
        self._sequence = itertools.count()
        self._queued: set[str] = set()
        self._processing: set[str] = set()
        self._dirty: set[str] = set()
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._ready = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._order) + len(self._ranked)

    def add(self, key: str) -> None:
        """Queue ``key`` now (rules 1 and 2)."""
        if self._closed:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        if self._priority is None:
            self._order.append(key)
        else:
            heapq.heappush(self._ranked, (-self._priority(key), next(self._sequence), key))
        self._notify()

    def add_after(self, key: str, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds; an earlier pending timer for it wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        when = loop.time() + delay
        if existing is not None and existing.when() <= when:
            return
        if existing is not None:
            existing.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> float:
        """Queue ``key`` after its backoff (rule 3); returns the delay used."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = min(self.max_delay, self.base_delay * (2.0**failures))
        self.add_after(key, delay)
        return delay

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    async def get(self) -> str | None:
        """The next key to process, waiting for one; ``None`` once the queue is shut down."""
        while not len(self) and not self._closed:
            self._ready.clear()
            await self._ready.wait()
        if self._closed:
            return None
        key = heapq.heappop(self._ranked)[2] if self._ranked else self._order.pop(0)
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: str) -> None:
        """The worker finished ``key``; re-queue it if it was added meanwhile (rule 2)."""
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def shutdown(self) -> None:
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._notify()

    def _notify(self) -> None:
        self._ready.set()
