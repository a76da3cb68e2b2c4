"""The node-IPAM controller against a real cluster, with kubectl: nodes get distinct pod ranges,
pods get IPs inside their node's range, a full cluster CIDR says so in an Event, and a deleted
node's range goes to the next node."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

SRC = Path(__file__).resolve().parents[2] / "src"
# Two /24 blocks: room for the two agents' nodes and no more.
CLUSTER_CIDR = "10.244.0.0/23"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=2, pod_network_cidr=CLUSTER_CIDR) as cluster:
        yield Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))


def pod_cidrs(kubectl: Kubectl) -> dict[str, list[str]]:
    nodes = json.loads(kubectl.run("get", "nodes", "-o", "json").stdout)["items"]
    return {n["metadata"]["name"]: n["spec"].get("podCIDRs", []) for n in nodes}


def pinned_pod(name: str, node: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx"}]},
        }
    )


def test_nodes_get_distinct_ranges_and_pods_get_ips_inside_them(kubectl: Kubectl) -> None:
    ranges = wait_for(
        lambda: (r := pod_cidrs(kubectl)) and all(r.values()) and len(r) == 2 and r,
        "both nodes with a pod range",
    )
    assert sorted(c for cidrs in ranges.values() for c in cidrs) == [
        "10.244.0.0/24",
        "10.244.1.0/24",
    ]
    node_1 = json.loads(kubectl.run("get", "node", "node-1", "-o", "json").stdout)
    assert node_1["spec"]["podCIDR"] == node_1["spec"]["podCIDRs"][0]
    for node in ("node-1", "node-2"):
        kubectl.run("apply", "-f", "-", input=pinned_pod(f"on-{node}", node))

    def ips() -> dict[str, str]:
        pods = json.loads(kubectl.run("get", "pods", "-o", "json").stdout)["items"]
        found = {p["spec"]["nodeName"]: p["status"].get("podIP", "") for p in pods}
        return found if len(found) == 2 and all(found.values()) else {}

    for node, ip in wait_for(ips, "both pods with an IP").items():
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(ranges[node][0])
    table = kubectl.run(
        "get", "nodes", "-o", "custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR"
    )
    assert "10.244.0.0/24" in table.stdout and "10.244.1.0/24" in table.stdout


def test_a_full_range_is_reported_and_a_deleted_nodes_range_is_given_again(
    kubectl: Kubectl,
) -> None:
    wait_for(lambda: all(pod_cidrs(kubectl).values()), "both nodes with a pod range")
    freed = pod_cidrs(kubectl)["node-2"]
    kubectl.run(
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "spare"}}),
    )

    def not_available() -> list[dict[str, Any]]:
        events = json.loads(
            kubectl.run(
                "get",
                "events",
                "-n",
                "default",
                "--field-selector=involvedObject.name=spare",
                "-o",
                "json",
            ).stdout
        )["items"]
        return [e for e in events if e["reason"] == "CIDRNotAvailable"]

    event = wait_for(not_available, "a CIDRNotAvailable event for the spare node")[0]
    assert event["message"] == "Node spare status is now: CIDRNotAvailable"
    assert event["involvedObject"]["kind"] == "Node"
    assert pod_cidrs(kubectl)["spare"] == []

    kubectl.run("delete", "node", "node-2")
    assert wait_for(lambda: pod_cidrs(kubectl).get("spare"), "the spare node's range") == freed


def controller_manager(data_dir: Path, *flags: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kubeward",
        "controller-manager",
        "--kubeconfig",
        str(data_dir / "controller-manager.conf"),
        "--leader-elect=false",
        *flags,
    ]


def test_the_controller_manager_command_allocates_dual_stack_ranges(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    # The in-process manager leaves node IPAM off; the command's own does it.
    with running_cluster(controllers=("*", "-nodeipam")) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path)
        refused = subprocess.run(
            controller_manager(cluster.data_dir, "--allocate-node-cidrs"),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            "error: Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set"
        ]
        kubectl.run(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
        )
        process = subprocess.Popen(
            controller_manager(
                cluster.data_dir,
                "--controllers=nodeipam",
                "--use-service-account-credentials",
                "--allocate-node-cidrs",
                "--cluster-cidr=10.100.0.0/16,fd00:10:100::/56",
                "--node-cidr-mask-size-ipv4=26",
                "--service-cluster-ip-range=10.100.0.0/26",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            cidrs = wait_for(lambda: pod_cidrs(kubectl).get("n1"), "n1's ranges", timeout=90)
        finally:
            process.terminate()
            process.wait(timeout=30)
    # The first /26 holds the Service range, so the node gets the second.
    assert cidrs == ["10.100.0.64/26", "fd00:10:100::/64"]
