"""Service addresses and node ports, allocated in storage around the Service store's writes."""

import asyncio

import pytest

from kubeward.api.allocation.ranges import IPRange, PortRange
from kubeward.api.allocation.services import IP_PREFIX, NODE_PORT_PREFIX, ServiceAllocations
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core_services import SERVICES
from kubeward.errors import InputError, InternalError, Invalid
from kubeward.storage.memory import MemoryBackend


def run(coro):
    return asyncio.run(coro)


async def service_store(cidr="10.0.0.0/24", ports="30000-32767", backend=None):
    backend = backend or MemoryBackend()
    await backend.start()
    _, strategies = build_scheme()
    store = Store(SERVICES, strategies[SERVICES], backend)
    store.hooks = ServiceAllocations(backend, IPRange.parse(cidr), PortRange.parse(ports))
    return backend, store


def svc(name, **spec):
    spec.setdefault("ports", [{"port": 80}])
    return {"metadata": {"name": name}, "spec": spec}


async def keys(backend, prefix):
    return [kv.key[len(prefix) :] for kv in (await backend.list(prefix)).items]


def test_cluster_ip_is_allocated_stored_and_defaults_filled():
    async def go():
        backend, store = await service_store()
        created = await store.create("default", svc("web"))
        return created, await keys(backend, IP_PREFIX), await store.get("default", "web")

    created, stored_ips, got = run(go())
    spec = created["spec"]
    assert spec["clusterIP"] == spec["clusterIPs"][0] == got["spec"]["clusterIP"]
    assert stored_ips == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None"
    assert spec["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert created["status"] == {"loadBalancer": {}}


def test_requested_ip_taken_out_of_range_and_freed_on_delete():
    async def go():
        backend, store = await service_store()
        await store.create("default", svc("a", clusterIP="10.0.0.10"))
        with pytest.raises(Invalid) as taken:
            await store.create("default", svc("b", clusterIP="10.0.0.10"))
        with pytest.raises(Invalid) as outside:
            await store.create("default", svc("c", clusterIP="10.9.0.1"))
        after_refusals = await keys(backend, IP_PREFIX)
        await store.delete("default", "a")
        freed = await keys(backend, IP_PREFIX)
        again = await store.create("default", svc("b", clusterIP="10.0.0.10"))
        return taken.value, outside.value, after_refusals, freed, again

    taken, outside, after_refusals, freed, again = run(go())
    assert str(taken) == (
        'Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.10"]: '
        "failed to allocate IP 10.0.0.10: provided IP is already allocated"
    )
    assert str(outside).endswith(
        "failed to allocate IP 10.9.0.1: provided IP is not in the valid range. "
        "The range of valid IPs is 10.0.0.0/24"
    )
    assert after_refusals == ["10.0.0.10"]
    assert freed == []
    assert again["spec"]["clusterIP"] == "10.0.0.10"


def test_headless_and_external_name_get_no_address():
    async def go():
        backend, store = await service_store()
        headless = await store.create("default", svc("h", clusterIP="None", selector={"a": "b"}))
        selectorless = await store.create("default", svc("s", clusterIP="None"))
        external = await store.create(
            "default", svc("x", type="ExternalName", externalName="db.example.com", ports=[])
        )
        return headless, selectorless, external, await keys(backend, IP_PREFIX)

    headless, selectorless, external, stored = run(go())
    assert headless["spec"]["clusterIPs"] == ["None"]
    assert headless["spec"]["ipFamilies"] == ["IPv4"]
    # A headless Service without a selector defaults to RequireDualStack and lists both families.
    assert selectorless["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert selectorless["spec"]["ipFamilies"] == ["IPv4", "IPv6"]
    assert "clusterIP" not in external["spec"] and "ipFamilies" not in external["spec"]
    assert stored == []


def test_node_ports_allocated_shared_by_port_number_refused_when_taken():
    async def go():
        backend, store = await service_store()
        created = await store.create(
            "default",
            svc(
                "np",
                type="NodePort",
                ports=[
                    {"name": "tcp", "port": 53, "protocol": "TCP"},
                    {"name": "udp", "port": 53, "protocol": "UDP"},
                    {"name": "web", "port": 80, "nodePort": 30080},
                ],
            ),
        )
        with pytest.raises(Invalid) as taken:
            await store.create(
                "default", svc("other", type="NodePort", ports=[{"port": 1, "nodePort": 30080}])
            )
        with pytest.raises(Invalid) as outside:
            await store.create(
                "default", svc("far", type="NodePort", ports=[{"port": 1, "nodePort": 8080}])
            )
        held = await keys(backend, NODE_PORT_PREFIX)
        ips = await keys(backend, IP_PREFIX)
        await store.delete("default", "np")
        return created, taken.value, outside.value, held, ips, await keys(backend, NODE_PORT_PREFIX)

    created, taken, outside, held, ips, after_delete = run(go())
    ports = created["spec"]["ports"]
    assert ports[0]["nodePort"] == ports[1]["nodePort"] and 30000 <= ports[0]["nodePort"] <= 32767
    assert ports[2]["nodePort"] == 30080
    assert created["spec"]["externalTrafficPolicy"] == "Cluster"
    assert str(taken) == (
        'Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
        "provided port is already allocated"
    )
    assert str(outside).endswith(
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )
    assert sorted(held) == sorted({str(ports[0]["nodePort"]), "30080"})
    assert len(ips) == 1  # the refused Services kept no address
    assert after_delete == []


def test_update_changes_type_allocating_and_releasing():
    async def go():
        backend, store = await service_store()
        await store.create("default", svc("web"))

        def to_node_port(obj):
            obj["spec"]["type"] = "NodePort"
            return obj

        node_port = await store.guaranteed_update("default", "web", to_node_port)
        ports_held = await keys(backend, NODE_PORT_PREFIX)

        def to_external(obj):
            obj["spec"].update(type="ExternalName", externalName="example.com")
            return obj

        external = await store.guaranteed_update("default", "web", to_external)
        return (
            node_port,
            ports_held,
            external,
            await keys(backend, IP_PREFIX),
            await keys(backend, NODE_PORT_PREFIX),
        )

    node_port, ports_held, external, ips, ports = run(go())
    assert ports_held == [str(node_port["spec"]["ports"][0]["nodePort"])]
    assert "clusterIP" not in external["spec"] and "nodePort" not in external["spec"]["ports"][0]
    assert ips == [] and ports == []


def test_put_without_cluster_ip_keeps_it_and_changing_it_is_refused():
    async def go():
        backend, store = await service_store()
        created = await store.create("default", svc("web"))
        replaced = await store.update("default", "web", svc("web"))
        with pytest.raises(Invalid) as changed:
            await store.update("default", "web", svc("web", clusterIP="10.0.0.200"))
        return created, replaced, changed.value, await keys(backend, IP_PREFIX)

    created, replaced, changed, ips = run(go())
    assert replaced["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert "spec.clusterIPs[0]: Invalid value: " in str(changed)
    assert str(changed).endswith("may not change once set")
    assert ips == [created["spec"]["clusterIP"]]  # 10.0.0.200 was not kept


def test_dry_run_allocates_nothing():
    async def go():
        backend, store = await service_store()
        dry = await store.create("default", svc("web", type="NodePort"), dry_run=True)
        return dry, await keys(backend, IP_PREFIX), await keys(backend, NODE_PORT_PREFIX)

    dry, ips, ports = run(go())
    assert dry["spec"]["clusterIP"] and dry["spec"]["ports"][0]["nodePort"]
    assert ips == [] and ports == []


def test_a_full_range_is_an_internal_error_and_two_servers_share_the_allocations():
    async def go():
        backend = MemoryBackend()
        _, first = await service_store("10.1.0.0/30", backend=backend)  # two usable addresses
        _, second = await service_store("10.1.0.0/30", backend=backend)
        a = await first.create("default", svc("a"))
        b = await second.create("default", svc("b"))
        with pytest.raises(InternalError) as full:
            await first.create("default", svc("c"))
        return a, b, full.value

    a, b, full = run(go())
    assert {a["spec"]["clusterIP"], b["spec"]["clusterIP"]} == {"10.1.0.1", "10.1.0.2"}
    assert "range is full" in str(full)


@pytest.mark.parametrize(
    ("cidr", "ports"),
    [
        ("10.0.0.0/33", "30000-32767"),
        ("banana", "30000-32767"),
        ("10.0.0.0/24", "3-2"),
        ("10.0.0.0/24", "x"),
        ("10.0.0.0/24,fd00::/108", "30000-32767"),
    ],
    ids=["prefix-too-long", "not-a-cidr", "reversed-ports", "not-a-port-range", "dual-stack"],
)
def test_bad_range_flags_are_input_errors(cidr, ports):
    with pytest.raises(InputError):
        IPRange.parse(cidr)
        PortRange.parse(ports)


def test_ranges_reserve_network_and_broadcast_and_have_a_static_band():
    rng = IPRange.parse("10.0.0.0/24")
    assert str(rng.address(0)) == "10.0.0.1" and rng.size == 254
    assert rng.static_band == 16
    assert PortRange.parse("30000-32767").static_band == 86
    assert PortRange.parse("30000+2767").size == 2768


def test_repair_frees_old_orphans_keeps_fresh_ones_and_records_missing_ones():
    from datetime import timedelta

    from kubeward.api import meta as m

    async def go():
        backend, store = await service_store()
        held = await store.create(
            "default",
            svc(
                "held",
                type="NodePort",
                clusterIP="10.0.0.5",
                ports=[{"port": 80, "nodePort": 30005}],
            ),
        )
        allocations = store.hooks
        # A crash between an allocation and the Service's write leaves an orphan behind.
        await allocations.addresses.allocate(
            "10.0.0.7", {"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}}
        )
        await allocations.node_ports.allocate(
            "30006", {"metadata": {"creationTimestamp": "2020-01-01T00:00:00Z"}}
        )
        # Another server's allocation still in flight: newer than the grace period.
        await allocations.addresses.allocate("10.0.0.8", allocations._ip_record(held)("10.0.0.8"))
        # A stored Service whose address record was lost.
        await allocations.addresses.release(held["spec"]["clusterIP"])
        services = (await store.list("", ListOptions()))["items"]
        result = await allocations.repair(services, m.now(), timedelta(minutes=1))
        return held, result, await keys(backend, IP_PREFIX), await keys(backend, NODE_PORT_PREFIX)

    held, (freed, recorded), ips, ports = run(go())
    assert (freed, recorded) == (2, 1)
    assert sorted(ips) == sorted([held["spec"]["clusterIP"], "10.0.0.8"])
    assert ports == [str(held["spec"]["ports"][0]["nodePort"])]


def test_dynamic_allocation_uses_the_upper_band_first_and_the_static_band_last():
    from kubeward.api.allocation.stored import StoredAllocator

    async def go():
        backend = MemoryBackend()
        await backend.start()
        allocator = StoredAllocator(
            backend, "/registry/test/", 20, 4, lambda o: f"{o:02d}", lambda t: int(t)
        )
        first = [await allocator.allocate_next(lambda item: {}) for _ in range(16)]
        last = [await allocator.allocate_next(lambda item: {}) for _ in range(4)]
        full = await allocator.allocate_next(lambda item: {})
        return first, last, full

    first, last, full = run(go())
    assert sorted(first) == [f"{o:02d}" for o in range(4, 20)]
    assert sorted(last) == ["00", "01", "02", "03"]
    assert full is None


def test_an_update_without_cluster_ip_but_with_cluster_ips_keeps_both():
    async def go():
        _, store = await service_store()
        created = await store.create("default", svc("web"))
        body = svc("web", clusterIPs=created["spec"]["clusterIPs"])
        return created, await store.update("default", "web", body)

    created, replaced = run(go())
    assert replaced["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert replaced["spec"]["clusterIPs"] == created["spec"]["clusterIPs"]


def test_load_balancer_local_gets_a_health_check_port_kept_on_update_released_on_type_change():
    async def go():
        backend, store = await service_store()
        created = await store.create(
            "default", svc("lb", type="LoadBalancer", externalTrafficPolicy="Local")
        )
        kept = await store.update(
            "default", "lb", svc("lb", type="LoadBalancer", externalTrafficPolicy="Local")
        )

        def to_node_port(obj):
            obj["spec"]["type"] = "NodePort"
            obj["spec"]["externalTrafficPolicy"] = "Cluster"
            return obj

        node_port = await store.guaranteed_update("default", "lb", to_node_port)
        return created, kept, node_port, await keys(backend, NODE_PORT_PREFIX)

    created, kept, node_port, held = run(go())
    health = created["spec"]["healthCheckNodePort"]
    assert 30000 <= health <= 32767 and created["spec"]["allocateLoadBalancerNodePorts"] is True
    assert kept["spec"]["healthCheckNodePort"] == health
    assert kept["spec"]["ports"][0]["nodePort"] == created["spec"]["ports"][0]["nodePort"]
    assert "healthCheckNodePort" not in node_port["spec"]
    assert "allocateLoadBalancerNodePorts" not in node_port["spec"]
    assert held == [str(node_port["spec"]["ports"][0]["nodePort"])]


class RefusingAdmission:
    """A validating admission that refuses every write, after the hooks have allocated."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    async def mutate(self, obj, old) -> None:
        return None

    async def validate(self, obj, old) -> None:
        from kubeward.errors import Forbidden

        self.seen.append(obj)
        raise Forbidden("refused by a test plugin")


def test_a_write_refused_by_validating_admission_keeps_no_allocation():
    from kubeward.api.registry.scope import RequestScope
    from kubeward.api.user import UserInfo
    from kubeward.errors import Forbidden

    async def go():
        backend, store = await service_store()
        admission = RefusingAdmission()
        scope = RequestScope(UserInfo("jane"), verb="create")
        with pytest.raises(Forbidden):
            await store.create(
                "default", svc("web", type="NodePort"), scope=scope, admission=admission
            )
        created = await store.create("default", svc("other"))

        def to_node_port(obj):
            obj["spec"]["type"] = "NodePort"
            return obj

        with pytest.raises(Forbidden):
            await store.guaranteed_update(
                "default", "other", to_node_port, scope=scope, admission=admission
            )
        return (
            admission.seen,
            created,
            await keys(backend, IP_PREFIX),
            await keys(backend, NODE_PORT_PREFIX),
        )

    seen, created, ips, ports = run(go())
    # Admission saw the object as it would have been stored: with its address and node port.
    assert seen[0]["spec"]["clusterIP"] and seen[0]["spec"]["ports"][0]["nodePort"]
    assert seen[1]["spec"]["ports"][0]["nodePort"]
    assert ips == [created["spec"]["clusterIP"]] and ports == []


def test_services_answer_field_selectors_on_cluster_ip_and_type():
    from kubeward.api.selectors import parse_field_selector

    async def go():
        _, store = await service_store()
        await store.create("default", svc("a", clusterIP="10.0.0.20"))
        await store.create("default", svc("b", type="NodePort"))
        by_ip = await store.list(
            "", ListOptions(field_selector=parse_field_selector("spec.clusterIP=10.0.0.20"))
        )
        by_type = await store.list(
            "", ListOptions(field_selector=parse_field_selector("spec.type=NodePort"))
        )
        return [i["metadata"]["name"] for i in by_ip["items"]], [
            i["metadata"]["name"] for i in by_type["items"]
        ]

    assert run(go()) == (["a"], ["b"])
