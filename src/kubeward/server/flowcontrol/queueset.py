"""Fair queuing for one priority level: shuffle sharding into queues, seats handed out fairly.

A limited priority level has a concurrency limit (its seats), a number of queues, a hand size
and a queue length limit. Rules, after k8s.io/apiserver's ``fairqueuing/queueset``:

 1. A flow (schema, distinguisher) is dealt a hand of ``handSize`` distinct queues out of
    ``queues`` from a hash of the flow, as upstream's ``shufflesharding.Dealer`` deals: the same
    flow always gets the same hand, and two flows rarely share a whole hand. A request joins
    the queue of its hand with the fewest requests waiting plus executing.
 2. A request that finds a free seat and nobody waiting runs at once.
 3. A request whose chosen queue already holds ``queueLengthLimit`` waiting requests is
    rejected at once; so is a request that waited ``wait_limit`` seconds without a seat.
    A level whose limit response is ``Reject`` has no queues: a request runs if a seat is
    free and is rejected otherwise.
 4. When a seat is freed it goes to the head of the non-empty queue with the fewest requests
    executing; among equals, to the queue that has been served least (start-time fair queuing:
    each dispatch from a queue advances its virtual finish tag by one, a queue that was idle
    starts at the current virtual time), then to the request that arrived first. Upstream orders
    queues by virtual finish time with estimated work and durations; with every request costing
    one seat this gives each active queue an equal share of the seats, which is the property
    that matters: a flow that keeps its queues full cannot take the seats another flow's queue
    is waiting for.
 5. A seat is released exactly once (a watch releases it when its response starts, every other
    request when its handler returns); a request cancelled while waiting leaves its queue.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


def flow_hash(schema: str, distinguisher: str) -> int:
    """A stable 64-bit hash of a flow (rule 1)."""
    digest = hashlib.blake2b(f"{schema}\x00{distinguisher}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def deal_hand(hash_value: int, deck_size: int, hand_size: int) -> list[int]:
    """``hand_size`` distinct queue indexes in ``range(deck_size)`` chosen by ``hash_value``.

    The hash is read as a mixed-radix number whose digits pick among the cards still in the
    deck, so every hand is reachable and different hashes spread evenly (rule 1).
    """
    hand: list[int] = []
    remaining = hash_value
    for dealt in range(min(hand_size, deck_size)):
        left = deck_size - dealt
        card = remaining % left
        remaining //= left
        for taken in sorted(hand):
            if card >= taken:
                card += 1
        hand.append(card)
    return hand


class Seat:
    """One unit of the level's concurrency, held while a request executes (rule 5)."""

    def __init__(self, on_release: Callable[[], None]) -> None:
        self._on_release: Callable[[], None] | None = on_release

    @property
    def released(self) -> bool:
        return self._on_release is None

    def release(self) -> None:
        callback, self._on_release = self._on_release, None
        if callback is not None:
            callback()


@dataclass
class _Waiter:
    future: asyncio.Future[Seat]
    arrival: int


@dataclass
class _Queue:
    waiting: collections.deque[_Waiter] = field(default_factory=collections.deque)
    executing: int = 0
    finish_tag: float = 0.0  # virtual time at which what this queue was given is "paid for"


class QueueSet:
    """The seats and queues of one limited priority level."""

    def __init__(
        self,
        concurrency_limit: int,
        *,
        queues: int = 0,
        hand_size: int = 0,
        queue_length_limit: int = 0,
        wait_limit: float = 15.0,
    ) -> None:
        self.concurrency_limit = concurrency_limit
        self.hand_size = hand_size
        self.queue_length_limit = queue_length_limit
        self.wait_limit = wait_limit
        self.queues = [_Queue() for _ in range(queues)]
        self.executing = 0
        self.waiting = 0
        self.rejected = 0
        self.virtual_time = 0.0
        self._arrivals = itertools.count()

    @property
    def queuing(self) -> bool:
        return bool(self.queues) and self.hand_size > 0

    def choose_queue(self, hash_value: int) -> int:
        """Rule 1: the shortest queue of the flow's hand (the first of equals)."""
        hand = deal_hand(hash_value, len(self.queues), self.hand_size)
        return min(hand, key=lambda i: len(self.queues[i].waiting) + self.queues[i].executing)

    def _start_tag(self, queue: _Queue) -> float:
        return max(queue.finish_tag, self.virtual_time)

    def _start(self, queue: _Queue | None) -> Seat:
        self.executing += 1
        if queue is not None:
            queue.executing += 1
            start = self._start_tag(queue)
            queue.finish_tag = start + 1
            self.virtual_time = start

        def release() -> None:
            self.executing -= 1
            if queue is not None:
                queue.executing -= 1
            self._dispatch()

        return Seat(release)

    def _dispatch(self) -> None:
        """Rule 4."""
        while self.executing < self.concurrency_limit and self.waiting:
            best = min(
                (q for q in self.queues if q.waiting),
                key=lambda q: (q.executing, self._start_tag(q), q.waiting[0].arrival),
            )
            waiter = best.waiting.popleft()
            self.waiting -= 1
            if waiter.future.done():  # cancelled while waiting
                continue
            waiter.future.set_result(self._start(best))

    def try_acquire(self, hash_value: int) -> Seat | _Waiter | None:
        """A seat now (rule 2), a place in a queue, or None: rejected (rule 3)."""
        if not self.queuing:
            if self.executing < self.concurrency_limit:
                return self._start(None)
            self.rejected += 1
            return None
        queue = self.queues[self.choose_queue(hash_value)]
        if self.executing < self.concurrency_limit and not self.waiting:
            return self._start(queue)
        if len(queue.waiting) >= self.queue_length_limit:
            self.rejected += 1
            return None
        waiter = _Waiter(asyncio.get_running_loop().create_future(), next(self._arrivals))
        queue.waiting.append(waiter)
        self.waiting += 1
        self._dispatch()
        return waiter

    async def acquire(self, hash_value: int) -> Seat | None:
        """A seat for a request of the flow ``hash_value``, or None when it is rejected."""
        entry = self.try_acquire(hash_value)
        if entry is None or isinstance(entry, Seat):
            return entry
        future = entry.future
        try:
            async with asyncio.timeout(self.wait_limit):
                return await asyncio.shield(future)
        except TimeoutError:
            if future.done() and not future.cancelled():
                return future.result()  # a seat came as the time ran out
            future.cancel()
            self._forget(entry)
            self.rejected += 1
            return None
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                future.result().release()
            else:
                future.cancel()
                self._forget(entry)
            raise

    def _forget(self, waiter: _Waiter) -> None:
        for queue in self.queues:
            try:
                queue.waiting.remove(waiter)
            except ValueError:
                continue
            self.waiting -= 1
            return
