"""The time the batch controllers read, so that tests can move it (``k8s.io/utils/clock``).

The job, cronjob and ttl-after-finished controllers decide by the time: a deadline passed, a
schedule due, a TTL expired. Upstream injects a clock for its tests; kubeward does the same, and
lets a test move a running cluster's clock without waiting. Rules:

 1. ``now()`` is an aware UTC datetime. :class:`RealClock` is the wall clock.
 2. :class:`FakeClock` moves only when told (``step`` or ``set``); it is safe to move from
    another thread than the controllers' event loop (a test drives a cluster that runs in a
    background thread).
 3. Whoever decides by the clock subscribes: after a :class:`FakeClock` moves, every subscriber
    is called (on the mover's thread), so a controller looks at its objects again at once
    instead of waiting out a delay measured on the real clock. The real clock never calls.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Callable
from typing import Protocol

Subscriber = Callable[[], None]


class Clock(Protocol):
    def now(self) -> datetime.datetime: ...

    def subscribe(self, callback: Subscriber) -> None: ...


class RealClock:
    """Rule 1."""

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def subscribe(self, callback: Subscriber) -> None:
        """Rule 3: the real clock never calls back."""


class FakeClock:
    """Rules 2 and 3."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        moment = start or datetime.datetime.now(datetime.UTC)
        if moment.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = moment.astimezone(datetime.UTC)
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def now(self) -> datetime.datetime:
        with self._lock:
            return self._now

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def set(self, moment: datetime.datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(datetime.UTC)
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback()

    def step(self, seconds: float) -> None:
        self.set(self.now() + datetime.timedelta(seconds=seconds))


def on_loop(loop: asyncio.AbstractEventLoop, action: Callable[[], None]) -> Subscriber:
    """A subscriber that runs ``action`` on ``loop``, from whatever thread moved the clock."""

    def call() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(action)

    return call
