"""Services, their Endpoints and EndpointSlices, and PodDisruptionBudgets, driven by the real
kubectl against a cluster with two node agents, each controller as its own service account
(issue 14: "a Service gets a ClusterIP and its EndpointSlices follow pod readiness", "a PDB
blocks an eviction").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

from kubeward.testing import running_cluster

NS = "web"
MANUAL_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: manual}
spec: {ports: [{port: 80}]}
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=2) as cluster:
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        admin.run(
            "create",
            "clusterrolebinding",
            "nodes",
            "--clusterrole=system:node",
            "--group=system:nodes",
        )
        admin.run("create", "namespace", NS)
        yield admin


def slices(kubectl: Kubectl, service: str) -> list[Any]:
    listed = get_json(
        kubectl, "endpointslices", "-n", NS, "-l", f"kubernetes.io/service-name={service}"
    )
    return list(listed["items"])


def endpoints_of(kubectl: Kubectl, service: str) -> list[Any]:
    return [e for s in slices(kubectl, service) for e in s.get("endpoints") or []]


def running_pods(kubectl: Kubectl, selector: str) -> list[Any]:
    pods = get_json(kubectl, "pods", "-n", NS, "-l", selector)["items"]
    return [p for p in pods if p.get("status", {}).get("podIP")]


def test_a_service_gets_a_cluster_ip_and_slices_that_follow_pod_readiness(
    kubectl: Kubectl,
) -> None:
    kubectl.run("create", "deployment", "web", "--image=nginx", "--replicas=3", "-n", NS)
    kubectl.run("expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", NS)
    service = get_json(kubectl, "service", "web", "-n", NS)
    assert service["spec"]["clusterIP"].startswith("10.")

    def three_ready() -> list[Any] | None:
        found = endpoints_of(kubectl, "web")
        ready = [e for e in found if e["conditions"]["ready"]]
        return found if len(ready) == 3 else None

    listed = wait_for(three_ready, "three ready endpoints")
    (slice_,) = slices(kubectl, "web")
    assert slice_["addressType"] == "IPv4"
    assert slice_["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    assert slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslice-controller.k8s.io"
    )
    assert slice_["metadata"]["generateName"] == "web-"
    (owner,) = slice_["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Service",
        "web",
        service["metadata"]["uid"],
        True,
    )
    pods = {p["metadata"]["name"]: p for p in running_pods(kubectl, "app=web")}
    for endpoint in listed:
        pod = pods[endpoint["targetRef"]["name"]]
        assert endpoint["addresses"] == [pod["status"]["podIP"]]
        assert endpoint["nodeName"] == pod["spec"]["nodeName"]
        assert endpoint["conditions"] == {"ready": True, "serving": True, "terminating": False}

    # The Endpoints object lists the same pods, as addresses with the target port.
    endpoints = get_json(kubectl, "endpoints", "web", "-n", NS)
    (subset,) = endpoints["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == sorted(
        p["status"]["podIP"] for p in pods.values()
    )
    assert subset["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    table = kubectl.run("get", "endpoints", "web", "-n", NS).stdout
    assert ":8080" in table
    header, row = kubectl.run("get", "endpointslices", "-n", NS).stdout.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"]
    assert row.split()[1:3] == ["IPv4", "8080"]
    described = kubectl.run("describe", "service", "web", "-n", NS).stdout
    first_ip = sorted(p["status"]["podIP"] for p in pods.values())[0]
    assert f"{first_ip}:8080" in described

    # A pod that stops being ready is listed not ready, in the slice and in Endpoints.
    victim = sorted(pods)[0]
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    kubectl.run(
        "patch", "pod", victim, "-n", NS, "--subresource=status", "--type=strategic",
        "-p", json.dumps(not_ready),
    )  # fmt: skip

    def victim_not_ready() -> Any:
        for endpoint in endpoints_of(kubectl, "web"):
            if endpoint["targetRef"]["name"] == victim and not endpoint["conditions"]["ready"]:
                return endpoint
        return None

    endpoint = wait_for(victim_not_ready, "the pod's endpoint to turn not ready")
    assert endpoint["conditions"]["serving"] is False

    def in_not_ready_addresses() -> Any:
        subsets = get_json(kubectl, "endpoints", "web", "-n", NS).get("subsets") or []
        names = [a["targetRef"]["name"] for s in subsets for a in s.get("notReadyAddresses") or []]
        return names == [victim]

    wait_for(in_not_ready_addresses, "the pod among notReadyAddresses")


def test_a_selectorless_service_gets_no_endpoints_and_a_headless_one_does(
    kubectl: Kubectl,
) -> None:
    kubectl.run("apply", "-n", NS, "-f", "-", input=MANUAL_SERVICE)
    kubectl.run("create", "service", "clusterip", "headless", "--clusterip=None", "-n", NS)
    kubectl.run("set", "selector", "service", "headless", "app=web", "-n", NS)

    endpoints = wait_for(
        lambda: (
            kubectl.run("get", "endpoints", "headless", "-n", NS, check=False).returncode == 0
            and get_json(kubectl, "endpoints", "headless", "-n", NS)
        ),
        "the headless Service's Endpoints",
    )
    assert endpoints["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    assert all("ports" not in s for s in endpoints.get("subsets") or [])
    assert slices(kubectl, "manual") == []
    missing = kubectl.run("get", "endpoints", "manual", "-n", NS, check=False)
    assert 'endpoints "manual" not found' in missing.stderr


def test_a_budget_blocks_a_drain_until_its_status_allows_it(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "guarded", "--image=nginx", "--replicas=2", "-n", NS)
    kubectl.run(
        "create", "poddisruptionbudget", "guarded", "--selector=app=guarded",
        "--min-available=2", "-n", NS,
    )  # fmt: skip

    def status() -> Any:
        got = get_json(kubectl, "pdb", "guarded", "-n", NS).get("status") or {}
        return got if got.get("currentHealthy") == 2 else None

    computed = wait_for(status, "the budget's status from two healthy pods")
    assert computed["expectedPods"] == 2
    assert computed["desiredHealthy"] == 2
    assert computed["disruptionsAllowed"] == 0
    (condition,) = computed["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "DisruptionAllowed",
        "False",
        "InsufficientPods",
    )
    node = running_pods(kubectl, "app=guarded")[0]["spec"]["nodeName"]
    blocked = kubectl.run("drain", node, "--pod-selector=app=guarded", "--timeout=2s", check=False)
    assert blocked.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in blocked.stderr

    kubectl.run("patch", "pdb", "guarded", "-n", NS, "--type=merge",
                "-p", '{"spec":{"minAvailable":1}}')  # fmt: skip

    def allows_one() -> Any:
        got = get_json(kubectl, "pdb", "guarded", "-n", NS)["status"]
        return (
            got if got.get("disruptionsAllowed") == 1 and got["observedGeneration"] == 2 else None
        )

    allowed = wait_for(allows_one, "the budget to allow one disruption")
    assert allowed["conditions"][0]["reason"] == "SufficientPods"
    drained = kubectl.run(
        "drain", node, "--pod-selector=app=guarded", "--grace-period=1", "--timeout=60s"
    )
    assert "evicted" in drained.stdout
