"""The work queue: deduplication, one worker per key, backoff."""

from __future__ import annotations

import asyncio

from kubeward.controllers.queue import WorkQueue


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_a_waiting_key_is_queued_once() -> None:
    async def scenario() -> list[str | None]:
        queue = WorkQueue()
        for key in ("a", "b", "a", "a"):
            queue.add(key)
        got = [await queue.get(), await queue.get()]
        return [*got, None if len(queue) == 0 else "more"]

    assert run(scenario()) == ["a", "b", None]


def test_a_key_added_while_processing_comes_back_after_done() -> None:
    async def scenario() -> tuple[int, str | None]:
        queue = WorkQueue()
        queue.add("a")
        key = await queue.get()
        assert key == "a"
        queue.add("a")
        waiting_while_processing = len(queue)
        queue.done("a")
        return waiting_while_processing, await queue.get()

    assert run(scenario()) == (0, "a")


def test_backoff_doubles_and_forget_resets() -> None:
    async def scenario() -> list[float]:
        queue = WorkQueue(base_delay=1.0, max_delay=5.0)
        delays = [queue.add_rate_limited("a") for _ in range(4)]
        queue.forget("a")
        delays.append(queue.add_rate_limited("a"))
        queue.shutdown()
        return delays

    assert run(scenario()) == [1.0, 2.0, 4.0, 5.0, 1.0]


def test_add_after_delivers_the_key_later() -> None:
    async def scenario() -> str | None:
        queue = WorkQueue()
        queue.add_after("later", 0.01)
        assert len(queue) == 0
        return await asyncio.wait_for(queue.get(), 5)

    assert run(scenario()) == "later"


def test_shutdown_releases_waiting_workers() -> None:
    async def scenario() -> str | None:
        queue = WorkQueue()
        waiter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.shutdown()
        return await asyncio.wait_for(waiter, 5)

    assert run(scenario()) is None


def test_a_queue_with_priority_hands_out_the_highest_first_then_in_order() -> None:
    ranks = {"low-1": 0, "high-1": 1000, "low-2": 0, "mid": 10, "high-2": 1000}

    async def scenario() -> list[str | None]:
        queue = WorkQueue(priority=ranks.__getitem__)
        for key in ranks:
            queue.add(key)
        queue.add("mid")  # still once
        got = [await queue.get() for _ in range(len(ranks))]
        assert len(queue) == 0
        return got

    assert run(scenario()) == ["high-1", "high-2", "mid", "low-1", "low-2"]
