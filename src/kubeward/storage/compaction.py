"""How much history a backend keeps, and the background task that compacts the rest.

History is what lets a client list at an older resourceVersion, resume a watch after a
reconnect, or page through a list while writes go on. Keeping it forever makes the store grow
without bound, so a background task compacts. Rules:

 1. The window is "the last ``keep_revisions`` revisions or the last ``keep_seconds`` seconds,
    whichever keeps more" — by default 10,000 revisions or 5 minutes. Five minutes is
    kube-apiserver's own compaction interval against etcd (``--etcd-compaction-interval``), so a
    client that could resume a watch against Kubernetes can resume it here; the revision floor
    keeps a burst of writes from expiring every watcher at once.
 2. Ages are known only from samples of (monotonic clock, current revision) the task takes every
    ``interval_seconds``. A revision counts as older than ``keep_seconds`` only once a sample
    proves it; after a restart nothing written before the first sample is compacted until
    ``keep_seconds`` have passed. Uncertainty therefore always keeps more, never less.
 3. A failed compaction is logged and retried at the next tick; it never stops the task.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompactionPolicy:
    """The history window (rule 1) and how often to enforce it; ``enabled=False`` for tests."""

    keep_revisions: int = 10_000
    keep_seconds: float = 300.0
    interval_seconds: float = 30.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.keep_revisions < 0 or self.keep_seconds < 0 or self.interval_seconds <= 0:
            raise ValueError(f"invalid compaction policy: {self}")


class RevisionClock:
    """Samples of (time, current revision), enough to tell how old a revision is (rule 2)."""

    def __init__(self) -> None:
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def record(self, now: float, revision: int) -> None:
        self._samples.append((now, revision))

    def revision_older_than(self, cutoff: float) -> int:
        """The newest revision known to have been written at or before ``cutoff`` (0: none).

        Samples older than the one returned are no longer needed and are forgotten.
        """
        newest_old: tuple[float, int] | None = None
        while self._samples and self._samples[0][0] <= cutoff:
            newest_old = self._samples.popleft()
        if newest_old is None:
            return 0
        self._samples.appendleft(newest_old)
        return newest_old[1]


def compaction_target(
    policy: CompactionPolicy, clock: RevisionClock, now: float, current: int
) -> int:
    """The revision to compact to now: the smaller of the two windows' targets (rule 1)."""
    by_count = max(0, current - policy.keep_revisions)
    by_age = clock.revision_older_than(now - policy.keep_seconds)
    return min(by_count, by_age)


async def run_compactor(
    policy: CompactionPolicy,
    current_revision: Callable[[], Awaitable[int]],
    compacted_revision: Callable[[], Awaitable[int]],
    compact: Callable[[int], Awaitable[None]],
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Compact every ``interval_seconds`` until cancelled (rules 1-3)."""
    clock = RevisionClock()
    clock.record(monotonic(), await current_revision())
    while True:
        await asyncio.sleep(policy.interval_seconds)
        try:
            now = monotonic()
            current = await current_revision()
            clock.record(now, current)
            target = compaction_target(policy, clock, now, current)
            if target > await compacted_revision():
                await compact(target)
        except Exception as exc:  # rule 3: never let one failure end the task
            log.warning("storage compaction failed, will retry: %s", exc)
