"""The scheduler against a real server, seen with the real kubectl: pods bound by nodeSelector,
taints and resources; an unschedulable pod's reason in ``kubectl describe``; bindings refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

NODES = {
    "big": {"labels": {"disk": "ssd"}, "cpu": "4", "taints": []},
    "small": {"labels": {"disk": "hdd"}, "cpu": "1", "taints": []},
    "gpu": {
        "labels": {"disk": "ssd", "gpu": "true"},
        "cpu": "8",
        "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
    },
}


def add_node(
    kubectl: Kubectl, name: str, labels: dict[str, str], cpu: str, taints: list[Any]
) -> None:
    kubectl.run(
        "create",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": taints},
            }
        ),
    )
    status = {
        "status": {
            "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        }
    }
    kubectl.run(
        "patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(status)
    )


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster() as cluster:
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        for name, node in NODES.items():
            add_node(admin, name, node["labels"], node["cpu"], node["taints"])  # type: ignore[arg-type]
        yield admin


def run_pod(kubectl: Kubectl, name: str, **spec: Any) -> None:
    container = {"name": "c", "image": "nginx", **spec.pop("container", {})}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], **spec},
    }
    kubectl.run("create", "-f", "-", input=json.dumps(pod))


def node_of(kubectl: Kubectl, name: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = kubectl.run("get", "pod", name, "-o", "jsonpath={.spec.nodeName}").stdout
        if node:
            return node
        time.sleep(0.1)
    return ""


def test_a_node_selector_picks_the_labelled_nodes(kubectl: Kubectl) -> None:
    run_pod(kubectl, "wants-hdd", nodeSelector={"disk": "hdd"})
    assert node_of(kubectl, "wants-hdd") == "small"
    conditions = json.loads(
        kubectl.run("get", "pod", "wants-hdd", "-o", "jsonpath={.status.conditions}").stdout
    )
    assert {"type": "PodScheduled", "status": "True"}.items() <= conditions[0].items()


def test_taints_keep_pods_off_unless_tolerated(kubectl: Kubectl) -> None:
    run_pod(kubectl, "plain", nodeSelector={"gpu": "true"})
    run_pod(
        kubectl,
        "tolerant",
        nodeSelector={"gpu": "true"},
        tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
        ],
    )
    assert node_of(kubectl, "tolerant") == "gpu"
    assert node_of(kubectl, "plain", timeout=1.0) == ""


def test_resources_and_the_reason_in_describe(kubectl: Kubectl) -> None:
    run_pod(kubectl, "needs-3-cpus", container={"resources": {"requests": {"cpu": "3"}}})
    assert node_of(kubectl, "needs-3-cpus") == "big"  # gpu is tainted, small too small
    run_pod(kubectl, "needs-5-cpus", container={"resources": {"requests": {"cpu": "5"}}})
    expected = (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu},"
        " 2 Insufficient cpu."
    )
    deadline = time.monotonic() + 20
    described = ""
    while time.monotonic() < deadline and expected not in described:
        described = kubectl.run("describe", "pod", "needs-5-cpus").stdout
        time.sleep(0.2)
    assert "PodScheduled   False" in described
    assert "Warning  FailedScheduling" in described and expected in described


def test_a_new_node_lets_the_waiting_pod_in(kubectl: Kubectl) -> None:
    run_pod(kubectl, "wants-nvme", nodeSelector={"disk": "nvme"})
    assert node_of(kubectl, "wants-nvme", timeout=1.0) == ""
    add_node(kubectl, "fast", {"disk": "nvme"}, "2", [])
    assert node_of(kubectl, "wants-nvme") == "fast"


def test_binding_rules(kubectl: Kubectl, tmp_path: Path) -> None:
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "wants-hdd"},
        "target": {"name": "big"},
    }
    again = kubectl.run(
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/wants-hdd/binding",
        "-f",
        "-",
        input=json.dumps(binding),
        check=False,
    )
    assert 'pod wants-hdd is already assigned to node "small"' in again.stderr
    wrong = {**binding, "metadata": {"name": "other"}}
    mismatch = kubectl.run(
        "create",
        "--raw",
        "/api/v1/namespaces/default/pods/wants-hdd/binding",
        "-f",
        "-",
        input=json.dumps(wrong),
        check=False,
    )
    assert "name in URL does not match name in Binding object" in mismatch.stderr
