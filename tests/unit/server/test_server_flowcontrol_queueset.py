"""Fair queuing of one priority level: shuffle sharding, queue limits, fair seat hand-out."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from kubeward.server.flowcontrol.queueset import QueueSet, Seat, deal_hand, flow_hash


def run_async(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test body on a fresh event loop (the queues need a running loop)."""

    def run() -> None:
        asyncio.run(test())

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


@pytest.mark.parametrize(("deck", "hand"), [(128, 6), (64, 6), (16, 4), (6, 6), (3, 8)], ids=str)
def test_hands_are_distinct_cards_of_the_deck(deck: int, hand: int) -> None:
    for flow in range(200):
        dealt = deal_hand(flow_hash("schema", f"user-{flow}"), deck, hand)
        assert len(dealt) == min(deck, hand)
        assert len(set(dealt)) == len(dealt)
        assert all(0 <= card < deck for card in dealt)


def test_the_same_flow_gets_the_same_hand_and_flows_spread() -> None:
    assert deal_hand(flow_hash("s", "jane"), 128, 6) == deal_hand(flow_hash("s", "jane"), 128, 6)
    hands = {tuple(sorted(deal_hand(flow_hash("s", f"u{i}"), 128, 6))) for i in range(500)}
    assert len(hands) == 500
    first_cards = {deal_hand(flow_hash("s", f"u{i}"), 128, 6)[0] for i in range(500)}
    assert len(first_cards) > 100  # every queue reachable, none favoured


def test_every_hand_is_reachable_on_a_small_deck() -> None:
    hands = {tuple(sorted(deal_hand(h, 5, 2))) for h in range(5 * 4)}
    assert hands == {tuple(sorted(pair)) for pair in itertools.combinations(range(5), 2)}


@run_async
async def test_a_free_seat_is_taken_at_once_and_given_back_once() -> None:
    queue_set = QueueSet(1, queues=8, hand_size=2, queue_length_limit=2)
    seat = await queue_set.acquire(flow_hash("s", "a"))
    assert isinstance(seat, Seat)
    assert queue_set.executing == 1
    seat.release()
    seat.release()
    assert queue_set.executing == 0


@run_async
async def test_a_full_queue_rejects_at_once() -> None:
    queue_set = QueueSet(1, queues=1, hand_size=1, queue_length_limit=2)
    flow = flow_hash("s", "a")
    holder = await queue_set.acquire(flow)
    waiters = [asyncio.create_task(queue_set.acquire(flow)) for _ in range(2)]
    await asyncio.sleep(0)
    assert queue_set.waiting == 2
    assert await queue_set.acquire(flow) is None
    assert queue_set.rejected == 1
    assert holder is not None
    holder.release()
    first = await waiters[0]
    assert first is not None and queue_set.waiting == 1
    first.release()
    second = await waiters[1]
    assert second is not None
    second.release()
    assert (queue_set.executing, queue_set.waiting) == (0, 0)


@run_async
async def test_waiting_longer_than_the_wait_limit_is_a_rejection() -> None:
    queue_set = QueueSet(1, queues=4, hand_size=2, queue_length_limit=5, wait_limit=0.01)
    holder = await queue_set.acquire(flow_hash("s", "a"))
    assert await queue_set.acquire(flow_hash("s", "b")) is None
    assert (queue_set.waiting, queue_set.rejected) == (0, 1)
    assert holder is not None
    holder.release()


@run_async
async def test_a_reject_level_has_no_queue() -> None:
    queue_set = QueueSet(2)
    seats = [await queue_set.acquire(1), await queue_set.acquire(2)]
    assert all(seats)
    assert await queue_set.acquire(3) is None
    for seat in seats:
        assert seat is not None
        seat.release()
    assert await queue_set.acquire(3) is not None


@run_async
async def test_one_flow_cannot_take_the_seats_another_is_waiting_for() -> None:
    """A greedy flow queues many requests; a freed seat goes to the other flow's queue first."""
    queue_set = QueueSet(4, queues=64, hand_size=4, queue_length_limit=50)
    greedy, modest = flow_hash("s", "greedy"), flow_hash("s", "modest")
    held = [await queue_set.acquire(greedy) for _ in range(4)]
    greedy_waiting = [asyncio.create_task(queue_set.acquire(greedy)) for _ in range(40)]
    await asyncio.sleep(0)
    modest_task = asyncio.create_task(queue_set.acquire(modest))
    await asyncio.sleep(0)
    first = held.pop()
    assert first is not None
    first.release()
    modest_seat = await modest_task  # ahead of 40 greedy requests that came first
    assert modest_seat is not None
    assert sum(t.done() for t in greedy_waiting) == 0
    for task in greedy_waiting:
        task.cancel()
    await asyncio.gather(*greedy_waiting, return_exceptions=True)
    assert queue_set.waiting == 0


@run_async
async def test_seats_are_shared_equally_between_busy_queues() -> None:
    """Three flows, each in a queue of its own, asking all the time: two seats each."""
    queue_set = QueueSet(6, queues=64, hand_size=1, queue_length_limit=50)
    flows: list[int] = []
    cards: set[int] = set()
    for name in (f"flow-{i}" for i in range(100)):
        flow = flow_hash("s", name)
        card = deal_hand(flow, 64, 1)[0]
        if card not in cards:
            cards.add(card)
            flows.append(flow)
        if len(flows) == 3:
            break
    holding: dict[int, list[Seat]] = {flow: [] for flow in flows}

    async def keep_asking(flow: int) -> None:
        while True:
            seat = await queue_set.acquire(flow)
            assert seat is not None
            holding[flow].append(seat)

    tasks = [asyncio.create_task(keep_asking(flow)) for flow in flows for _ in range(10)]
    await asyncio.sleep(0)
    order = itertools.count()
    started: dict[int, int] = {}
    for _ in range(30):  # free seats one at a time, oldest first, and let them be handed out
        for seats in holding.values():
            for seat in seats:
                started.setdefault(id(seat), next(order))
        live = [s for seats in holding.values() for s in seats if not s.released]
        min(live, key=lambda s: started[id(s)]).release()
        for _ in range(3):
            await asyncio.sleep(0)
    executing = {flow: sum(not s.released for s in seats) for flow, seats in holding.items()}
    assert sorted(executing.values()) == [2, 2, 2]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@run_async
async def test_a_cancelled_waiter_leaves_its_queue() -> None:
    queue_set = QueueSet(1, queues=2, hand_size=1, queue_length_limit=1)
    holder = await queue_set.acquire(5)
    waiter = asyncio.create_task(queue_set.acquire(5))
    await asyncio.sleep(0)
    assert queue_set.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert queue_set.waiting == 0
    assert holder is not None
    holder.release()
    assert queue_set.executing == 0
