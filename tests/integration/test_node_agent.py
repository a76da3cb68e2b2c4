"""Node agents against a real server, as their own identities: registration, Lease heartbeat,
pods scheduled onto them running with IPs from each node's range, graceful deletion."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=2) as cluster:
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        # RBAC-only cluster: the nodes get the system:node role (with the Node authorizer
        # they would not need it).
        admin.run(
            "create",
            "clusterrolebinding",
            "nodes",
            "--clusterrole=system:node",
            "--group=system:nodes",
        )
        yield admin


def test_nodes_register_ready_and_heartbeat(kubectl: Kubectl) -> None:
    def ready() -> list[str]:
        nodes = json.loads(kubectl.run("get", "nodes", "-o", "json").stdout)["items"]
        return [
            n["metadata"]["name"]
            for n in nodes
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n["status"].get("conditions", [])
            )
        ]

    assert sorted(wait_for(lambda: len(ready()) == 2 and ready(), "two Ready nodes")) == [
        "node-1",
        "node-2",
    ]
    table = kubectl.run("get", "nodes", "-o", "wide").stdout
    assert "v1.32.0" in table and "kubeward-simulated://0.1.0" in table
    lease = json.loads(
        kubectl.run("get", "lease", "node-1", "-n", "kube-node-lease", "-o", "json").stdout
    )
    assert lease["spec"]["holderIdentity"] == "node-1"
    assert lease["spec"]["leaseDurationSeconds"] == 40


def test_a_deployment_of_pods_runs_with_ips_from_each_nodes_range(kubectl: Kubectl) -> None:
    for index in range(4):
        kubectl.run("run", f"web-{index}", "--image=nginx")

    def running() -> list[dict[str, Any]]:
        pods = json.loads(kubectl.run("get", "pods", "-o", "json").stdout)["items"]
        done = [p for p in pods if p["status"].get("phase") == "Running"]
        return done if len(done) == 4 else []

    pods = wait_for(running, "four Running pods")
    nodes = json.loads(kubectl.run("get", "nodes", "-o", "json").stdout)["items"]
    ranges = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in nodes}
    # The node-IPAM controller gave each node its own /24 of 10.244.0.0/16.
    assert sorted(ranges.values()) == ["10.244.0.0/24", "10.244.1.0/24"]
    for pod in pods:
        node = pod["spec"]["nodeName"]
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(ranges[node])
        assert pod["status"]["containerStatuses"][0]["ready"] is True
    assert {p["spec"]["nodeName"] for p in pods} == {"node-1", "node-2"}  # spread
    assert len({p["status"]["podIP"] for p in pods}) == 4
    wide = kubectl.run("get", "pods", "-o", "wide").stdout
    assert "Running" in wide and "10.244." in wide


def test_deleting_a_pod_waits_for_its_node_to_finish_it(kubectl: Kubectl) -> None:
    kubectl.run("run", "short", "--image=busybox")
    wait_for(
        lambda: (
            kubectl.run("get", "pod", "short", "-o", "jsonpath={.status.phase}").stdout == "Running"
        ),
        "the pod running",
    )
    kubectl.run("delete", "pod", "short", "--wait=true", timeout=30)
    gone = kubectl.run("get", "pod", "short", check=False)
    assert "NotFound" in gone.stderr
