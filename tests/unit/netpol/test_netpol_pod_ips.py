"""Pods with the IPs their nodes gave them, judged by ipBlocks with an ``except``: finished pods
have no IP, verdicts and explanations name the IPs, an excepted IP is said to be."""

from __future__ import annotations

from typing import Any

import pytest
from netpol_fixtures import build

from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.explain import explain_pod
from kubeward.netpol.objects import inventory_from_objects
from kubeward.netpol.render import verdict_text


def pod(name: str, ip: str, phase: str = "Running", app: str = "client") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}]},
    }


POLICY: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "node-a-only", "namespace": "default"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "server"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [{"ipBlock": {"cidr": "10.244.0.0/24", "except": ["10.244.0.3/32"]}}]}
        ],
    },
}

OBJECTS = [
    pod("server", "10.244.1.2", app="server"),
    pod("near", "10.244.0.2"),
    pod("excepted", "10.244.0.3"),
    pod("far", "10.244.1.3"),
    pod("done", "10.244.0.4", phase="Succeeded"),
    POLICY,
]


@pytest.mark.parametrize(
    ("source", "allowed"),
    [("near", True), ("excepted", False), ("far", False), ("done", False)],
    ids=["in-the-block", "in-the-except", "outside", "finished"],
)
def test_ip_blocks_judge_the_pods_ips(source: str, allowed: bool) -> None:
    inventory = inventory_from_objects(OBJECTS)
    pods = inventory.pods_by_key
    verdict = Evaluator(inventory).check(
        pods[f"default/{source}"], pods["default/server"], 80, "TCP"
    )
    assert verdict.allowed is allowed


def test_a_finished_pod_has_no_ip_and_the_verdict_says_why() -> None:
    inventory = inventory_from_objects(OBJECTS)
    done = inventory.pods_by_key["default/done"]
    assert done.ip is None and done.finished
    assert "10.244.0.4" not in {str(ip) for ip in inventory.pods_by_ip}
    verdict = Evaluator(inventory).check(done, inventory.pods_by_key["default/server"], 80, "TCP")
    assert verdict.ingress.notes == (
        "default/done has no IP (Succeeded: its IP was released), so no ipBlock can match it",
    )


def test_verdicts_name_the_ips_and_the_except_that_decided() -> None:
    inventory = inventory_from_objects(OBJECTS)
    pods = inventory.pods_by_key
    verdict = Evaluator(inventory).check(
        pods["default/excepted"], pods["default/server"], 80, "TCP"
    )
    text = verdict_text(verdict)
    assert text.splitlines()[0] == (
        "denied: default/excepted (10.244.0.3) -> default/server (10.244.1.2) on 80/TCP"
    )
    assert (
        "default/excepted's IP 10.244.0.3 is in ipBlock 10.244.0.0/24 but excepted by "
        "10.244.0.3/32" in text
    )
    data = verdict.to_dict()
    assert (data["sourceIP"], data["destinationIP"]) == ("10.244.0.3", "10.244.1.2")


def test_explain_lists_the_pods_an_ip_block_matches_with_their_ips() -> None:
    inventory = inventory_from_objects(OBJECTS)
    explained = explain_pod(Evaluator(inventory), inventory.pods_by_key["default/server"])
    text = explained.to_text()
    assert text.splitlines()[0].startswith("Pod default/server (10.244.1.2;")
    assert "matches now: default/near (10.244.0.2) (1 pod has no IP and cannot match it)" in text
    peer = explained.to_dict()["ingress"]["policies"][0]["rules"][0]["peers"][0]
    assert (peer["pods"], peer["ips"]) == (["default/near"], ["10.244.0.2"])


def test_files_without_a_phase_keep_their_ips() -> None:
    inventory = build(
        """
apiVersion: v1
kind: Pod
metadata: {name: p}
status: {podIP: 10.1.0.9}
"""
    )
    assert str(inventory.pods_by_key["default/p"].ip) == "10.1.0.9"
