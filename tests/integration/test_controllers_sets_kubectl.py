"""StatefulSets and DaemonSets on in-process nodes, driven by the real kubectl (issue 14).

The cluster runs three node agents (``node-1`` … ``node-3``), which run the pods the scheduler
binds to them and report them Running and Ready; a fourth node joins as a separate
``kubeward node`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

from kubeward.node.local import node_kubeconfig
from kubeward.testing import Cluster, running_cluster

STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: sets}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.27}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""

DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: sets}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox:1.36}]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(data_dir=tmp_path_factory.mktemp("cluster"), nodes=3) as running:
        yield running


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
    admin.run("create", "namespace", "sets")
    return admin


def apply(kubectl: Kubectl, tmp: Path, text: str) -> None:
    path = tmp / "manifest.yaml"
    path.write_text(text)
    kubectl.run("apply", "-f", str(path))


def pods(kubectl: Kubectl, selector: str) -> list[Any]:
    return list(get_json(kubectl, "pods", "-n", "sets", "-l", selector)["items"])


def is_ready(pod: Any) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_statefulset_pods_come_up_in_order_with_their_claims(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    apply(kubectl, tmp_path, STATEFULSET)
    seen: list[list[tuple[str, bool]]] = []

    def all_ready() -> bool:
        listed = pods(kubectl, "app=web")
        seen.append(sorted((p["metadata"]["name"], is_ready(p)) for p in listed))
        return len(listed) == 3 and all(is_ready(p) for p in listed)

    wait_for(all_ready, "three ready pods")
    for state in seen:
        names = [name for name, _ in state]
        # OrderedReady: web-i exists only once web-0 … web-(i-1) exist and are ready.
        assert names == [f"web-{i}" for i in range(len(names))]
        assert all(ready for _, ready in state[:-1])
    out = kubectl.run("rollout", "status", "statefulset/web", "-n", "sets", "--timeout=60s")
    sts = get_json(kubectl, "statefulset", "web", "-n", "sets")
    revision = sts["status"]["updateRevision"]
    # The API server defaults rollingUpdate.partition to 0, so kubectl takes its partitioned
    # branch, as against Kubernetes.
    assert out.stdout == "partitioned roll out complete: 3 new pods have been updated...\n"
    assert sts["status"]["currentRevision"] == revision
    for name in ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas"):
        assert sts["status"][name] == 3
    for i, pod in enumerate(sorted(pods(kubectl, "app=web"), key=lambda p: p["metadata"]["name"])):
        labels = pod["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert labels["apps.kubernetes.io/pod-index"] == str(i)
        assert labels["controller-revision-hash"] == revision
        assert pod["spec"]["hostname"] == f"web-{i}"
        assert pod["spec"]["subdomain"] == "web"
        volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "www")
        assert volume["persistentVolumeClaim"]["claimName"] == f"www-web-{i}"
    claims = get_json(kubectl, "pvc", "-n", "sets")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["www-web-0", "www-web-1", "www-web-2"]
    assert all(c["metadata"]["labels"] == {"app": "web"} for c in claims)
    (rev,) = get_json(kubectl, "controllerrevisions", "-n", "sets", "-l", "app=web")["items"]
    assert rev["metadata"]["name"] == revision
    assert rev["revision"] == 1
    events = kubectl.run("get", "events", "-n", "sets", "--field-selector=involvedObject.name=web")
    assert "create Pod web-0 in StatefulSet web successful" in events.stdout
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in events.stdout


def test_scaling_down_removes_the_highest_ordinals_and_keeps_the_claims(
    kubectl: Kubectl,
) -> None:
    kubectl.run("scale", "statefulset", "web", "-n", "sets", "--replicas=1")
    seen: list[list[str]] = []

    def scaled() -> bool:
        names = sorted(p["metadata"]["name"] for p in pods(kubectl, "app=web"))
        seen.append(names)
        return names == ["web-0"]

    wait_for(scaled, "one pod left")
    # Reverse order: web-1 never goes before web-2.
    assert all(
        names in (["web-0", "web-1", "web-2"], ["web-0", "web-1"], ["web-0"]) for names in seen
    )
    claims = get_json(kubectl, "pvc", "-n", "sets")["items"]
    assert len(claims) == 3
    wait_for(
        lambda: get_json(kubectl, "statefulset", "web", "-n", "sets")["status"]["replicas"] == 1,
        "status.replicas 1",
    )


def test_a_rolling_update_replaces_every_pod_at_the_new_revision(kubectl: Kubectl) -> None:
    kubectl.run("scale", "statefulset", "web", "-n", "sets", "--replicas=3")
    kubectl.run("rollout", "status", "statefulset/web", "-n", "sets", "--timeout=60s")
    kubectl.run("set", "image", "statefulset/web", "nginx=nginx:1.28", "-n", "sets")
    kubectl.run("rollout", "status", "statefulset/web", "-n", "sets", "--timeout=90s", timeout=120)
    sts = get_json(kubectl, "statefulset", "web", "-n", "sets")
    status = sts["status"]
    assert status["currentRevision"] == status["updateRevision"]
    assert status["updatedReplicas"] == 3
    for pod in pods(kubectl, "app=web"):
        assert pod["spec"]["containers"][0]["image"] == "nginx:1.28"
        assert pod["metadata"]["labels"]["controller-revision-hash"] == status["updateRevision"]
    revisions = get_json(kubectl, "controllerrevisions", "-n", "sets", "-l", "app=web")["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    history = kubectl.run("rollout", "history", "statefulset/web", "-n", "sets").stdout
    assert history.split()[-2:] == ["2", "<none>"]

    # Undo restores revision 1's template, which is renumbered 3 rather than copied.
    kubectl.run("rollout", "undo", "statefulset/web", "-n", "sets")
    kubectl.run("rollout", "status", "statefulset/web", "-n", "sets", "--timeout=90s", timeout=120)
    for pod in pods(kubectl, "app=web"):
        assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    revisions = get_json(kubectl, "controllerrevisions", "-n", "sets", "-l", "app=web")["items"]
    numbers = {r["metadata"]["name"]: r["revision"] for r in revisions}
    assert sorted(numbers.values()) == [2, 3]
    status = get_json(kubectl, "statefulset", "web", "-n", "sets")["status"]
    assert numbers[status["updateRevision"]] == 3


def test_a_daemonset_runs_one_pod_per_node(kubectl: Kubectl, tmp_path: Path) -> None:
    apply(kubectl, tmp_path, DAEMONSET)
    out = kubectl.run("rollout", "status", "ds/agent", "-n", "sets", "--timeout=60s")
    assert 'daemon set "agent" successfully rolled out' in out.stdout
    listed = pods(kubectl, "app=agent")
    assert sorted(p["spec"]["nodeName"] for p in listed) == ["node-1", "node-2", "node-3"]
    for pod in listed:
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert terms == [
            {
                "matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}
                ]
            }
        ]
        keys = {(t.get("key"), t.get("effect")) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
    ds = get_json(kubectl, "ds", "agent", "-n", "sets")["status"]
    assert {
        k: ds[k] for k in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady")
    } == {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 3,
        "numberReady": 3,
    }


def test_a_daemonset_rolling_update_replaces_the_pods(kubectl: Kubectl) -> None:
    kubectl.run("set", "image", "ds/agent", "agent=busybox:1.37", "-n", "sets")
    kubectl.run("rollout", "status", "ds/agent", "-n", "sets", "--timeout=90s", timeout=120)
    listed = [p for p in pods(kubectl, "app=agent") if not p["metadata"].get("deletionTimestamp")]
    assert all(p["spec"]["containers"][0]["image"] == "busybox:1.37" for p in listed)
    revisions = get_json(kubectl, "controllerrevisions", "-n", "sets", "-l", "app=agent")["items"]
    newest = max(revisions, key=lambda r: r["revision"])
    hashes = {p["metadata"]["labels"]["controller-revision-hash"] for p in listed}
    assert hashes == {newest["metadata"]["labels"]["controller-revision-hash"]}
    assert json.dumps(newest["data"]["spec"]["template"]).count("busybox:1.37") == 1
    ds = get_json(kubectl, "ds", "agent", "-n", "sets")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert {p["metadata"]["labels"]["pod-template-generation"] for p in listed} == {"2"}

    kubectl.run("rollout", "undo", "ds/agent", "-n", "sets")
    kubectl.run("rollout", "status", "ds/agent", "-n", "sets", "--timeout=90s", timeout=120)

    def images() -> set[str]:
        live = [p for p in pods(kubectl, "app=agent") if not p["metadata"].get("deletionTimestamp")]
        return {p["spec"]["containers"][0]["image"] for p in live}

    wait_for(lambda: images() == {"busybox:1.36"}, "the undone image on every node")
    revisions = get_json(kubectl, "controllerrevisions", "-n", "sets", "-l", "app=agent")["items"]
    assert sorted(r["revision"] for r in revisions) == [2, 3]


def test_each_set_controller_runs_as_its_own_account_with_its_role(kubectl: Kubectl) -> None:
    accounts = {
        sa["metadata"]["name"] for sa in get_json(kubectl, "sa", "-n", "kube-system")["items"]
    }
    assert {"statefulset-controller", "daemon-set-controller"} <= accounts

    def can(account: str, *args: str) -> str:
        who = f"--as=system:serviceaccount:kube-system:{account}"
        result = kubectl.run("auth", "can-i", *args, who, "-n", "sets", check=False)
        return result.stdout.split()[0]

    assert can("statefulset-controller", "create", "persistentvolumeclaims") == "yes"
    assert can("daemon-set-controller", "create", "persistentvolumeclaims") == "no"
    assert can("daemon-set-controller", "create", "pods/binding") == "yes"
    assert can("statefulset-controller", "update", "daemonsets/status") == "no"


def test_a_parallel_set_deleted_takes_its_claims_when_its_policy_says_so(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    manifest = (
        STATEFULSET.replace("name: web,", "name: db,")
        .replace("app: web", "app: db")
        .replace("serviceName: web", "serviceName: db\n  podManagementPolicy: Parallel")
        + "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}\n"
    )
    apply(kubectl, tmp_path, manifest)
    kubectl.run("rollout", "status", "statefulset/db", "-n", "sets", "--timeout=60s")
    claims = get_json(kubectl, "pvc", "-n", "sets", "-l", "app=db")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["www-db-0", "www-db-1", "www-db-2"]
    kubectl.run("scale", "statefulset", "db", "-n", "sets", "--replicas=2")
    wait_for(
        lambda: (
            "www-db-2"
            not in [
                c["metadata"]["name"]
                for c in get_json(kubectl, "pvc", "-n", "sets", "-l", "app=db")["items"]
            ]
        ),
        "www-db-2 deleted on scale-down",
    )
    kubectl.run("delete", "statefulset", "db", "-n", "sets")
    wait_for(
        lambda: (
            not get_json(kubectl, "pvc", "-n", "sets", "-l", "app=db")["items"]
            and not pods(kubectl, "app=db")
        ),
        "the pods and claims of db gone",
    )


def test_a_node_that_joins_gets_the_daemon_pod(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubeconfig = node_kubeconfig(cluster.data_dir, "node-4", cluster.url)
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubeward",
            "node",
            "--name",
            "node-4",
            "--kubeconfig",
            str(kubeconfig),
            "--cert-dir",
            str(tmp_path / "pki"),
            "--port",
            "0",
            "--pod-cidr",
            "10.244.4.0/24",
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: (
                sorted(p["spec"].get("nodeName", "") for p in pods(kubectl, "app=agent"))
                == ["node-1", "node-2", "node-3", "node-4"]
            ),
            "a pod on node-4",
        )
        kubectl.run("rollout", "status", "ds/agent", "-n", "sets", "--timeout=60s")
        status = get_json(kubectl, "ds", "agent", "-n", "sets")["status"]
        assert status["desiredNumberScheduled"] == 4
        assert status["numberAvailable"] == 4
    finally:
        node.terminate()
        node.wait(timeout=30)
