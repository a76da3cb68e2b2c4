"""The RBAC index in the server: synced before prepare() returns, then kept current by events."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.rbac import CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLES
from kubeward.api.scheme import ResourceType
from kubeward.authz.rbac.index import RBACIndex
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.sources import StoreSources
from kubeward.server.watch import Broadcasters
from kubeward.server.wiring.rbac_wiring import RBAC_TYPES, RBACWiring
from kubeward.storage.memory import MemoryBackend


async def memory_stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    return {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def binding(name: str, user: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def test_prepare_returns_with_the_index_synced_and_events_keep_it_current() -> None:
    async def scenario() -> dict[str, Any]:
        stores = await memory_stores()
        await stores[ROLES].create("team", {"metadata": {"name": "before-start"}, "rules": []})
        broadcasters = Broadcasters()
        informers = InformerFactory(StoreSources(stores, broadcasters.for_store), resync=0)
        index = RBACIndex()
        wiring = RBACWiring(index, stores, informers)
        await wiring.prepare()
        seen: dict[str, Any] = {
            "synced": all(informers.informer(rt).has_synced() for rt in RBAC_TYPES),
            "cluster-admin": index.cluster_role("cluster-admin") is not None,
            "before-start": index.role("team", "before-start") is not None,
            "admin-aggregated": bool(index.cluster_role("admin").rules),  # type: ignore[union-attr]
        }
        tasks = wiring.tasks()
        await stores[CLUSTER_ROLE_BINDINGS].create("", binding("late", "ana"))
        for _ in range(500):
            if any(b.name == "late" for b in index.bindings()):
                break
            await asyncio.sleep(0.01)
        seen["late-binding"] = any(b.name == "late" for b in index.bindings())
        await stores[CLUSTER_ROLES].delete("", "view")
        for _ in range(500):
            if index.cluster_role("view") is None:
                break
            await asyncio.sleep(0.01)
        seen["view-forgotten"] = index.cluster_role("view") is None
        for task in tasks:
            task.cancel()
        await informers.stop()
        await broadcasters.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen == {
        "synced": True,
        "cluster-admin": True,
        "before-start": True,
        "admin-aggregated": True,
        "late-binding": True,
        "view-forgotten": True,
    }
