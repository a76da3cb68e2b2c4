"""The token object index follows storage through the server's shared informers."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import NAMESPACES, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.sources import StoreSources
from kubeward.server.watch import Broadcasters
from kubeward.server.wiring.serviceaccount_index import ObjectIndex
from kubeward.storage.memory import MemoryBackend


async def _stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    stores = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
    await stores[NAMESPACES].create("", {"metadata": {"name": "team"}})
    return stores


def test_object_index_follows_storage() -> None:
    async def go() -> tuple[Any, Any, Any]:
        stores = await _stores()
        broadcasters = Broadcasters()
        informers = InformerFactory(StoreSources(stores, broadcasters.for_store))
        index = ObjectIndex()
        index.follow(informers)
        await stores[SERVICEACCOUNTS].create("team", {"metadata": {"name": "bot"}})
        await index.wait_for_sync()
        listed = index.get("serviceaccounts", "team", "bot")
        await stores[SERVICEACCOUNTS].delete("team", "bot")
        for _ in range(200):
            if index.get("serviceaccounts", "team", "bot") is None:
                break
            await asyncio.sleep(0.01)
        after = index.get("serviceaccounts", "team", "bot")
        await stores[SERVICEACCOUNTS].create("team", {"metadata": {"name": "late"}})
        for _ in range(200):
            if index.get("serviceaccounts", "team", "late") is not None:
                break
            await asyncio.sleep(0.01)
        late = index.get("serviceaccounts", "team", "late")
        await informers.stop()
        await broadcasters.close()
        return listed, after, late

    listed, after, late = asyncio.run(go())
    assert listed is not None and listed["metadata"]["uid"]
    assert after is None
    assert late is not None
