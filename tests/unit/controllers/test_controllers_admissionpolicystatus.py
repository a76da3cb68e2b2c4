"""The ValidatingAdmissionPolicy status controller, over the memory backend: each generation is
type checked once and its status written through /status."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.admissionregistration import VALIDATING_ADMISSION_POLICIES
from kubeward.api.scheme import ResourceType
from kubeward.controllers.admissionpolicystatus import AdmissionPolicyStatusController
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.sources import StoreSources
from kubeward.server.watch import Broadcasters
from kubeward.storage.memory import MemoryBackend


async def memory_stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    return {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def policy(expression: str) -> dict[str, Any]:
    rule = {
        "operations": ["CREATE"],
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "resources": ["deployments"],
    }
    return {
        "metadata": {"name": "p"},
        "spec": {
            "matchConstraints": {"resourceRules": [rule]},
            "validations": [{"expression": expression}],
        },
    }


async def status_at(store: Store, generation: int) -> dict[str, Any]:
    for _ in range(500):
        got = await store.get("", "p")
        status: dict[str, Any] = got.get("status") or {}
        if status.get("observedGeneration") == generation:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"no status for generation {generation}")


def test_each_generation_gets_its_type_checking() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        stores = await memory_stores()
        broadcasters = Broadcasters()
        informers = InformerFactory(StoreSources(stores, broadcasters.for_store), resync=0)
        controller = AdmissionPolicyStatusController(stores, informers)
        informers.start()
        running = asyncio.create_task(controller.run())
        store = stores[VALIDATING_ADMISSION_POLICIES]
        try:
            await store.create("", policy("object.spec.replicas < 5"))
            first = await status_at(store, 1)

            def typo(current: dict[str, Any]) -> dict[str, Any]:
                current["spec"]["validations"] = [{"expression": "object.spec.replica < 5"}]
                return current

            await store.guaranteed_update("", "p", typo)
            second = await status_at(store, 2)
        finally:
            running.cancel()
            await informers.stop()
            await broadcasters.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first == {"observedGeneration": 1, "typeChecking": {}}
    warnings = second["typeChecking"]["expressionWarnings"]
    assert [w["fieldRef"] for w in warnings] == ["spec.validations[0].expression"]
    assert (
        "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'"
        in (warnings[0]["warning"])
    )
