"""Deployments, ReplicaSets and the garbage collector, driven by the real kubectl (issue 14).

Pods are made Ready by ``Cluster.make_pods_ready`` as a kubelet would report them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, settle, wait_for


@pytest.fixture(scope="module")
def ns(kubectl: Kubectl) -> Iterator[str]:
    kubectl.run("create", "namespace", "workloads")
    yield "workloads"


def pods(kubectl: Kubectl, ns: str, selector: str) -> list[Any]:
    return list(get_json(kubectl, "pods", "-n", ns, "-l", selector)["items"])


def replica_sets(kubectl: Kubectl, ns: str, selector: str) -> list[Any]:
    return list(get_json(kubectl, "replicasets", "-n", ns, "-l", selector)["items"])


def test_create_deployment_makes_a_replicaset_and_three_owned_pods(
    kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("create", "deployment", "web", "--image=nginx", "--replicas=3", "-n", ns)
    created = wait_for(lambda: len(pods(kubectl, ns, "app=web")) == 3 or None, "three pods")
    assert created
    (rs,) = replica_sets(kubectl, ns, "app=web")
    d = get_json(kubectl, "deployment", "web", "-n", ns)
    rs_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{rs_hash}"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": d["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    for pod in pods(kubectl, ns, "app=web"):
        assert pod["metadata"]["generateName"] == f"{rs['metadata']['name']}-"
        assert pod["metadata"]["labels"]["pod-template-hash"] == rs_hash
        (ref,) = pod["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["uid"], ref["blockOwnerDeletion"]) == (
            "ReplicaSet",
            rs["metadata"]["uid"],
            True,
        )
    table = kubectl.run("get", "rs", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]


def test_rollout_status_succeeds_once_pods_are_ready(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    settle(cluster, kubectl, "web", ns)
    out = kubectl.run("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s").stdout
    assert 'deployment "web" successfully rolled out' in out
    d = get_json(kubectl, "deployment", "web", "-n", ns)
    reasons = {c["type"]: c["reason"] for c in d["status"]["conditions"]}
    assert reasons == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }

    def described() -> Any:
        text = kubectl.run("describe", "deployment", "web", "-n", ns).stdout
        return text if "ScalingReplicaSet" in text else None

    text = wait_for(described, "the deployment's ScalingReplicaSet event")
    assert "Scaled up replica set web-" in text and "from 0 to 3" in text
    events = get_json(kubectl, "events", "-n", ns, "--field-selector", "reason=SuccessfulCreate")
    assert len(events["items"]) >= 3
    assert {e["source"]["component"] for e in events["items"]} == {"replicaset-controller"}


def test_set_image_rolls_out_a_second_revision_and_undo_returns(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("set", "image", "deployment/web", "nginx=nginx:1.27", "-n", ns)
    settle(cluster, kubectl, "web", ns)
    kubectl.run("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    images = {p["spec"]["containers"][0]["image"] for p in pods(kubectl, ns, "app=web")}
    assert images == {"nginx:1.27"}
    history = kubectl.run("rollout", "history", "deployment/web", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    sizes = sorted(rs["spec"]["replicas"] for rs in replica_sets(kubectl, ns, "app=web"))
    assert sizes == [0, 3]

    kubectl.run("rollout", "undo", "deployment/web", "-n", ns)
    d = settle(cluster, kubectl, "web", ns)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    images = {p["spec"]["containers"][0]["image"] for p in pods(kubectl, ns, "app=web")}
    assert images == {"nginx"}
    assert len(replica_sets(kubectl, ns, "app=web")) == 2  # the undo reused revision 1's set


def test_scale_pause_resume_and_restart(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    kubectl.run("scale", "deployment/web", "--replicas=5", "-n", ns)
    settle(cluster, kubectl, "web", ns)
    assert len(pods(kubectl, ns, "app=web")) == 5
    kubectl.run("rollout", "pause", "deployment/web", "-n", ns)

    def paused() -> Any:
        d = get_json(kubectl, "deployment", "web", "-n", ns)
        return any(c.get("reason") == "DeploymentPaused" for c in d["status"]["conditions"])

    wait_for(paused, "the DeploymentPaused condition")
    kubectl.run("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", ns)
    kubectl.run("scale", "deployment/web", "--replicas=4", "-n", ns)
    wait_for(lambda: len(pods(kubectl, ns, "app=web")) == 4 or None, "scaling while paused")
    assert len(replica_sets(kubectl, ns, "app=web")) == 2  # paused: no new template rolled out
    kubectl.run("rollout", "resume", "deployment/web", "-n", ns)
    settle(cluster, kubectl, "web", ns)
    assert {p["spec"]["containers"][0]["image"] for p in pods(kubectl, ns, "app=web")} == {
        "nginx:1.28"
    }
    kubectl.run("rollout", "restart", "deployment/web", "-n", ns)
    d = settle(cluster, kubectl, "web", ns)
    restarted = d["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in restarted
    assert len(replica_sets(kubectl, ns, "app=web")) == 4


def test_changing_the_service_account_rolls_out_pods_that_use_it(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("create", "serviceaccount", "reader", "-n", ns)
    kubectl.run("set", "serviceaccount", "deployment/web", "reader", "-n", ns)
    settle(cluster, kubectl, "web", ns)
    running = pods(kubectl, ns, "app=web")
    assert {p["spec"]["serviceAccountName"] for p in running} == {"reader"}
    for pod in running:
        volumes = pod["spec"].get("volumes") or []
        projected = [v for v in volumes if "projected" in v]
        assert projected, "the ServiceAccount admission plugin mounts the new account's token"


def test_delete_deployment_removes_replicasets_and_pods_through_the_gc(
    kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("delete", "deployment", "web", "-n", ns)
    wait_for(lambda: not replica_sets(kubectl, ns, "app=web") or None, "replicasets collected")
    wait_for(lambda: not pods(kubectl, ns, "app=web") or None, "pods collected")


def test_foreground_deletion_waits_for_dependents(kubectl: Kubectl, ns: str) -> None:
    kubectl.run("create", "deployment", "fg", "--image=nginx", "--replicas=2", "-n", ns)
    wait_for(lambda: len(pods(kubectl, ns, "app=fg")) == 2 or None, "two pods")
    out = kubectl.run(
        "delete", "deployment", "fg", "-n", ns, "--cascade=foreground", "--timeout=60s"
    ).stdout
    assert 'deployment.apps "fg" deleted' in out
    # kubectl waited until the Deployment was gone, which foreground allows only after
    # its blocking dependents (the ReplicaSet, and before it the pods) are gone.
    assert not replica_sets(kubectl, ns, "app=fg")
    assert not [
        p for p in pods(kubectl, ns, "app=fg") if not p["metadata"].get("deletionTimestamp")
    ]


def test_orphan_deletion_keeps_the_replicaset_and_pods_without_owner(
    kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("create", "deployment", "keep", "--image=nginx", "--replicas=2", "-n", ns)
    wait_for(lambda: len(pods(kubectl, ns, "app=keep")) == 2 or None, "two pods")
    kubectl.run("delete", "deployment", "keep", "-n", ns, "--cascade=orphan", "--timeout=60s")
    assert kubectl.run("get", "deployment", "keep", "-n", ns, check=False).returncode != 0
    (rs,) = wait_for(
        lambda: (
            [
                r
                for r in replica_sets(kubectl, ns, "app=keep")
                if not r["metadata"].get("ownerReferences")
            ]
            or None
        ),
        "the orphaned replicaset",
    )
    assert rs["spec"]["replicas"] == 2
    assert len(pods(kubectl, ns, "app=keep")) == 2


def test_replicaset_adopts_matching_orphans_and_deletes_the_surplus(
    kubectl: Kubectl, ns: str
) -> None:
    for name in ("stray-1", "stray-2", "stray-3"):
        kubectl.run("run", name, "--image=nginx", "--labels=tier=cache", "-n", ns)
    manifest = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache}
spec:
  replicas: 2
  selector: {matchLabels: {tier: cache}}
  template:
    metadata: {labels: {tier: cache}}
    spec: {containers: [{name: redis, image: redis}]}
"""
    kubectl.run("apply", "-n", ns, "-f", "-", input=manifest)
    wait_for(lambda: len(pods(kubectl, ns, "tier=cache")) == 2 or None, "the surplus deleted")
    rs = get_json(kubectl, "rs", "cache", "-n", ns)
    for pod in pods(kubectl, ns, "tier=cache"):
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    kubectl.run("scale", "rs", "cache", "--replicas=4", "-n", ns)
    wait_for(lambda: len(pods(kubectl, ns, "tier=cache")) == 4 or None, "scaled to four")


def test_invalid_replicaset_is_422_with_kubernetes_messages(kubectl: Kubectl, ns: str) -> None:
    manifest = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bad}
spec:
  replicas: -1
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: c}}
    spec: {restartPolicy: Never, containers: [{name: x, image: x}]}
"""
    result = kubectl.run("create", "-n", ns, "-f", "-", input=manifest, check=False)
    assert result.returncode != 0
    assert 'The ReplicaSet "bad" is invalid' in result.stderr
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in result.stderr
    assert "`selector` does not match template `labels`" in result.stderr
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never"' in result.stderr
