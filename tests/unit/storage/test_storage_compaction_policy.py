"""The history window (kubeward/storage/compaction.py): whichever window keeps more wins."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from kubeward.errors import StorageError
from kubeward.storage.compaction import (
    CompactionPolicy,
    RevisionClock,
    compaction_target,
    run_compactor,
)

POLICY = CompactionPolicy(keep_revisions=100, keep_seconds=300)


@pytest.mark.parametrize(
    ("samples", "now", "current", "target"),
    [
        ([(0.0, 50)], 100.0, 1_000, 0),  # nothing is five minutes old yet
        ([(0.0, 50)], 300.0, 1_000, 50),  # the age window keeps more than the count window
        ([(0.0, 50), (200.0, 900)], 600.0, 1_000, 900),  # both windows agree on 900
        ([(0.0, 50), (200.0, 990)], 600.0, 1_000, 900),  # the count window keeps more
        ([(0.0, 50)], 10_000.0, 80, 0),  # fewer revisions than the count window
    ],
    ids=["too-young", "age-keeps-more", "age-equals-count", "count-keeps-more", "small-store"],
)
def test_compaction_target_keeps_the_larger_window(
    samples: list[tuple[float, int]], now: float, current: int, target: int
) -> None:
    clock = RevisionClock()
    for when, revision in samples:
        clock.record(when, revision)
    assert compaction_target(POLICY, clock, now, current) == target


def test_revision_clock_answers_with_the_newest_old_enough_sample() -> None:
    clock = RevisionClock()
    for when, revision in [(0.0, 1), (10.0, 5), (20.0, 9)]:
        clock.record(when, revision)
    assert clock.revision_older_than(-1.0) == 0
    assert clock.revision_older_than(15.0) == 5
    assert clock.revision_older_than(15.0) == 5  # asking again forgets nothing it still needs
    assert clock.revision_older_than(25.0) == 9


@pytest.mark.parametrize(
    "policy",
    [
        {"keep_revisions": -1},
        {"keep_seconds": -1.0},
        {"interval_seconds": 0.0},
    ],
    ids=["negative-revisions", "negative-seconds", "zero-interval"],
)
def test_policy_refuses_nonsense(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CompactionPolicy(**policy)  # type: ignore[arg-type]


def test_run_compactor_compacts_to_the_window_and_survives_failures() -> None:
    calls: list[int] = []
    state = {"current": 0, "compacted": 0}

    async def current() -> int:
        return state["current"]

    async def compacted() -> int:
        return state["compacted"]

    async def compact(revision: int) -> None:
        calls.append(revision)
        if len(calls) == 1:
            raise StorageError("disk is having a bad day")
        state["compacted"] = revision

    async def main() -> None:
        policy = CompactionPolicy(keep_revisions=10, keep_seconds=0, interval_seconds=0.001)
        task = asyncio.create_task(run_compactor(policy, current, compacted, compact))
        state["current"] = 50
        while state["compacted"] < 40:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 30))
    assert calls[:2] == [40, 40]
    assert state["compacted"] == 40
