"""The deployment controller's first steps and the garbage collector's decisions, against a
recording fake client and seeded informers."""

from __future__ import annotations

import asyncio
from typing import Any

from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.apps import DEPLOYMENTS, REPLICA_SETS
from kubeward.api.resources.core import PODS
from kubeward.controllers import deployment_util as u
from kubeward.controllers.deployment import DeploymentController
from kubeward.controllers.garbagecollector import GarbageCollector

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "v2"}]},
}


def deployment(strategy: str = "RollingUpdate") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": TEMPLATE,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "strategy": {"type": strategy},
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": 1, "maxUnavailable": 0}
    return {
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": "d-uid",
            "generation": 1,
            "resourceVersion": "3",
        },
        "spec": spec,
        "status": {},
    }


def old_rs(replicas: int = 3) -> dict[str, Any]:
    template = {
        "metadata": {"labels": {"app": "web", u.HASH_LABEL: "old"}},
        "spec": {"containers": [{"name": "c", "image": "v1"}]},
    }
    return {
        "metadata": {
            "name": "web-old",
            "namespace": "ns",
            "uid": "old-uid",
            "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "web", u.HASH_LABEL: "old"},
            "annotations": {u.REVISION: "1", u.DESIRED_REPLICAS: "3"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "web",
                    "uid": "d-uid",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", u.HASH_LABEL: "old"}},
            "template": template,
        },
        "status": {
            "replicas": replicas,
            "availableReplicas": replicas,
            "readyReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def sync(d: dict[str, Any], sets: list[dict[str, Any]]) -> RecordingClient:
    client = RecordingClient()

    async def scenario() -> None:
        controller = DeploymentController(
            await seeded(DEPLOYMENTS, [d]),
            await seeded(REPLICA_SETS, sets),
            await seeded(PODS, []),
            client.as_client(),
        )
        await controller.reconcile("ns/web")
        await asyncio.sleep(0)  # the recorded events' background writes

    asyncio.run(scenario())
    return client


def test_a_new_deployment_gets_its_first_replicaset_at_full_size() -> None:
    client = sync(deployment(), [])
    [(_, _, rs)] = client.of("create")
    hash_ = u.template_hash(TEMPLATE, None)
    assert rs["metadata"]["name"] == f"web-{hash_}"
    assert rs["metadata"]["annotations"][u.REVISION] == "1"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", u.HASH_LABEL: hash_}
    assert rs["spec"]["template"]["metadata"]["labels"][u.HASH_LABEL] == hash_
    assert rs["spec"]["replicas"] == 3
    statuses = [c[2]["status"] for c in client.of("update/status")]
    reasons = [
        c["reason"] for s in statuses for c in s.get("conditions", []) if c["type"] == "Progressing"
    ]
    assert u.NEW_RS_CREATED in reasons
    [(_, _, updated)] = client.of("update")
    assert updated["metadata"]["annotations"][u.REVISION] == "1"


def test_a_rolling_update_surges_by_max_surge_with_the_next_revision() -> None:
    client = sync(deployment(), [old_rs()])
    [(_, _, rs)] = client.of("create")
    assert rs["spec"]["replicas"] == 1  # 3 old + 1 new = replicas + maxSurge
    assert rs["metadata"]["annotations"][u.REVISION] == "2"
    assert not [c for c in client.of("update") if c[1] == "replicasets"]  # old not scaled yet
    [event] = client.events
    assert (event["reason"], event["involvedObject"]["kind"]) == ("ScalingReplicaSet", "Deployment")
    assert event["message"] == f"Scaled up replica set {rs['metadata']['name']} from 0 to 1"


def test_recreate_scales_the_old_replicaset_down_before_creating_the_new_one() -> None:
    client = sync(deployment("Recreate"), [old_rs()])
    assert client.of("create") == []
    [scaled] = [c[2] for c in client.of("update") if c[1] == "replicasets"]
    assert scaled["metadata"]["name"] == "web-old" and scaled["spec"]["replicas"] == 0


def owned_pod(name: str, owner_uid: str, block: bool = True) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-old",
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": block,
                }
            ],
        }
    }


def collect(sets: list[dict[str, Any]], pods: list[dict[str, Any]], *keys: str) -> RecordingClient:
    client = RecordingClient()

    async def scenario() -> None:
        informers = {REPLICA_SETS: await seeded(REPLICA_SETS, sets), PODS: await seeded(PODS, pods)}
        gc = GarbageCollector(informers, client.as_client())
        for key in keys:
            await gc.reconcile(key)

    asyncio.run(scenario())
    return client


def test_a_dependent_of_a_vanished_owner_is_deleted_in_the_background() -> None:
    client = collect([], [owned_pod("p", "gone-uid")], "uid-p")
    [(_, target, options)] = client.of("delete")
    assert target == "pods/p"
    assert options == {"uid": "uid-p", "propagation_policy": "Background"}


def test_a_dependent_of_a_live_owner_stays() -> None:
    client = collect([old_rs()], [owned_pod("p", "old-uid")], "uid-p")
    assert client.calls == []


def test_orphaning_removes_the_owner_reference_then_the_finalizer() -> None:
    owner = old_rs()
    owner["metadata"].update(
        deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["orphan"], resourceVersion="9"
    )
    client = collect([owner], [owned_pod("p", "old-uid")], "old-uid")
    patches = client.of("patch")
    assert patches[0][1] == "pods/p"
    assert patches[0][2]["metadata"] == {"ownerReferences": None, "uid": "uid-p"}
    assert patches[1][1] == "replicasets/web-old"
    assert patches[1][2]["metadata"]["finalizers"] is None


def test_foreground_keeps_its_finalizer_while_a_blocking_dependent_remains() -> None:
    owner = old_rs()
    owner["metadata"].update(
        deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["foregroundDeletion"]
    )
    client = collect([owner], [owned_pod("p", "old-uid")], "old-uid")
    assert client.of("patch") == []
    client = collect([owner], [owned_pod("p", "old-uid", block=False)], "old-uid")
    [(_, target, body)] = client.of("patch")
    assert target == "replicasets/web-old" and body["metadata"]["finalizers"] is None


def test_a_rollout_past_its_deadline_says_progress_deadline_exceeded() -> None:
    d = deployment()
    d["spec"]["progressDeadlineSeconds"] = 60
    stale = "2026-01-01T00:00:00Z"
    d["status"] = {
        "observedGeneration": 1,
        "replicas": 4,
        "updatedReplicas": 1,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "unavailableReplicas": 0,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": u.RS_UPDATED,
                "message": "m",
                "lastUpdateTime": stale,
                "lastTransitionTime": stale,
            }
        ],
    }
    new = old_rs(1)
    new["metadata"].update(
        name="web-new",
        uid="new-uid",
        creationTimestamp="2026-01-01T00:01:00Z",
        annotations={u.REVISION: "2", u.DESIRED_REPLICAS: "3", u.MAX_REPLICAS: "4"},
    )
    new["spec"]["template"] = {
        **TEMPLATE,
        "metadata": {"labels": {"app": "web", u.HASH_LABEL: "n"}},
    }
    new["status"] = {"replicas": 1, "availableReplicas": 0, "readyReplicas": 0}
    old = old_rs(3)
    old["metadata"]["annotations"][u.MAX_REPLICAS] = "4"
    client = sync(d, [old, new])
    [(_, _, written)] = client.of("update/status")
    cond = u.condition(written["status"], u.PROGRESSING)
    assert cond is not None
    assert (cond["status"], cond["reason"]) == ("False", u.TIMED_OUT)
    assert cond["message"] == 'ReplicaSet "web-new" has timed out progressing.'
