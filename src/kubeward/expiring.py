"""A bounded map whose entries expire: the decision caches of the webhook modes.

Rules:
 1. Each entry has its own time to live, set when it is stored (an authorized answer may be kept
    longer than a refusal, as kube-apiserver's ``--authorization-webhook-cache-*-ttl`` do).
 2. An expired entry is never returned; it is dropped when met.
 3. At most ``capacity`` entries are kept; storing one more drops the least recently used.
 4. Time comes from ``clock`` (monotonic seconds), so tests can move it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(
        self, capacity: int = 8192, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
