"""The replicationcontroller controller: the replicaset controller over RCs, whose selector is
a plain label map (against a recording fake client and seeded informers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_workloads import REPLICATION_CONTROLLERS
from kubeward.controllers.replicationcontroller import ReplicationManager, equality_selector

RC_UID = "rc-uid"


def rc(replicas: int = 3, selector: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "ns", "uid": RC_UID, "generation": 4},
        "spec": {
            "replicas": replicas,
            "selector": {"app": "web"} if selector is None else selector,
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
        "status": {"replicas": 0},
    }


def owned_pod(name: str, labels: dict[str, str], *, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "labels": labels,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ReplicationController",
                    "name": "web",
                    "uid": RC_UID,
                    "controller": True,
                }
            ],
        },
        "spec": {"nodeName": "n1"},
        "status": {
            "phase": "Running",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
        },
    }


def run(controller_rc: dict[str, Any], pods: list[dict[str, Any]], client: RecordingClient) -> Any:
    async def scenario() -> ReplicationManager:
        controller = ReplicationManager(
            await seeded(REPLICATION_CONTROLLERS, [controller_rc]),
            await seeded(PODS, pods),
            client.as_client(),
        )
        await controller.reconcile("ns/web")
        await asyncio.sleep(0)
        return controller

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"app": "web"}, {"app": "web", "tier": "front"}, True),
        ({"app": "web", "tier": "back"}, {"app": "web", "tier": "front"}, False),
        ({}, {"app": "web"}, None),
    ],
    ids=["subset", "a differing value", "empty selects nothing"],
)
def test_an_rc_selector_is_a_label_map_matched_by_equality(
    selector: dict[str, str], labels: dict[str, str], matches: bool | None
) -> None:
    compiled = equality_selector({"spec": {"selector": selector}})
    assert (None if compiled is None else compiled.matches(labels)) == matches


def test_creates_pods_owned_by_the_rc_with_the_replication_controllers_events() -> None:
    client = RecordingClient()
    run(rc(3), [], client)
    created = [call[2] for call in client.of("create")]
    assert len(created) == 3
    (ref,) = created[0]["metadata"]["ownerReferences"]
    assert (ref["apiVersion"], ref["kind"], ref["uid"]) == ("v1", "ReplicationController", RC_UID)
    assert created[0]["metadata"]["generateName"] == "web-"
    assert {e["source"]["component"] for e in client.events} == {"replication-controller"}
    assert {e["involvedObject"]["kind"] for e in client.events} == {"ReplicationController"}


def test_status_counts_the_rcs_pods() -> None:
    client = RecordingClient()
    pods = [
        owned_pod("a", {"app": "web", "tier": "front"}),
        owned_pod("b", {"app": "web"}, ready=False),
    ]
    run(rc(2), pods, client)
    (update,) = client.of("update/status")
    assert update[1] == "replicationcontrollers"
    assert update[2]["status"] == {
        "replicas": 2,
        "fullyLabeledReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "observedGeneration": 4,
    }


def test_a_deleted_pod_of_the_rc_is_noticed() -> None:
    async def scenario() -> bool:
        pod = owned_pod("a", {"app": "web"})
        controller = ReplicationManager(
            await seeded(REPLICATION_CONTROLLERS, [rc(1)]),
            await seeded(PODS, [pod]),
            RecordingClient().as_client(),
        )
        controller._pod_deleted(pod)
        return len(controller.queue) == 1

    assert asyncio.run(scenario())


def test_surplus_pods_are_deleted() -> None:
    client = RecordingClient()
    pods = [owned_pod(n, {"app": "web"}) for n in ("a", "b", "c")]
    run(rc(1), pods, client)
    assert len(client.of("delete")) == 2
