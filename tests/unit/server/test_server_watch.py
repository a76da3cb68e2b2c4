"""The watch broadcaster (kubeward/server/watch.py): batches, order, the shared log, slow watchers.

Over the memory backend, with a recording sink in place of an HTTP connection (the WatchSink
seam); tests/integration/test_server_watch_http.py covers the real connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from kubeward.api.registry.store import Store, WatchEvent
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS
from kubeward.errors import Gone
from kubeward.server.watch import Broadcaster, WatchStream
from kubeward.storage.interfaces import Event
from kubeward.storage.memory import MemoryBackend


class RecordingSink:
    """Takes batches while ``open``; counts what it was handed and how."""

    def __init__(self) -> None:
        self.open = True
        self.batches: list[list[str]] = []
        self.shared_seen: list[dict[object, bytes]] = []

    def ready(self) -> bool:
        return self.open

    def deliver(self, batch: list[WatchEvent], shared: dict[object, bytes]) -> None:
        self.batches.append([e.object["metadata"]["name"] for e in batch])
        self.shared_seen.append(shared)

    @property
    def names(self) -> list[str]:
        return [name for batch in self.batches for name in batch]


async def configmaps() -> Store:
    backend = MemoryBackend()
    await backend.start()
    _, strategies = build_scheme()
    return Store(CONFIGMAPS, strategies[CONFIGMAPS], backend)


async def create(store: Store, *names: str) -> int:
    revision = 0
    for name in names:
        created = await store.create("default", {"metadata": {"name": name}})
        revision = int(created["metadata"]["resourceVersion"])
    return revision


async def settle() -> None:
    """Let the pump publish and the flushes run."""
    for _ in range(20):
        await asyncio.sleep(0.01)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_pending_events_reach_a_sink_in_order_batched_and_none_lost() -> None:
    async def go() -> tuple[RecordingSink, list[str]]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        start = await store.backend.current_revision()
        sink = RecordingSink()
        names = [f"cm-{i:03}" for i in range(200)]
        async with broadcaster.stream(start) as stream:
            stream.attach(sink)
            # 200 writes with no await between publishing and flushing: they queue up.
            await asyncio.gather(*(create(store, name) for name in names))
            await settle()
        await broadcaster.close()
        return sink, names

    sink, names = run(go())
    assert sink.names == names
    assert len(sink.batches) < len(names)  # several events per delivery


def test_watchers_at_the_same_cursor_share_one_batch_and_its_encodings() -> None:
    async def go() -> list[RecordingSink]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        start = await store.backend.current_revision()
        sinks = [RecordingSink() for _ in range(3)]
        async with (
            broadcaster.stream(start) as a,
            broadcaster.stream(start) as b,
            broadcaster.stream(start) as c,
        ):
            for stream, sink in zip((a, b, c), sinks, strict=True):
                stream.attach(sink)
            await create(store, "one", "two")
            await settle()
        await broadcaster.close()
        return sinks

    sinks = run(go())
    assert [s.names for s in sinks] == [["one", "two"]] * 3
    assert sinks[0].shared_seen[0] is sinks[1].shared_seen[0] is sinks[2].shared_seen[0]


def test_a_watch_replays_the_log_after_its_revision_then_follows_live() -> None:
    async def go() -> tuple[list[str], list[str]]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        await broadcaster.start()
        await create(store, "a")
        middle = await create(store, "b")
        await create(store, "c")
        await settle()
        pulled: list[str] = []
        async with broadcaster.stream(middle) as stream:
            pulled += [e.object["metadata"]["name"] for e in await stream.next_batch(1.0)]
            sink = RecordingSink()
            stream.attach(sink)
            await create(store, "d")
            await settle()
        await broadcaster.close()
        return pulled, sink.names

    pulled, pushed = run(go())
    assert pulled == ["c"]
    assert pushed == ["d"]


def test_a_watch_ahead_of_the_log_skips_what_it_has_already_seen() -> None:
    """A list's revision can be ahead of the pump; the events up to it are not repeated."""

    async def go() -> list[str]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        await broadcaster.start()
        listed_at = await create(store, "listed")  # the pump has not published it yet
        async with broadcaster.stream(listed_at) as stream:
            await create(store, "after")
            batch = await stream.next_batch(1.0)
        await broadcaster.close()
        return [e.object["metadata"]["name"] for e in batch]

    assert run(go()) == ["after"]


def test_a_sink_that_is_not_ready_keeps_its_events_in_the_log_and_gets_them_later() -> None:
    async def go() -> RecordingSink:
        store = await configmaps()
        broadcaster = Broadcaster(store, window=64)
        start = await store.backend.current_revision()
        sink = RecordingSink()
        async with broadcaster.stream(start) as stream:
            stream.attach(sink)
            sink.open = False
            await create(store, *[f"cm-{i:02}" for i in range(40)])
            await settle()
            assert sink.names == []
            sink.open = True  # the client read: the retry delivers without a new event
            await settle()
        await broadcaster.close()
        return sink

    sink = run(go())
    assert sink.names == [f"cm-{i:02}" for i in range(40)]
    assert len(sink.batches) == 1


def test_a_watcher_that_falls_out_of_the_log_ends_with_410_and_its_callback_runs() -> None:
    async def go() -> tuple[list[str], BaseException | None, int]:
        store = await configmaps()
        broadcaster = Broadcaster(store, window=16)
        start = await store.backend.current_revision()
        calls: list[str] = []
        sink = RecordingSink()
        sink.open = False  # a client that stopped reading
        error: BaseException | None = None
        async with broadcaster.stream(start) as stream:
            stream.on_overflow = lambda: calls.append("overflow")
            stream.attach(sink)
            await create(store, *[f"cm-{i:02}" for i in range(30)])
            await settle()
            try:
                await stream.wait_end(0.1)
            except Gone as exc:
                error = exc
        log_size = len(broadcaster._log)
        await broadcaster.close()
        return calls, error, log_size

    calls, error, log_size = run(go())
    assert calls == ["overflow"]
    assert isinstance(error, Gone) and error.code == 410
    assert log_size <= 16 + 16 // 4  # the shared log stays bounded, whatever the watcher does


def test_a_pulling_watcher_that_falls_behind_gets_410_at_its_next_read() -> None:
    async def go() -> None:
        store = await configmaps()
        broadcaster = Broadcaster(store, window=8)
        start = await store.backend.current_revision()
        async with broadcaster.stream(start) as stream:
            await create(store, *[f"cm-{i:02}" for i in range(20)])
            await settle()
            with pytest.raises(Gone, match="fell too far behind"):
                await stream.next_batch(0.1)
        await broadcaster.close()

    run(go())


def test_a_watch_from_before_the_log_reads_storage_and_is_pushed_too() -> None:
    async def go() -> tuple[list[str], list[str]]:
        store = await configmaps()
        start = await store.backend.current_revision()
        await create(store, *[f"old-{i:02}" for i in range(20)])
        broadcaster = Broadcaster(store, window=4)
        await broadcaster.start()
        await create(store, *[f"new-{i:02}" for i in range(10)])  # the log now starts later
        await settle()
        sink = RecordingSink()
        async with broadcaster.stream(start) as stream:
            stream.attach(sink)
            await settle()
        await broadcaster.close()
        expected = [f"old-{i:02}" for i in range(20)] + [f"new-{i:02}" for i in range(10)]
        return sink.names, expected

    names, expected = run(go())
    assert names == expected


def test_in_process_followers_still_read_one_event_at_a_time() -> None:
    async def go() -> list[str]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        start = await store.backend.current_revision()
        seen: list[str] = []

        async def follow() -> None:
            async for event in broadcaster.events(start):
                seen.append(event.object["metadata"]["name"])
                if len(seen) == 3:
                    return

        follower = asyncio.create_task(follow())
        await asyncio.sleep(0.01)
        await create(store, "x", "y", "z")
        await asyncio.wait_for(follower, 5)
        await broadcaster.close()
        return seen

    assert run(go()) == ["x", "y", "z"]


def test_a_delivery_that_fails_ends_the_stream_with_that_error() -> None:
    class Broken(RecordingSink):
        def deliver(self, batch: list[WatchEvent], shared: dict[object, bytes]) -> None:
            raise ConnectionResetError("gone")

    async def go() -> None:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        start = await store.backend.current_revision()
        async with broadcaster.stream(start) as stream:
            assert isinstance(stream, WatchStream)
            stream.attach(Broken())
            await create(store, "one")
            await settle()
            with pytest.raises(ConnectionResetError):
                await stream.wait_end(0.1)
        await broadcaster.close()

    run(go())


class CachingSink(RecordingSink):
    """Encodes as the HTTP handler does: once per batch, through the shared dict."""

    def deliver(self, batch: list[WatchEvent], shared: dict[object, bytes]) -> None:
        names = shared.setdefault(
            "frame", ",".join(e.object["metadata"]["name"] for e in batch).encode()
        )
        self.batches.append(names.decode().split(","))


def test_only_watchers_given_the_same_batch_share_an_encoding() -> None:
    async def go() -> tuple[list[str], list[str]]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        await broadcaster.start()
        start = await store.backend.current_revision()
        early, late = CachingSink(), CachingSink()
        async with broadcaster.stream(start) as a:
            a.attach(early)
            listed_at = await create(store, "listed")
            async with broadcaster.stream(listed_at) as b:  # may be ahead of the log
                b.attach(late)
                await create(store, "after")
                await settle()
        await broadcaster.close()
        return early.names, late.names

    early, late = run(go())
    assert early == ["listed", "after"]
    assert late == ["after"]


def test_a_sink_that_fails_ends_its_own_watcher_and_the_others_still_get_events() -> None:
    class Gone(RecordingSink):
        def ready(self) -> bool:
            raise AttributeError("the transport lost its protocol")

    async def go() -> tuple[list[str], bool]:
        store = await configmaps()
        broadcaster = Broadcaster(store)
        start = await store.backend.current_revision()
        healthy = RecordingSink()
        async with broadcaster.stream(start) as broken, broadcaster.stream(start) as fine:
            broken.attach(Gone())
            fine.attach(healthy)
            await create(store, "one", "two")
            await settle()
            ended = broken.ended
        await broadcaster.close()
        return healthy.names, ended

    names, ended = run(go())
    assert names == ["one", "two"]
    assert ended


class ProgressingBackend(MemoryBackend):
    """The memory store, whose watches hear progress when the test says so, as etcd's do."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: list[Callable[[int], None]] = []

    def watch(
        self,
        prefix: str,
        from_revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[Event, None]:
        if on_progress is not None:
            self.listeners.append(on_progress)
        return super().watch(prefix, from_revision)

    async def progress(self) -> int:
        """Report the current revision to every watch (call after the watches caught up)."""
        revision = await self.current_revision()
        for listener in self.listeners:
            listener(revision)
        return revision


async def progressing_configmaps() -> tuple[Store, ProgressingBackend]:
    backend = ProgressingBackend()
    await backend.start()
    _, strategies = build_scheme()
    return Store(CONFIGMAPS, strategies[CONFIGMAPS], backend), backend


def test_a_caught_up_watcher_may_be_bookmarked_at_the_storage_progress() -> None:
    async def go() -> tuple[int, int, int]:
        store, backend = await progressing_configmaps()
        broadcaster = Broadcaster(store)
        start = await create(store, "cm")
        async with broadcaster.stream(start) as stream:
            stream.attach(RecordingSink())
            await backend.create("/registry/secrets/default/elsewhere", b"{}")
            await settle()
            reached = await backend.progress()
            at = stream.bookmark_revision(start)
        await broadcaster.close()
        return start, reached, at

    start, reached, at = run(go())
    assert reached > start
    assert at == reached


def test_a_watcher_with_undelivered_events_is_bookmarked_at_what_it_got() -> None:
    async def go() -> tuple[int, int]:
        store, backend = await progressing_configmaps()
        broadcaster = Broadcaster(store)
        start = await backend.current_revision()
        sink = RecordingSink()
        sink.open = False  # the connection takes nothing: the event stays pending
        async with broadcaster.stream(start) as stream:
            stream.attach(sink)
            await create(store, "pending")
            await settle()
            await backend.progress()
            at = stream.bookmark_revision(start)
        await broadcaster.close()
        return start, at

    start, at = run(go())
    assert at == start


def test_a_watcher_fed_from_storage_is_bookmarked_at_its_own_watch_progress() -> None:
    async def go() -> tuple[int, int, list[str]]:
        store, backend = await progressing_configmaps()
        start = await create(store, "old")
        broadcaster = Broadcaster(store, window=4)
        await broadcaster.start()
        await create(store, *[f"new-{i}" for i in range(8)])  # the log now starts later
        await settle()
        sink = RecordingSink()
        async with broadcaster.stream(start) as stream:
            stream.attach(sink)
            await settle()
            await backend.create("/registry/secrets/default/elsewhere", b"{}")
            reached = await backend.progress()
            at = stream.bookmark_revision(start)
        await broadcaster.close()
        return reached, at, sink.names

    reached, at, names = run(go())
    assert names == [f"new-{i}" for i in range(8)]
    assert at == reached
