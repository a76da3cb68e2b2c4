"""The statefulset controller against a recording fake client and seeded informers."""

from __future__ import annotations

import asyncio
from typing import Any

from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS, STATEFULSETS
from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS
from kubeward.controllers import history
from kubeward.controllers import statefulset_pods as sp
from kubeward.controllers.statefulset import StatefulSetController

UID = "sts-uid"


def sts(replicas: int = 3, image: str = "nginx:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": UID, "generation": 1},
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "www"},
                    "spec": {"resources": {"requests": {"storage": "1Gi"}}},
                }
            ],
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            **spec,
        },
        "status": {},
    }


def revision(image: str = "nginx:1", number: int = 1) -> dict[str, Any]:
    made = history.new_revision(sts(image=image), STATEFULSETS, number, None)
    made["metadata"]["uid"] = f"rev-{number}"
    return made


def pod(ordinal: int, *, ready: bool = True, rev: dict[str, Any] | None = None) -> dict[str, Any]:
    made = sp.new_pod(
        sts(), sts()["spec"]["template"], ordinal, (rev or revision())["metadata"]["name"]
    )
    made["metadata"]["uid"] = f"pod-{ordinal}"
    made["status"] = {
        "phase": "Running" if ready else "Pending",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return made


def run(
    obj: dict[str, Any],
    pods: list[dict[str, Any]],
    revisions: list[dict[str, Any]] | None = None,
    claims: list[dict[str, Any]] | None = None,
) -> RecordingClient:
    client = RecordingClient()

    async def scenario() -> None:
        controller = StatefulSetController(
            await seeded(STATEFULSETS, [obj]),
            await seeded(PODS, pods),
            await seeded(CONTROLLER_REVISIONS, [revision()] if revisions is None else revisions),
            await seeded(PERSISTENT_VOLUME_CLAIMS, claims or []),
            client.as_client(),
        )
        await controller.reconcile("ns/web")
        await asyncio.sleep(0)

    asyncio.run(scenario())
    return client


def written(client: RecordingClient, verb: str, resource: str) -> list[Any]:
    return [c[2] for c in client.of(verb) if c[1] == resource]


def deleted(client: RecordingClient) -> list[str]:
    return [c[1] for c in client.of("delete")]


def test_a_pod_has_a_stable_identity_and_mounts_its_claim() -> None:
    made = sp.new_pod(sts(), sts()["spec"]["template"], 2, "web-abc")
    assert made["metadata"]["name"] == "web-2"
    assert made["metadata"]["labels"] == {
        "app": "web",
        "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
        "controller-revision-hash": "web-abc",
    }
    assert made["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    assert (made["spec"]["hostname"], made["spec"]["subdomain"]) == ("web-2", "web")
    assert made["spec"]["volumes"] == [
        {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}
    ]


def test_a_claim_is_owned_by_the_set_only_when_deleted_with_it() -> None:
    template = sts()["spec"]["volumeClaimTemplates"][0]
    kept = sp.new_claim(sts(), template, 0)
    assert kept["metadata"] == {"name": "www-web-0", "namespace": "ns", "labels": {"app": "web"}}
    policy = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    owned = sp.new_claim(sts(persistentVolumeClaimRetentionPolicy=policy), template, 0)
    assert owned["metadata"]["ownerReferences"][0]["uid"] == UID


def test_ordered_ready_creates_the_first_pod_and_its_claim_only() -> None:
    client = run(sts(), [])
    assert [c["metadata"]["name"] for c in written(client, "create", "persistentvolumeclaims")] == [
        "www-web-0"
    ]
    assert [p["metadata"]["name"] for p in written(client, "create", "pods")] == ["web-0"]
    messages = [e["message"] for e in client.events]
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in messages
    assert "create Pod web-0 in StatefulSet web successful" in messages


def test_ordered_ready_waits_for_the_previous_pod_to_be_ready() -> None:
    assert written(run(sts(), [pod(0, ready=False)]), "create", "pods") == []
    created = written(run(sts(), [pod(0)]), "create", "pods")
    assert [p["metadata"]["name"] for p in created] == ["web-1"]


def test_parallel_creates_every_missing_pod() -> None:
    client = run(sts(podManagementPolicy="Parallel"), [pod(1, ready=False)])
    assert sorted(p["metadata"]["name"] for p in written(client, "create", "pods")) == [
        "web-0",
        "web-2",
    ]


def test_scale_down_removes_the_highest_ordinal_first_and_keeps_claims() -> None:
    client = run(sts(replicas=1), [pod(0), pod(1), pod(2)])
    assert deleted(client) == ["pods/web-2"]
    assert client.events[-1]["message"] == "delete Pod web-2 in StatefulSet web successful"


def test_scale_down_waits_while_a_pod_is_unhealthy() -> None:
    assert deleted(run(sts(replicas=1), [pod(0, ready=False), pod(1), pod(2)])) == []


def test_when_scaled_delete_removes_the_claims_with_the_pod() -> None:
    policy = {"whenDeleted": "Retain", "whenScaled": "Delete"}
    client = run(
        sts(replicas=2, persistentVolumeClaimRetentionPolicy=policy), [pod(0), pod(1), pod(2)]
    )
    assert deleted(client) == ["pods/web-2", "persistentvolumeclaims/www-web-2"]


def test_a_new_template_makes_a_revision_and_replaces_the_highest_pod() -> None:
    client = run(sts(image="nginx:2"), [pod(0), pod(1), pod(2)])
    (made,) = written(client, "create", "controllerrevisions")
    assert made["revision"] == 2
    assert made["metadata"]["name"].startswith("web-")
    assert made["metadata"]["labels"]["controller-revision-hash"] == made["metadata"]["name"][4:]
    assert made["data"]["spec"]["template"]["$patch"] == "replace"
    assert deleted(client) == ["pods/web-2"]


def test_partition_keeps_the_pods_below_it() -> None:
    new = revision("nginx:2", 2)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    obj = sts(image="nginx:2", updateStrategy=strategy)
    obj["status"] = {"currentRevision": revision()["metadata"]["name"]}
    client = run(
        obj,
        [pod(0), pod(1), pod(2, rev=new)],
        [revision(), new],
    )
    assert deleted(client) == []
    (status,) = written(client, "update/status", "statefulsets")
    assert status["status"]["updatedReplicas"] == 1
    assert status["status"]["currentReplicas"] == 2


def test_on_delete_never_replaces_a_pod() -> None:
    client = run(
        sts(image="nginx:2", updateStrategy={"type": "OnDelete"}), [pod(0), pod(1), pod(2)]
    )
    assert deleted(client) == []


def test_status_counts_pods_and_completes_the_rollout() -> None:
    current = revision()
    client = run(sts(), [pod(0), pod(1), pod(2, ready=False)])
    (update,) = written(client, "update/status", "statefulsets")
    assert update["status"] == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 2,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": current["metadata"]["name"],
        "updateRevision": current["metadata"]["name"],
        "availableReplicas": 2,
    }


def test_an_adopted_orphan_gets_its_identity_labels_back() -> None:
    orphan = pod(0)
    orphan["metadata"]["labels"] = {"app": "web"}
    del orphan["metadata"]["ownerReferences"]
    client = run(sts(replicas=1), [orphan])
    patches = [c[2] for c in client.of("patch") if c[1] == "pods/web-0"]
    assert patches[0]["metadata"]["ownerReferences"][0]["uid"] == UID  # adopted
    assert patches[1] == {
        "metadata": {
            "labels": {
                "statefulset.kubernetes.io/pod-name": "web-0",
                "apps.kubernetes.io/pod-index": "0",
            },
            "uid": "pod-0",
        }
    }


def test_ordered_ready_waits_for_min_ready_seconds() -> None:
    fresh = pod(0)
    fresh["status"]["conditions"][0]["lastTransitionTime"] = "2999-01-01T00:00:00Z"
    assert written(run(sts(minReadySeconds=30), [fresh]), "create", "pods") == []


def test_a_changed_retention_policy_reaches_existing_claims() -> None:
    template = sts()["spec"]["volumeClaimTemplates"][0]
    kept = sp.new_claim(sts(), template, 0)
    policy = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    client = run(
        sts(replicas=1, persistentVolumeClaimRetentionPolicy=policy), [pod(0)], claims=[kept]
    )
    (updated,) = written(client, "update", "persistentvolumeclaims")
    assert [r["uid"] for r in updated["metadata"]["ownerReferences"]] == [UID]
    owned = sp.new_claim(sts(persistentVolumeClaimRetentionPolicy=policy), template, 0)
    client = run(sts(replicas=1), [pod(0)], claims=[owned])
    (updated,) = written(client, "update", "persistentvolumeclaims")
    assert "ownerReferences" not in updated["metadata"]
    owned["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    client = run(sts(replicas=1), [pod(0)], claims=[owned])
    assert written(client, "update", "persistentvolumeclaims") == []


def test_ordinals_start_where_the_set_says() -> None:
    shifted = sts(replicas=2, ordinals={"start": 5})
    assert [p["metadata"]["name"] for p in written(run(shifted, []), "create", "pods")] == ["web-5"]
    client = run(shifted, [pod(0), pod(5), pod(6)])
    assert deleted(client) == ["pods/web-0"]


def test_an_ended_pod_is_deleted_once_and_made_again_when_gone() -> None:
    failed = pod(0)
    failed["status"]["phase"] = "Failed"
    client = run(sts(), [failed, pod(1)])
    assert deleted(client) == ["pods/web-0"]
    assert written(client, "create", "pods") == []
    failed["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert deleted(run(sts(), [failed, pod(1)])) == []
    created = written(run(sts(), [pod(1)]), "create", "pods")
    assert [p["metadata"]["name"] for p in created] == ["web-0"]
