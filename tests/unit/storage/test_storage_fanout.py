"""Watch fan-out (kubeward/storage/fanout.py): the hub, detaching slow watchers, the seam."""

from __future__ import annotations

import asyncio

import pytest

from kubeward.errors import CompactedError
from kubeward.storage import fanout
from kubeward.storage.fanout import WatchHub, stream_events
from kubeward.storage.interfaces import Event, EventType


def event(revision: int, key: str = "/registry/pods/a") -> Event:
    return Event(EventType.CREATE, key, b"v", None, revision, revision)


class History:
    """A log of events that the stream reads history from, as a backend would."""

    def __init__(self, events: list[Event], compacted: int = 0) -> None:
        self.events = events
        self.compacted = compacted
        self.reads: list[tuple[int, int]] = []

    async def read(self, prefix: str, after: int, upto: int, limit: int) -> list[Event]:
        self.reads.append((after, upto))
        if after < self.compacted:
            raise CompactedError(after, self.compacted)
        found = [e for e in self.events if after < e.revision <= upto and e.key.startswith(prefix)]
        return found[:limit]


def test_publish_reaches_only_matching_prefixes() -> None:
    hub = WatchHub(capacity=10)
    pods, all_keys, other = hub.subscribe("/registry/pods/"), hub.subscribe(""), hub.subscribe("/x")
    hub.publish(2, [event(1), event(2, "/registry/configmaps/c")])

    async def drain() -> list[list[int]]:
        return [[e.revision for e in await s.next_batch()] for s in (pods, all_keys)]

    assert asyncio.run(drain()) == [[1], [1, 2]]
    assert hub.revision == 2
    assert not other.overflowed and not other.closed


def test_a_full_buffer_detaches_the_subscription_without_blocking() -> None:
    hub = WatchHub(capacity=2)
    slow, fast = hub.subscribe(""), hub.subscribe("")

    async def scenario() -> tuple[list[Event], list[int]]:
        seen: list[int] = []
        for revision in range(1, 6):
            hub.publish(revision, [event(revision)])
            seen.extend(e.revision for e in await fast.next_batch())
        return await slow.next_batch(), seen

    left, seen = asyncio.run(scenario())
    assert slow.overflowed and left == []
    assert seen == [1, 2, 3, 4, 5]
    hub.publish(6, [event(6)])  # the detached subscription is no longer fed
    assert not hub.closed


def test_publish_refuses_a_revision_going_backwards() -> None:
    hub = WatchHub(capacity=2, revision=5)
    with pytest.raises(ValueError):
        hub.publish(4, [])


def test_close_ends_subscriptions_after_their_buffered_events() -> None:
    hub = WatchHub(capacity=4)
    sub = hub.subscribe("")
    hub.publish(1, [event(1)])
    hub.close()
    late = hub.subscribe("")

    async def drain() -> tuple[list[int], list[int], list[int]]:
        first = [e.revision for e in await sub.next_batch()]
        second = [e.revision for e in await sub.next_batch()]
        return first, second, [e.revision for e in await late.next_batch()]

    assert asyncio.run(drain()) == ([1], [], [])


def test_stream_replays_history_up_to_the_subscription_then_goes_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout, "HISTORY_PAGE", 2)  # several pages of history
    hub = WatchHub(capacity=8, revision=5)
    history = History([event(r) for r in range(1, 6)])

    async def scenario() -> list[int]:
        stream = stream_events(hub, "", 1, history.read, 0)
        got = [(await anext(stream)).revision for _ in range(4)]
        hub.publish(6, [event(6)])
        hub.publish(7, [event(7)])
        got += [(await anext(stream)).revision for _ in range(2)]
        await stream.aclose()
        return got

    assert asyncio.run(scenario()) == [2, 3, 4, 5, 6, 7]
    assert history.reads == [(1, 5), (3, 5)]
    assert not hub.has_subscribers  # aclose() unsubscribed


def test_a_detached_stream_resumes_from_history_without_gaps_or_repeats() -> None:
    hub = WatchHub(capacity=2)
    history = History([])

    async def scenario() -> list[int]:
        stream = stream_events(hub, "", 0, history.read, 0)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # the stream subscribes and waits
        for revision in range(1, 7):
            history.events.append(event(revision))
            hub.publish(revision, [event(revision)])
        got = [(await first).revision]
        got += [(await anext(stream)).revision for _ in range(5)]
        hub.publish(7, [event(7)])
        history.events.append(event(7))
        got.append((await anext(stream)).revision)
        await stream.aclose()
        return got

    assert asyncio.run(scenario()) == [1, 2, 3, 4, 5, 6, 7]
    assert history.reads  # it caught up from history after being detached


@pytest.mark.parametrize(
    ("from_revision", "compacted"),
    [(3, 5), (0, 1)],
    ids=["older-than-compacted", "zero-after-compaction"],
)
def test_stream_from_a_compacted_revision_raises(from_revision: int, compacted: int) -> None:
    hub = WatchHub(capacity=2, revision=9)

    async def scenario() -> None:
        stream = stream_events(hub, "", from_revision, History([], compacted).read, compacted)
        await anext(stream)

    with pytest.raises(CompactedError):
        asyncio.run(scenario())
