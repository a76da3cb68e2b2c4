"""ExpiringCache: per-entry time to live, least-recently-used eviction."""

from __future__ import annotations

from kubeward.expiring import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_by_their_own_ttl() -> None:
    clock = Clock()
    cache: ExpiringCache[str, int] = ExpiringCache(clock=clock)
    cache.put("allow", 1, ttl=300)
    cache.put("deny", 0, ttl=30)
    clock.now += 30
    assert cache.get("deny") is None
    assert cache.get("allow") == 1
    clock.now += 270
    assert cache.get("allow") is None
    assert len(cache) == 0


def test_the_least_recently_used_is_evicted() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(capacity=2, clock=Clock())
    cache.put("a", 1, ttl=10)
    cache.put("b", 2, ttl=10)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, ttl=10)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_a_ttl_of_zero_stores_nothing() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(clock=Clock())
    cache.put("x", 1, ttl=0)
    assert cache.get("x") is None
