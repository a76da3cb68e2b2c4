"""The replicaset controller against a recording fake client and seeded informers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.apps import REPLICA_SETS
from kubeward.api.resources.core import PODS
from kubeward.controllers.replicaset import ReplicaSetController, pod_from_template
from kubeward.errors import ReplicaSetSyncFailed

RS_UID = "rs-uid"


def rs(replicas: int = 3, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": RS_UID,
            "generation": 2,
            "resourceVersion": "7",
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "front"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
        "status": status or {},
    }


def pod(
    name: str,
    *,
    owner: str | None = RS_UID,
    labels: dict[str, str] | None = None,
    ready: bool = False,
    node: str = "",
    phase: str = "Pending",
    created: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "labels": labels if labels is not None else {"app": "web", "tier": "front"},
        "creationTimestamp": created,
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": owner,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    conditions = [
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ]
    return {
        "metadata": meta,
        "spec": {"nodeName": node} if node else {},
        "status": {"phase": phase, "conditions": conditions},
    }


def run(replica_set: dict[str, Any], pods: list[dict[str, Any]], client: RecordingClient) -> Any:
    async def scenario() -> ReplicaSetController:
        controller = ReplicaSetController(
            await seeded(REPLICA_SETS, [replica_set]), await seeded(PODS, pods), client.as_client()
        )
        await controller.reconcile("ns/web")
        await asyncio.sleep(0)  # the recorded events' background writes
        return controller

    return asyncio.run(scenario())


def test_pod_from_template_is_owned_and_named_after_the_replicaset() -> None:
    made = pod_from_template(rs(), REPLICA_SETS, rs()["spec"]["template"])
    assert made["metadata"] == {
        "generateName": "web-",
        "namespace": "ns",
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"a": "b"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": RS_UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    assert made["spec"] == {"containers": [{"name": "c", "image": "nginx"}]}


def test_creates_the_missing_pods_and_expects_them() -> None:
    client = RecordingClient()
    controller = run(rs(3), [pod("a")], client)
    assert len(client.of("create")) == 2
    assert [e["reason"] for e in client.events] == ["SuccessfulCreate"] * 2
    assert client.events[0]["message"] == "Created pod: web-x"
    assert client.events[0]["involvedObject"]["uid"] == RS_UID
    assert client.events[0]["source"] == {"component": "replicaset-controller"}
    assert not controller.expectations.satisfied("ns/web")
    # Called again before the creations reach the cache: nothing more is created.
    asyncio.run(controller.reconcile("ns/web"))
    assert len(client.of("create")) == 2


def test_deletes_the_surplus_unscheduled_and_not_ready_first() -> None:
    client = RecordingClient()
    pods = [
        pod("ready-on-node", ready=True, node="n1", phase="Running"),
        pod("pending-unscheduled"),
        pod("running-not-ready", node="n1", phase="Running"),
    ]
    run(rs(1), pods, client)
    deleted = [call[1] for call in client.of("delete")]
    assert deleted == ["pods/pending-unscheduled", "pods/running-not-ready"]
    assert all(call[2]["uid"].startswith("uid-") for call in client.of("delete"))


def test_adopts_matching_orphans_and_releases_pods_that_stopped_matching() -> None:
    client = RecordingClient()
    pods = [pod("orphan", owner=None), pod("relabelled", labels={"app": "other"}), pod("kept")]
    run(rs(2), pods, client)
    patches = {call[1]: call[2] for call in client.of("patch")}
    assert patches["pods/orphan"]["metadata"]["ownerReferences"][0]["uid"] == RS_UID
    assert patches["pods/orphan"]["metadata"]["uid"] == "uid-orphan"
    assert patches["pods/relabelled"]["metadata"]["ownerReferences"] is None
    assert client.of("create") == [] and client.of("delete") == []


def test_never_touches_pods_of_another_controller() -> None:
    client = RecordingClient()
    run(rs(1), [pod("theirs", owner="other-uid"), pod("mine")], client)
    assert client.of("patch") == [] and client.of("delete") == []


def test_status_counts_ready_available_and_fully_labelled_pods() -> None:
    client = RecordingClient()
    pods = [
        pod("a", ready=True, phase="Running"),
        pod("b", ready=True, phase="Running", labels={"app": "web"}),
        pod("c"),
    ]
    run(rs(3), pods, client)
    [(_, _, updated)] = client.of("update/status")
    assert updated["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "observedGeneration": 2,
    }


def test_an_unchanged_status_is_not_written() -> None:
    client = RecordingClient()
    status = {
        "replicas": 1,
        "fullyLabeledReplicas": 1,
        "readyReplicas": 0,
        "availableReplicas": 0,
        "observedGeneration": 2,
    }
    run(rs(1, status), [pod("a")], client)
    assert client.calls == []


def test_a_refused_create_sets_replica_failure_and_retries() -> None:
    client = RecordingClient(refuse="pods")
    with pytest.raises(ReplicaSetSyncFailed, match="FailedCreate"):
        run(rs(2), [], client)
    [(_, _, updated)] = client.of("update/status")
    [cond] = updated["status"]["conditions"]
    assert (cond["type"], cond["reason"]) == ("ReplicaFailure", "FailedCreate")
    assert "forbidden" in cond["message"]
