"""The endpoints controller (and the Service/pod rules it shares with the endpointslice
controller) against seeded informers and a recording client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from service_fakes import pod, service
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_services import ENDPOINTS, SERVICES
from kubeward.controllers import servicepods as sp
from kubeward.controllers.endpoints import (
    OVER_CAPACITY,
    EndpointsController,
    desired_labels,
    desired_subsets,
    truncate,
)

WEB = {"app": "web"}
PORT_8080 = [{"name": "", "port": 8080, "protocol": "TCP"}]


def ref(name: str) -> dict[str, str]:
    return {"kind": "Pod", "namespace": "ns", "name": name, "uid": f"uid-{name}"}


def address(name: str, ip: str, node: str = "node-1") -> dict[str, Any]:
    return {"ip": ip, "nodeName": node, "targetRef": ref(name)}


def test_ready_and_not_ready_pods_share_a_subset_by_their_ports() -> None:
    pods = [
        pod("b", "10.244.0.3"),
        pod("a", "10.244.0.2"),
        pod("slow", "10.244.0.4", ready=False),
        pod("other", "10.244.0.5", labels={"app": "db"}),
    ]
    assert desired_subsets(service(selector=WEB), pods) == [
        {
            "addresses": [address("a", "10.244.0.2"), address("b", "10.244.0.3")],
            "notReadyAddresses": [address("slow", "10.244.0.4")],
            "ports": PORT_8080,
        }
    ]


@pytest.mark.parametrize(
    ("the_pod", "publish", "listed"),
    [
        (pod("p", ""), False, None),
        (pod("p", "10.244.0.2", phase="Succeeded"), False, None),
        (pod("p", "10.244.0.2", phase="Failed"), True, None),
        (pod("p", "10.244.0.2", deleting=True), False, None),
        (pod("p", "10.244.0.2", deleting=True), True, "addresses"),
        (pod("p", "10.244.0.2", ready=False), True, "addresses"),
        (pod("p", "10.244.0.2", ready=False), False, "notReadyAddresses"),
    ],
    ids=[
        "no-ip",
        "succeeded",
        "failed",
        "terminating",
        "terminating-published",
        "not-ready-published",
        "not-ready",
    ],
)
def test_which_pods_are_listed_and_where(
    the_pod: dict[str, Any], publish: bool, listed: str | None
) -> None:
    subsets = desired_subsets(service(selector=WEB, publish_not_ready=publish), [the_pod])
    if listed is None:
        assert subsets == []
    else:
        (subset,) = subsets
        assert set(subset) == {listed, "ports"}


def test_named_target_ports_resolve_per_pod_and_split_subsets() -> None:
    ports = [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]
    pods = [
        pod("a", "10.244.0.2", ports=[{"name": "web", "containerPort": 8080}]),
        pod("b", "10.244.0.3", ports=[{"name": "web", "containerPort": 9090}]),
        pod("c", "10.244.0.4", ports=[{"name": "web", "containerPort": 53, "protocol": "UDP"}]),
    ]
    subsets = desired_subsets(service(selector=WEB, ports=ports), pods)
    assert [(s["addresses"][0]["ip"], s["ports"][0]["port"]) for s in subsets] == [
        ("10.244.0.2", 8080),
        ("10.244.0.3", 9090),
    ]
    assert subsets[0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_headless_without_ports_lists_addresses_and_hostnames() -> None:
    headless = service(selector=WEB, ports=[], cluster_ip="None")
    pods = [pod("a", "10.244.0.2", hostname="a", subdomain="web")]
    assert desired_subsets(headless, pods) == [
        {"addresses": [{**address("a", "10.244.0.2"), "hostname": "a"}]}
    ]
    assert desired_labels(headless) == {sp.HEADLESS_LABEL: ""}


def test_find_port_follows_upstream() -> None:
    the_pod = pod("a", "1.2.3.4", ports=[{"name": "web", "containerPort": 8080}])
    assert sp.find_port(the_pod, {"port": 80}) == 80
    assert sp.find_port(the_pod, {"port": 80, "targetPort": 81}) == 81
    assert sp.find_port(the_pod, {"port": 80, "targetPort": "web"}) == 8080
    assert sp.find_port(the_pod, {"port": 80, "targetPort": "web", "protocol": "UDP"}) is None
    assert sp.find_port(the_pod, {"port": 80, "targetPort": "nope"}) is None


def run(
    services: list[Any], pods: list[Any], endpoints: list[Any], key: str = "ns/web"
) -> RecordingClient:
    async def go() -> RecordingClient:
        client = RecordingClient()
        controller = EndpointsController(
            await seeded(SERVICES, services),
            await seeded(PODS, pods),
            await seeded(ENDPOINTS, endpoints),
            client.as_client(),
        )
        await controller.reconcile(key)
        return client

    return asyncio.run(go())


def test_a_service_with_a_selector_gets_its_endpoints_created() -> None:
    client = run([service(selector=WEB, labels={"team": "a"})], [pod("a", "10.244.0.2")], [])
    ((verb, resource, body),) = client.calls
    assert (verb, resource) == ("create", "endpoints")
    assert body["metadata"] == {"name": "web", "namespace": "ns", "labels": {"team": "a"}}
    assert body["subsets"][0]["addresses"] == [address("a", "10.244.0.2")]


def test_endpoints_are_written_only_when_they_change() -> None:
    pods = [pod("a", "10.244.0.2")]
    current = {
        "metadata": {"name": "web", "namespace": "ns", "labels": {}, "resourceVersion": "4"},
        "subsets": desired_subsets(service(selector=WEB), pods),
    }
    assert run([service(selector=WEB)], pods, [current]).calls == []
    changed = run([service(selector=WEB)], [*pods, pod("b", "10.244.0.3")], [current])
    ((verb, _, body),) = changed.calls
    assert verb == "update" and body["metadata"]["resourceVersion"] == "4"
    assert len(body["subsets"][0]["addresses"]) == 2


def test_selectorless_services_are_left_alone_and_deleted_services_lose_their_endpoints() -> None:
    user_written = {"metadata": {"name": "web", "namespace": "ns"}, "subsets": []}
    assert run([service()], [pod("a", "10.244.0.2")], [user_written]).calls == []
    client = run([], [], [user_written])
    assert client.calls == [("delete", "endpoints/web", {})]


def addresses(count: int, prefix: str) -> list[dict[str, Any]]:
    return [address(f"{prefix}{i}", f"10.1.{i // 250}.{i % 250 + 1}") for i in range(count)]


def test_over_capacity_not_ready_addresses_go_first_in_proportion() -> None:
    subsets = [
        {"addresses": addresses(900, "r"), "notReadyAddresses": addresses(150, "n")},
        {"notReadyAddresses": addresses(50, "m")},
    ]
    assert truncate(subsets)
    assert [len(s.get("addresses", [])) for s in subsets] == [900, 0]
    # 100 places for 200 not-ready addresses: 75 and 25, each rounded up.
    assert [len(s.get("notReadyAddresses", [])) for s in subsets] == [75, 25]


def test_over_capacity_ready_addresses_alone_are_kept_in_proportion() -> None:
    subsets = [
        {"addresses": addresses(1500, "r"), "notReadyAddresses": addresses(5, "n")},
        {"addresses": addresses(500, "s")},
    ]
    assert truncate(subsets)
    assert [len(s["addresses"]) for s in subsets] == [750, 250]
    assert all("notReadyAddresses" not in s for s in subsets)
    assert not truncate([{"addresses": addresses(1000, "r")}])


def test_a_truncated_endpoints_is_annotated() -> None:
    pods = [pod(f"p{i}", f"10.2.{i // 250}.{i % 250 + 1}") for i in range(1001)]
    client = run([service(selector=WEB)], pods, [])
    ((_, _, body),) = client.calls
    assert body["metadata"]["annotations"] == {OVER_CAPACITY: "truncated"}
    assert len(body["subsets"][0]["addresses"]) == 1000
