"""The kubernetes Service in default, its endpoints, and the repair of stored allocations."""

import asyncio

import pytest

from kubeward.api.allocation.ranges import IPRange, PortRange
from kubeward.api.allocation.services import IP_PREFIX, ServiceAllocations
from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core_services import ENDPOINTS, SERVICES
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.controllers.kubernetes_service import (
    ensure_kubernetes_service,
    repair_service_allocations,
)
from kubeward.errors import NotFound
from kubeward.storage.memory import MemoryBackend

RANGE = IPRange.parse("10.0.0.0/24")


async def stores():
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    found = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
    found[SERVICES].hooks = ServiceAllocations(backend, RANGE, PortRange.parse("30000-32767"))
    return backend, found


def test_created_once_then_repointed_to_a_new_port():
    async def go():
        backend, s = await stores()
        await ensure_kubernetes_service(s, RANGE, "127.0.0.1", 6443)
        first = await s[SERVICES].get("default", "kubernetes")
        await ensure_kubernetes_service(s, RANGE, "127.0.0.1", 6443)
        same = await s[SERVICES].get("default", "kubernetes")
        await ensure_kubernetes_service(s, RANGE, "127.0.0.1", 7443)
        moved = await s[SERVICES].get("default", "kubernetes")
        ips = [kv.key for kv in (await backend.list(IP_PREFIX)).items]
        with pytest.raises(NotFound):
            await s[ENDPOINTS].get("default", "kubernetes")
        return first, same, moved, ips

    first, same, moved, ips = run(go())
    assert first["spec"]["clusterIP"] == "10.0.0.1"
    assert first["spec"]["ports"] == [
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
    ]
    assert same["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert moved["spec"]["ports"][0]["targetPort"] == 7443
    assert moved["spec"]["clusterIP"] == "10.0.0.1"
    assert ips == [IP_PREFIX + "10.0.0.1"]


def test_a_routable_advertise_address_gets_endpoints_and_a_slice():
    async def go():
        _, s = await stores()
        await ensure_kubernetes_service(s, RANGE, "192.0.2.10", 6443)
        await ensure_kubernetes_service(s, RANGE, "192.0.2.11", 6443)
        return (
            await s[ENDPOINTS].get("default", "kubernetes"),
            await s[ENDPOINT_SLICES].get("default", "kubernetes"),
        )

    endpoints, endpoint_slice = run(go())
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "192.0.2.11"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]
    assert endpoint_slice["endpoints"] == [
        {"addresses": ["192.0.2.11"], "conditions": {"ready": True}}
    ]
    assert endpoint_slice["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}


def test_repair_at_start_records_an_address_storage_lost():
    async def go():
        backend, s = await stores()
        await ensure_kubernetes_service(s, RANGE, "127.0.0.1", 6443)
        await backend.delete(IP_PREFIX + "10.0.0.1")
        await repair_service_allocations(s)
        return [kv.key for kv in (await backend.list(IP_PREFIX)).items]

    assert run(go()) == [IP_PREFIX + "10.0.0.1"]


def run(coro):
    return asyncio.run(coro)
