"""The informer lists, watches, resumes, relists after errors, and reports deletions.

With both sources: a scripted stand-in for kubeward's APIClient, and the in-process source over a
real Store on the memory backend (with and without the server's watch broadcaster).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS
from kubeward.api.resources.core import CONFIGMAPS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient, WatchEvent
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import (
    ClientSource,
    Listed,
    ListWatchSource,
    SourceEvent,
    StoreSource,
)
from kubeward.errors import Gone, ServiceUnavailable, StatusError
from kubeward.server.watch import Broadcasters
from kubeward.storage.memory import MemoryBackend


def obj(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": rv}}


class ScriptedClient:
    """Answers lists and watches from scripts; records the resourceVersions watched from."""

    def __init__(
        self, lists: list[dict[str, Any]], watches: list[list[WatchEvent] | StatusError]
    ) -> None:
        self.lists = lists
        self.watches = watches
        self.watched_from: list[str] = []

    async def list(
        self, rt: ResourceType, namespace: str = "", params: Any = None
    ) -> dict[str, Any]:
        return self.lists.pop(0)

    async def watch(
        self,
        rt: ResourceType,
        namespace: str = "",
        *,
        resource_version: str = "",
        timeout_seconds: int = 300,
        params: Any = None,
    ) -> AsyncIterator[WatchEvent]:
        self.watched_from.append(resource_version)
        if not self.watches:
            await asyncio.Event().wait()
        step = self.watches.pop(0)
        if isinstance(step, StatusError):
            raise step
        for event in step:
            yield event


def run_informer(client: ScriptedClient, until: int) -> tuple[list[tuple[str, bool]], Informer]:
    seen: list[tuple[str, bool]] = []

    async def scenario() -> Informer:
        informer = Informer(
            ClientSource(cast(APIClient, client), CERTIFICATE_SIGNING_REQUESTS), resync=3600
        )
        informer.add_listener(lambda key, o: seen.append((key, o is not None)))
        task = asyncio.create_task(informer.run())
        for _ in range(2000):
            if len(client.watched_from) >= until:
                break
            await asyncio.sleep(0.005)
        task.cancel()
        return informer

    informer = asyncio.run(scenario())
    return seen, informer


def test_watch_resumes_from_the_last_resource_version() -> None:
    client = ScriptedClient(
        [{"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9")]}],
        [[WatchEvent("ADDED", obj("b", "11")), WatchEvent("BOOKMARK", obj("", "12"))], []],
    )
    seen, informer = run_informer(client, until=3)
    assert client.watched_from[:3] == ["10", "12", "12"]
    assert seen == [("a", True), ("b", True)]
    assert sorted(informer.cache) == ["a", "b"]


def test_relists_after_gone_and_reports_what_vanished() -> None:
    client = ScriptedClient(
        [
            {"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9"), obj("b", "9")]},
            {"metadata": {"resourceVersion": "20"}, "items": [obj("b", "19")]},
        ],
        [Gone("too old resource version")],
    )
    seen, informer = run_informer(client, until=2)
    assert client.watched_from[:2] == ["10", "20"]
    assert ("a", False) in seen
    assert sorted(informer.cache) == ["b"]


def test_survives_an_unreachable_server() -> None:
    client = ScriptedClient(
        [
            {"metadata": {"resourceVersion": "10"}, "items": []},
            {"metadata": {"resourceVersion": "30"}, "items": [obj("c", "29")]},
        ],
        [ServiceUnavailable("connection refused")],
    )
    seen, informer = run_informer(client, until=2)
    assert client.watched_from[:2] == ["10", "30"]
    assert informer.cache.keys() == {"c"}
    assert seen == [("c", True)]


# --- the in-process source: a real Store over the memory backend --------------------------------


class CuttableSource:
    """A real source whose current watch the test can end, holding the next one until resumed.

    This stands in for a watch that broke (a server restart, a slow watcher dropped) while the
    world moved on, so the informer must watch again from a revision storage has compacted.
    """

    def __init__(self, inner: ListWatchSource) -> None:
        self.inner = inner
        self.cut = asyncio.Event()
        self.resume = asyncio.Event()
        self.watched_from: list[str] = []
        self.lists = 0

    @property
    def resource_type(self) -> ResourceType:
        return self.inner.resource_type

    async def list(self) -> Listed:
        self.lists += 1
        return await self.inner.list()

    async def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]:
        self.watched_from.append(resource_version)
        if len(self.watched_from) > 1:
            await self.resume.wait()
        async with contextlib.aclosing(self.inner.watch(resource_version)) as events:
            async for event in events:
                if self.cut.is_set() and len(self.watched_from) == 1:
                    return
                yield event


class Recorder:
    """Records every handler call as (handler, event, name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def attach(self, informer: Informer, label: str) -> None:
        informer.add_event_handler(
            on_add=lambda o: self.calls.append((label, "add", name_of(o))),
            on_update=lambda old, new: self.calls.append(
                (label, "resync" if old is new else "update", name_of(new))
            ),
            on_delete=lambda o: self.calls.append((label, "delete", name_of(o))),
        )


def name_of(o: dict[str, Any]) -> str:
    return str(o["metadata"]["name"])


async def memory_store() -> Store:
    backend = MemoryBackend()
    await backend.start()
    _, strategies = build_scheme()
    return Store(CONFIGMAPS, strategies[CONFIGMAPS], backend)


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)


def configmap(name: str, value: str = "1") -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"a": value}}


@pytest.mark.parametrize("feed", ["storage-watch", "broadcaster"])
def test_store_source_relists_after_compaction_and_reports_what_vanished(feed: str) -> None:
    async def scenario() -> tuple[Recorder, Informer, CuttableSource, list[str]]:
        store = await memory_store()
        broadcasters = Broadcasters()
        source = CuttableSource(
            StoreSource(
                store, feed=broadcasters.for_store(store) if feed == "broadcaster" else None
            )
        )
        await store.create("default", configmap("a"))
        await store.create("default", configmap("b"))
        informer = Informer(source, resync=0)
        recorder = Recorder()
        recorder.attach(informer, "h")
        task = asyncio.create_task(informer.run())
        await informer.synced.wait()
        await store.update("default", "b", configmap("b", "2"))
        await until(lambda: ("h", "update", "b") in recorder.calls)
        source.cut.set()
        # While the informer is not watching: a deleted, c created, history compacted.
        await store.delete("default", "a")
        await store.create("default", configmap("c"))
        await store.backend.compact(await store.backend.current_revision())
        source.resume.set()
        await until(lambda: sorted(informer.cache) == ["default/b", "default/c"])
        task.cancel()
        await broadcasters.close()
        return recorder, informer, source, sorted(informer.cache)

    recorder, informer, source, keys = asyncio.run(scenario())
    assert keys == ["default/b", "default/c"]
    assert source.lists == 2  # the second after 410 Gone
    after_cut = recorder.calls[recorder.calls.index(("h", "update", "b")) + 1 :]
    # The relist: what vanished first, reported deleted; then the rest as updates and adds.
    assert after_cut == [("h", "delete", "a"), ("h", "update", "b"), ("h", "add", "c")]
    assert informer.has_synced()


def test_handlers_run_in_order_after_the_cache_changed_and_a_late_one_is_replayed() -> None:
    async def scenario() -> tuple[list[tuple[str, str, str]], list[bool], Recorder]:
        store = await memory_store()
        await store.create("default", configmap("a"))
        informer = Informer(StoreSource(store), resync=0)
        recorder = Recorder()
        recorder.attach(informer, "first")
        cache_seen: list[bool] = []
        informer.add_event_handler(
            on_add=lambda o: cache_seen.append(informer.get("default/" + name_of(o)) is o),
            on_delete=lambda o: cache_seen.append(informer.get("default/" + name_of(o)) is None),
        )

        def broken(_o: dict[str, Any]) -> None:
            raise RuntimeError("a handler that fails")

        informer.add_event_handler(on_add=broken, on_delete=broken)
        recorder.attach(informer, "second")
        task = asyncio.create_task(informer.run())
        await informer.synced.wait()
        await store.update("default", "a", configmap("a", "2"))
        await store.create("default", configmap("b"))
        await store.delete("default", "a")
        await until(lambda: ("second", "delete", "a") in recorder.calls)
        late = Recorder()
        late.attach(informer, "late")
        task.cancel()
        return recorder.calls, cache_seen, late

    calls, cache_seen, late = asyncio.run(scenario())
    assert calls == [
        ("first", "add", "a"),
        ("second", "add", "a"),
        ("first", "update", "a"),
        ("second", "update", "a"),
        ("first", "add", "b"),
        ("second", "add", "b"),
        ("first", "delete", "a"),
        ("second", "delete", "a"),
    ]
    assert cache_seen == [True, True, True]
    assert late.calls == [("late", "add", "b")]


def test_resync_replays_the_cache_without_reading_the_source() -> None:
    async def scenario() -> tuple[Recorder, int]:
        store = await memory_store()
        await store.create("default", configmap("a"))
        source = CuttableSource(StoreSource(store))
        informer = Informer(source, resync=0.01)
        recorder = Recorder()
        recorder.attach(informer, "h")
        task = asyncio.create_task(informer.run())
        await until(lambda: recorder.calls.count(("h", "resync", "a")) >= 2)
        task.cancel()
        return recorder, source.lists

    recorder, lists = asyncio.run(scenario())
    assert recorder.calls[0] == ("h", "add", "a")
    assert set(recorder.calls[1:]) == {("h", "resync", "a")}
    assert len(recorder.calls) >= 3
    assert lists == 1


def test_a_watch_that_keeps_ending_empty_is_not_spun_on() -> None:
    client = ScriptedClient(
        [{"metadata": {"resourceVersion": "10"}, "items": []}], [[], [], [], []]
    )

    async def scenario() -> int:
        informer = Informer(
            ClientSource(cast(APIClient, client), CERTIFICATE_SIGNING_REQUESTS), resync=0
        )
        task = asyncio.create_task(informer.run())
        for _ in range(50):  # many loop turns, no wall-clock: a spinning informer would use them
            await asyncio.sleep(0)
        task.cancel()
        return len(client.watched_from)

    assert asyncio.run(scenario()) == 1
