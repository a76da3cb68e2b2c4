"""The node agent's clock, injectable so tests step simulated time instead of waiting.

Processes sleep, probes run every ``periodSeconds`` and containers restart after a back-off:
all of it is scheduled against a clock. In the agent it is the wall clock; a unit test hands
in a ``FakeClock`` and calls ``step`` to move time on.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

Clock = Callable[[], datetime.datetime]


def system_clock() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class FakeClock:
    """A clock that moves only when told (``step``)."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self.moment = start or datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.moment

    def step(self, seconds: float) -> datetime.datetime:
        self.moment += datetime.timedelta(seconds=seconds)
        return self.moment
