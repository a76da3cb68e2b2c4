"""``kubeward netpol --kubeconfig`` on a cluster whose pods run: the IPs the nodes gave them
(from the node-IPAM controller's ranges) are what ipBlock rules, with their ``except``, are
judged against. Pods are made with kubectl; the verdicts come from the real command."""

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

from kubeward.testing import Cluster, running_cluster

SRC = Path(__file__).resolve().parents[2] / "src"
# Pod name -> the node it is pinned to. "server" is judged; the others connect to it.
PODS = {"server": "node-2", "near": "node-1", "excepted": "node-1", "far": "node-2"}


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def pod_manifest(name: str, node: str) -> dict[str, Any]:
    role = "server" if name == "server" else "client"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"role": role}},
        "spec": {
            "nodeName": node,
            "containers": [
                {"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}
            ],
        },
    }


class Live:
    def __init__(self, cluster: Cluster, kubectl: Kubectl) -> None:
        self.cluster = cluster
        self.kubectl = kubectl
        self.ips: dict[str, str] = {}
        self.node_1_cidr = ""

    def netpol(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PYTHONPATH=str(SRC))
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "kubeward",
                "netpol",
                *args,
                "--kubeconfig",
                str(self.cluster.admin_kubeconfig),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_cluster(nodes=2) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        kubectl.run("create", "namespace", "shop")
        items = [pod_manifest(name, node) for name, node in PODS.items()]
        kubectl.run(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
        )
        state = Live(cluster, kubectl)

        def running() -> dict[str, str]:
            listed = json.loads(kubectl.run("get", "pods", "-n", "shop", "-o", "json").stdout)
            ips = {
                p["metadata"]["name"]: p["status"].get("podIP", "")
                for p in listed["items"]
                if p["status"].get("phase") == "Running"
            }
            return ips if len(ips) == len(PODS) and all(ips.values()) else {}

        state.ips = wait_for(running, "every pod Running with an IP")
        state.node_1_cidr = kubectl.run(
            "get", "node", "node-1", "-o", "jsonpath={.spec.podCIDR}"
        ).stdout
        policy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "from-node-1", "namespace": "shop"},
            "spec": {
                "podSelector": {"matchLabels": {"role": "server"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "ipBlock": {
                                    "cidr": state.node_1_cidr,
                                    "except": [f"{state.ips['excepted']}/32"],
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": 80}],
                    }
                ],
            },
        }
        kubectl.run("apply", "-f", "-", input=json.dumps(policy))
        yield state


def test_the_pods_run_with_ips_from_their_nodes_ranges(live: Live) -> None:
    node_1 = ipaddress.ip_network(live.node_1_cidr)
    for name, node in PODS.items():
        inside = ipaddress.ip_address(live.ips[name]) in node_1
        assert inside is (node == "node-1"), (name, live.ips[name], live.node_1_cidr)


@pytest.mark.parametrize(
    ("source", "allowed"),
    [("near", True), ("excepted", False), ("far", False)],
    ids=["inside-the-block", "in-the-except", "on-the-other-node"],
)
def test_check_judges_the_ip_block_against_real_pod_ips(
    live: Live, source: str, allowed: bool
) -> None:
    result = live.netpol("check", "--from", f"shop/{source}", "--to", "shop/server", "--port", "80")
    assert result.returncode == (0 if allowed else 1), result.stdout + result.stderr
    head = result.stdout.splitlines()[0]
    assert head == (
        f"{'allowed' if allowed else 'denied'}: shop/{source} ({live.ips[source]}) -> "
        f"shop/server ({live.ips['server']}) on 80/TCP"
    )
    if source == "excepted":
        assert (
            f"shop/excepted's IP {live.ips['excepted']} is in ipBlock {live.node_1_cidr} "
            f"but excepted by {live.ips['excepted']}/32"
        ) in result.stdout
    if allowed:
        assert "allowed by shop/from-node-1 ingress rule 0 (peer 0, port 0)" in result.stdout


def test_a_pod_ip_given_as_from_stands_for_its_pod(live: Live) -> None:
    result = live.netpol(
        "check", "--from", live.ips["near"], "--to", "shop/server", "--port", "http", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["allowed"] is True
    assert (verdict["sourceIP"], verdict["destinationIP"]) == (live.ips["near"], live.ips["server"])


def test_explain_names_the_real_ips_an_ip_block_matches(live: Live) -> None:
    result = live.netpol("explain", "--pod", "shop/server")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.splitlines()[0].startswith(f"Pod shop/server ({live.ips['server']};")
    peer_line = next(line for line in text.splitlines() if "peer 0" in line)
    assert f"(IP addresses in {live.node_1_cidr} except {live.ips['excepted']}/32)" in peer_line
    assert peer_line.endswith(f"matches now: shop/near ({live.ips['near']})")


def test_matrix_json_and_html_over_the_live_cluster(live: Live, tmp_path: Path) -> None:
    result = live.netpol("matrix", "-n", "shop", "--port", "80/TCP", "-o", "json")
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    pods, matrix = table["pods"], table["probes"][0]["matrix"]
    server = pods.index("shop/server")
    allowed_in = {pods[i] for i in range(len(pods)) if matrix[i][server]}
    assert allowed_in == {"shop/near"}
    html = live.netpol("matrix", "-n", "shop", "-o", "html")
    assert html.returncode == 0, html.stderr
    assert html.stdout.lstrip().lower().startswith("<!doctype html>")
    assert "shop/server" in html.stdout and "shop/near" in html.stdout
