"""The in-process source keeps a selector's watch semantics; the factory shares one informer."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS, SECRETS
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import parse_label_selector
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.sources import StoreSource, StoreSources
from kubeward.server.watch import Broadcasters
from kubeward.storage.memory import MemoryBackend


async def memory_stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    return {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def labelled(name: str, tier: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"tier": tier}}}


def test_a_selector_turns_leaving_into_deleted_and_entering_into_added() -> None:
    async def scenario() -> tuple[list[str], list[tuple[str, str]]]:
        stores = await memory_stores()
        store = stores[CONFIGMAPS]
        await store.create("default", labelled("web", "front"))
        await store.create("default", labelled("db", "back"))
        await store.create("other", labelled("elsewhere", "front"))
        source = StoreSource(
            store,
            namespace="default",
            options=ListOptions(label_selector=parse_label_selector("tier=front")),
        )
        listed = await source.list()
        seen: list[tuple[str, str]] = []

        async def follow() -> None:
            async for event in source.watch(listed.resource_version):
                seen.append((event.type, event.object["metadata"]["name"]))

        task = asyncio.create_task(follow())
        await store.update("default", "web", labelled("web", "back"))  # leaves
        await store.update("default", "db", labelled("db", "front"))  # enters
        await store.update("default", "db", {**labelled("db", "front"), "data": {"a": "1"}})
        await store.create("other", labelled("ignored", "front"))  # another namespace
        await store.delete("default", "db")
        for _ in range(200):
            if len(seen) >= 4:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return [i["metadata"]["name"] for i in listed.items], seen

    items, seen = asyncio.run(scenario())
    assert items == ["web"]
    assert seen == [("DELETED", "web"), ("ADDED", "db"), ("MODIFIED", "db"), ("DELETED", "db")]


def test_the_factory_shares_one_informer_per_kind_through_the_broadcaster() -> None:
    async def scenario() -> tuple[bool, bool, list[str], int]:
        stores = await memory_stores()
        broadcasters = Broadcasters()
        factory = InformerFactory(StoreSources(stores, broadcasters.for_store), resync=0)
        shared = factory.informer(SECRETS) is factory.informer(SECRETS)
        configmaps = factory.informer(CONFIGMAPS)
        names: list[str] = []
        configmaps.add_event_handler(on_add=lambda o: names.append(o["metadata"]["name"]))
        factory.start()
        factory.start()  # again: nothing more is started
        await factory.wait_for_sync()
        await stores[CONFIGMAPS].create("default", {"metadata": {"name": "x"}})
        for _ in range(200):
            if names:
                break
            await asyncio.sleep(0.01)
        running = len(factory.tasks())
        await factory.stop()
        await broadcasters.close()
        return shared, configmaps.has_synced(), names, running

    shared, synced, names, running = asyncio.run(scenario())
    assert shared and synced
    assert names == ["x"]
    assert running == 2
