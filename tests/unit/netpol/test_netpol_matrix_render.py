"""Truth tables: probes, namespaces shown, the e2e-style grid and the exact JSON shape."""

from __future__ import annotations

import json

import pytest
from netpol_fixtures import THREE_TIER, build

from kubeward.errors import InputError
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.matrix import Probe, build_truth_table
from kubeward.netpol.render import truth_table_json, truth_table_text, verdict_text
from kubeward.netpol.render_html import truth_table_html

DB_FROM_API = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: mysql}]}]
"""


@pytest.mark.parametrize(
    ("text", "probe"),
    [
        ("80", Probe(80, "TCP")),
        ("80/TCP", Probe(80, "TCP")),
        ("53/udp", Probe(53, "UDP")),
        ("7777/SCTP", Probe(7777, "SCTP")),
        ("http/TCP", Probe("http", "TCP")),
    ],
    ids=["number", "number-protocol", "lowercase-protocol", "sctp", "named"],
)
def test_probe_parse(text: str, probe: Probe) -> None:
    assert Probe.parse(text) == probe


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0/TCP", "must be between 1 and 65535"),
        ("80/ICMP", "protocol must be TCP, UDP or SCTP"),
        ("HTTP", "not a port number"),
        ("80/TCP/x", "want PORT or PORT/PROTOCOL"),
    ],
    ids=["zero", "icmp", "bad-name", "junk"],
)
def test_probe_parse_rejects(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        Probe.parse(text)


def test_text_grid_is_the_e2e_pretty_print_then_a_legend() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    table = build_truth_table(Evaluator(inventory), [Probe(3306)], ["prod"])
    grids, _, legend = truth_table_text(table).rpartition("\n\n")
    assert grids == (
        "3306/TCP:\n"
        "-\tprod/api\tprod/db\tprod/web\n"
        "prod/api\t.\t.\t.\n"
        "prod/db\t.\tX\t.\n"
        "prod/web\t.\tX\t."
    )
    assert legend == (
        "Legend: each row is a source pod, each column a destination pod; "
        "'.' = the connection is allowed, 'X' = it is denied."
    )


def test_json_shape_is_exact() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    table = build_truth_table(Evaluator(inventory), [Probe(3306), Probe(80, "UDP")], ["prod"])
    data = json.loads(truth_table_json(table))
    assert list(data) == ["pods", "probes"]
    assert data["pods"] == ["prod/api", "prod/db", "prod/web"]
    assert data["probes"] == [
        {
            "port": 3306,
            "protocol": "TCP",
            "matrix": [[True, True, True], [True, False, True], [True, False, True]],
        },
        {
            "port": 80,
            "protocol": "UDP",
            "matrix": [[True, False, True], [True, False, True], [True, False, True]],
        },
    ]


def test_named_probe_resolves_per_destination() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    table = build_truth_table(Evaluator(inventory), [Probe("mysql")], ["prod"])
    # Only prod/db defines "mysql"; the others refuse a connection to a port they lack.
    assert table.probes[0].matrix == (
        (False, True, False),
        (False, False, False),
        (False, False, False),
    )


def test_namespace_filter_keeps_policies_and_peers() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    evaluator = Evaluator(inventory)
    full = build_truth_table(evaluator, [Probe(3306)])
    narrow = build_truth_table(evaluator, [Probe(3306)], ["prod"])
    keys = [p.key for p in full.pods]
    for i, source in enumerate(narrow.pods):
        for j, destination in enumerate(narrow.pods):
            expected = full.probes[0].matrix[keys.index(source.key)][keys.index(destination.key)]
            assert narrow.probes[0].matrix[i][j] == expected
    with pytest.raises(InputError, match='-n shop: namespace "shop" not found'):
        build_truth_table(evaluator, [Probe(80)], ["shop"])


def test_verdict_text() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    evaluator = Evaluator(inventory)
    pods = inventory.pods_by_key
    text = verdict_text(evaluator.check(pods["prod/web"], pods["prod/db"], 3306, "TCP"))
    assert text.splitlines() == [
        "denied: prod/web (10.1.0.10) -> prod/db (10.1.0.12) on 3306/TCP",
        "  egress (allowed): no NetworkPolicy selects prod/web for egress: all egress is allowed",
        "  ingress (denied): prod/db is isolated for ingress by prod/db, and no ingress rule of "
        "theirs allows traffic from prod/web on 3306/TCP",
    ]


def test_html_is_self_contained_and_carries_every_cell() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    evaluator = Evaluator(inventory)
    table = build_truth_table(evaluator, [Probe(3306), Probe("mysql")])
    page = truth_table_html(evaluator, table)
    for external in ("http://", "https://", "<link", "src=", "@import", "url("):
        assert external not in page
    start = page.index('<script type="application/json" id="data">') + len(
        '<script type="application/json" id="data">'
    )
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["pods"] == [p.key for p in table.pods]
    n = len(table.pods)
    for probe, result in zip(data["probes"], table.probes, strict=True):
        assert len(probe["cells"]) == n * n
        for i in range(n):
            for j in range(n):
                cell = probe["cells"][i * n + j]
                assert (cell == "a") == result.matrix[i][j]
    assert "n" in data["probes"][1]["cells"], "named probe: destinations without the port"
    assert any("allowed by prod/db ingress rule 0" in s for s in data["strings"])


def test_html_escapes_names() -> None:
    inventory = build(THREE_TIER, DB_FROM_API)
    evaluator = Evaluator(inventory)
    table = build_truth_table(evaluator, [Probe(80)])
    page = truth_table_html(evaluator, table, title="<script>alert(1)</script>")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
