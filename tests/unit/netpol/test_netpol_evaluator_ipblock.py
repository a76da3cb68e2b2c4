"""Pods without an IP beside ipBlock peers: evaluated, never matched, and said so (issue 11, 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from netpol_fixtures import COURSE_DB_POLICY, THREE_TIER, THREE_TIER_WITHOUT_IPS, build, endpoint

from kubeward.cli.main import cli
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.explain import explain_pod
from kubeward.netpol.matrix import Probe, build_truth_table

WEB_HAS_NO_IP = "prod/web has no IP (no status.podIP), so no ipBlock can match it"
API_HAS_NO_IP = "prod/api has no IP (no status.podIP), so no ipBlock can match it"

CASES = [
    ("backup-server-in", "192.168.5.10", "prod/db", 3306, True, ""),
    ("backup-neighbour-in", "192.168.5.11", "prod/db", 3306, False, ""),
    ("prod-api-in", "prod/api", "prod/db", 3306, True, ""),
    ("dev-api-in", "dev/api", "prod/db", 3306, False, "dev/api has no IP"),
    ("prod-web-in", "prod/web", "prod/db", 3306, False, WEB_HAS_NO_IP),
    ("db-to-backup-server", "prod/db", "192.168.5.10", 80, True, ""),
    ("db-to-backup-wrong-port", "prod/db", "192.168.5.10", 873, False, ""),
    ("db-to-api", "prod/db", "prod/api", 5000, False, API_HAS_NO_IP),
]


@pytest.mark.parametrize(
    ("source", "destination", "port", "allowed", "note"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_course_backup_policy_on_pods_without_ips(
    source: str, destination: str, port: int, allowed: bool, note: str
) -> None:
    inventory = build(THREE_TIER_WITHOUT_IPS, COURSE_DB_POLICY)
    assert all(pod.ip is None for pod in inventory.pods)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, source), endpoint(inventory, destination), port, "TCP"
    )
    assert verdict.allowed is allowed
    said = " ".join(side.reason for side in (verdict.egress, verdict.ingress))
    if note:
        assert note in said
    else:
        assert "no IP" not in said


def test_the_note_is_in_the_json_verdict() -> None:
    inventory = build(THREE_TIER_WITHOUT_IPS, COURSE_DB_POLICY)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, "prod/web"), endpoint(inventory, "prod/db"), 3306, "TCP"
    )
    assert verdict.to_dict()["ingress"]["notes"] == [WEB_HAS_NO_IP]
    assert "notes" not in verdict.to_dict()["egress"]


@pytest.mark.parametrize("cluster", [THREE_TIER, THREE_TIER_WITHOUT_IPS], ids=["ips", "no-ips"])
def test_without_ipblock_matching_pods_the_verdict_says_so(cluster: str) -> None:
    inventory = build(cluster, COURSE_DB_POLICY)
    evaluator = Evaluator(inventory, ip_block_matches_pods=False)
    verdict = evaluator.check(
        endpoint(inventory, "prod/web"), endpoint(inventory, "prod/db"), 3306, "TCP"
    )
    assert not verdict.allowed
    assert verdict.ingress.notes == (
        "ipBlock peers match only addresses outside the cluster here, never a pod such as prod/web",
    )
    outside = evaluator.check(
        endpoint(inventory, "192.168.5.10"), endpoint(inventory, "prod/db"), 3306, "TCP"
    )
    assert outside.allowed


def test_a_pod_with_an_ip_inside_the_block_still_matches_it() -> None:
    cluster = THREE_TIER.replace("podIP: 10.1.0.10", "podIP: 192.168.5.10")
    inventory = build(cluster, COURSE_DB_POLICY)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, "prod/web"), endpoint(inventory, "prod/db"), 3306, "TCP"
    )
    assert verdict.allowed and not verdict.ingress.notes


def test_explain_says_which_pods_an_ipblock_cannot_match() -> None:
    inventory = build(THREE_TIER_WITHOUT_IPS, COURSE_DB_POLICY)
    text = explain_pod(Evaluator(inventory), inventory.pods_by_key["prod/db"]).to_text()
    assert (
        "peer 1 (IP addresses in 192.168.5.10/32) matches now: no pod "
        "(no pod has an IP, and a pod without one never matches an ipBlock)"
    ) in text
    db = inventory.pods_by_key["prod/db"]
    off = explain_pod(Evaluator(inventory, ip_block_matches_pods=False), db).to_dict()
    assert off["ingress"]["policies"][0]["rules"][0]["peers"][1] == {
        "peer": 1,
        "text": "IP addresses in 192.168.5.10/32",
        "pods": [],
        "note": "ipBlocks are not matched against pods here",
    }


def test_matrix_of_pods_without_ips() -> None:
    inventory = build(THREE_TIER_WITHOUT_IPS, COURSE_DB_POLICY)
    table = build_truth_table(Evaluator(inventory), [Probe(3306)], ["prod"])
    pods = [pod.key for pod in table.pods]
    into_db = [row[pods.index("prod/db")] for row in table.probes[0].matrix]
    assert dict(zip(pods, into_db, strict=True)) == {
        "prod/api": True,
        "prod/db": False,
        "prod/web": False,
    }


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--from", "192.168.5.10", "--to", "prod/db", "--port", "3306"], 0),
        (["--from", "prod/web", "--to", "prod/db", "--port", "3306"], 1),
        (["--from", "prod/web", "--to", "prod/db", "--port", "3306", "-o", "json"], 1),
        (["--from", "prod/web", "--to", "prod/db"], 2),
    ],
    ids=["allowed", "denied", "denied-json", "usage"],
)
def test_check_exit_status(tmp_path: Path, args: list[str], code: int) -> None:
    (tmp_path / "cluster.yaml").write_text(THREE_TIER_WITHOUT_IPS + COURSE_DB_POLICY)
    for flags in ([], ["--no-ipblock-matches-pods"]):
        result = CliRunner().invoke(cli, ["netpol", "check", "-f", str(tmp_path), *flags, *args])
        assert result.exit_code == code, result.output
        if code == 1 and "json" not in args:
            assert result.output.startswith("denied: prod/web -> prod/db on 3306/TCP\n")
