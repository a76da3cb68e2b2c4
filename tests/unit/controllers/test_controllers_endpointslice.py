"""The endpointslice controller: endpoints and their conditions, slicing, and its writes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from service_fakes import pod, service
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.core import NODES, PODS
from kubeward.api.resources.core_services import SERVICES
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.controllers.endpointslice import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MAX_ENDPOINTS_PER_SLICE,
    SERVICE_NAME_LABEL,
    EndpointSliceController,
    desired_endpoints,
    plan_slices,
)

WEB = {"app": "web"}
PORTS = [{"name": "", "port": 8080, "protocol": "TCP"}]


def only_group(svc: dict[str, Any], pods: list[Any], **kw: Any) -> list[dict[str, Any]]:
    (group,) = desired_endpoints(svc, pods, **kw).values()
    assert group[0] == PORTS
    return group[1]


@pytest.mark.parametrize(
    ("the_pod", "publish", "conditions"),
    [
        (pod("p", "10.0.0.2"), False, {"ready": True, "serving": True, "terminating": False}),
        (
            pod("p", "10.0.0.2", ready=False),
            False,
            {"ready": False, "serving": False, "terminating": False},
        ),
        (
            pod("p", "10.0.0.2", deleting=True),
            False,
            {"ready": False, "serving": True, "terminating": True},
        ),
        (
            pod("p", "10.0.0.2", ready=False),
            True,
            {"ready": True, "serving": False, "terminating": False},
        ),
    ],
    ids=["ready", "not-ready", "terminating-still-serving", "published-not-ready"],
)
def test_endpoint_conditions(the_pod: dict[str, Any], publish: bool, conditions: Any) -> None:
    (endpoint,) = only_group(service(selector=WEB, publish_not_ready=publish), [the_pod])
    assert endpoint["conditions"] == conditions


def test_an_endpoint_names_its_pod_node_and_zone() -> None:
    (endpoint,) = only_group(
        service(selector=WEB), [pod("a", "10.0.0.2", node="n1")], zones={"n1": "z1"}
    )
    assert endpoint == {
        "addresses": ["10.0.0.2"],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "ns", "name": "a", "uid": "uid-a"},
        "nodeName": "n1",
        "zone": "z1",
    }


def test_pods_without_ip_or_ended_are_not_endpoints() -> None:
    pods = [pod("a", ""), pod("b", "10.0.0.3", phase="Succeeded")]
    assert desired_endpoints(service(selector=WEB), pods) == {}


def many(count: int) -> list[dict[str, Any]]:
    return [pod(f"p{i:03}", f"10.0.{i // 250}.{i % 250 + 1}") for i in range(count)]


def test_at_most_a_hundred_endpoints_per_slice_owned_and_labelled() -> None:
    svc = service(selector=WEB, labels={"team": "a"})
    create, update, delete = plan_slices(svc, desired_endpoints(svc, many(250)), [])
    assert (update, delete) == ([], [])
    assert [len(s["endpoints"]) for s in create] == [100, 100, 50]
    first = create[0]
    assert first["addressType"] == "IPv4" and first["ports"] == PORTS
    assert first["metadata"]["generateName"] == "web-"
    assert first["metadata"]["labels"] == {
        "team": "a",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: CONTROLLER_NAME,
    }
    assert first["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": "uid-svc-web",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert MAX_ENDPOINTS_PER_SLICE == 100


def existing(name: str, svc: dict[str, Any], endpoints: list[Any]) -> dict[str, Any]:
    create, _, _ = plan_slices(svc, {"k": (PORTS, endpoints)}, [])
    slice_ = create[0]
    slice_["metadata"]["name"] = name
    slice_["endpoints"] = endpoints
    return slice_


def test_endpoints_stay_where_they_are_and_new_ones_fill_the_room() -> None:
    svc = service(selector=WEB)
    pods = many(150)
    groups = desired_endpoints(svc, pods)
    ((_, endpoints),) = groups.values()
    # A slice already listing the last 60 endpoints keeps them; the others fill it up.
    held = existing("web-a", svc, endpoints[90:])
    create, update, delete = plan_slices(svc, groups, [held])
    assert delete == []
    (updated,) = update
    listed = [e["targetRef"]["name"] for e in updated["endpoints"]]
    assert listed[:60] == [f"p{i:03}" for i in range(90, 150)]
    assert len(listed) == 100
    (created,) = create
    assert len(created["endpoints"]) == 50


def test_an_unchanged_slice_is_not_written_and_a_surplus_one_is_deleted() -> None:
    svc = service(selector=WEB)
    groups = desired_endpoints(svc, many(3))
    ((_, endpoints),) = groups.values()
    keep = existing("web-a", svc, endpoints)
    surplus = existing("web-b", svc, [])
    assert plan_slices(svc, groups, [keep, surplus]) == ([], [], [surplus])


def test_a_service_without_endpoints_keeps_one_empty_slice() -> None:
    svc = service(selector=WEB)
    create, _, _ = plan_slices(svc, {}, [])
    (placeholder,) = create
    assert (placeholder["endpoints"], placeholder["ports"]) == ([], [])
    placeholder["metadata"]["name"] = "web-x"
    assert plan_slices(svc, {}, [placeholder]) == ([], [], [])


def test_different_ports_make_different_slices() -> None:
    ports = [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]
    svc = service(selector=WEB, ports=ports)
    pods = [
        pod("a", "10.0.0.2", ports=[{"name": "web", "containerPort": 8080}]),
        pod("b", "10.0.0.3", ports=[{"name": "web", "containerPort": 9090}]),
    ]
    create, _, _ = plan_slices(svc, desired_endpoints(svc, pods), [])
    assert sorted(s["ports"][0]["port"] for s in create) == [8080, 9090]


async def controller_for(
    services: list[Any], pods: list[Any], slices: list[Any], client: RecordingClient
) -> EndpointSliceController:
    return EndpointSliceController(
        await seeded(SERVICES, services),
        await seeded(PODS, pods),
        await seeded(ENDPOINT_SLICES, slices),
        await seeded(NODES, []),
        client.as_client(),
    )


def test_reconcile_creates_then_waits_for_its_own_write() -> None:
    async def go() -> tuple[RecordingClient, float | None]:
        client = RecordingClient()
        controller = await controller_for([service(selector=WEB)], many(2), [], client)
        await controller.reconcile("ns/web")
        # The informer has not seen the created slice: the Service waits (no duplicate).
        again = await controller.reconcile("ns/web")
        return client, again

    client, again = asyncio.run(go())
    ((verb, resource, body),) = client.calls
    assert (verb, resource, len(body["endpoints"])) == ("create", "endpointslices", 2)
    assert again is not None


@pytest.mark.parametrize(
    "svc",
    [service(), service(selector=WEB, kind="ExternalName")],
    ids=["selectorless", "external-name"],
)
def test_services_that_get_no_slices(svc: dict[str, Any]) -> None:
    async def go() -> RecordingClient:
        client = RecordingClient()
        controller = await controller_for([svc], many(2), [], client)
        await controller.reconcile("ns/web")
        return client

    assert asyncio.run(go()).calls == []


def test_an_oversized_slice_is_cut_and_nothing_is_lost() -> None:
    svc = service(selector=WEB)
    groups = desired_endpoints(svc, many(120))
    ((_, endpoints),) = groups.values()
    crowded = existing("web-a", svc, endpoints)  # written by someone else: 120 in one slice
    create, update, delete = plan_slices(svc, groups, [crowded])
    assert delete == []
    assert [len(s["endpoints"]) for s in (*update, *create)] == [100, 20]
