"""explain (a pod's policies in words), lint (policies that cannot do what they say) and diff."""

from __future__ import annotations

import pytest
from netpol_fixtures import DOCS_CLUSTER, THREE_TIER, build

from kubeward.netpol.diff import diff_inventories, ports_in_play
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.explain import explain_pod
from kubeward.netpol.lint import lint
from kubeward.netpol.matrix import Probe

ONLY_PROD_API = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-prod-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: prod}}
      podSelector: {matchLabels: {app: api}}
    - ipBlock: {cidr: 192.168.5.10/32}
    ports: [{port: 3306}]
"""
DENY_ALL_PROD = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def test_explain_isolated_pod() -> None:
    inventory = build(THREE_TIER, ONLY_PROD_API, DENY_ALL_PROD)
    explained = explain_pod(Evaluator(inventory), inventory.pods_by_key["prod/db"])
    assert explained.to_text().splitlines() == [
        "Pod prod/db (10.1.0.12; 3306/TCP (mysql))",
        "",
        "Ingress: isolated by 2 policies. A connection in is allowed only when one of these "
        "rules allows it:",
        "  prod/db-from-prod-api:",
        "    rule 0: from pods labelled app=api in namespace prod or IP addresses in "
        "192.168.5.10/32, on TCP port 3306",
        "      peer 0 (pods labelled app=api in namespace prod) matches now: prod/api",
        "      peer 1 (IP addresses in 192.168.5.10/32) matches now: no pod",
        "  prod/deny-all: no ingress rules: lets nothing in",
        "",
        "Egress: isolated by 1 policy. A connection out is allowed only when one of these rules "
        "allows it:",
        "  prod/deny-all: no egress rules: lets nothing out",
    ]
    data = explained.to_dict()
    assert data["ingress"]["isolated"] is True
    assert data["ingress"]["policies"][0]["rules"][0]["peers"][0]["pods"] == ["prod/api"]


def test_explain_free_pod() -> None:
    inventory = build(THREE_TIER, ONLY_PROD_API)
    text = explain_pod(Evaluator(inventory), inventory.pods_by_key["dev/web"]).to_text()
    assert "Ingress: not isolated. No NetworkPolicy selects this pod for ingress, so every " in text
    assert "Egress: not isolated." in text


LINT_POLICIES = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-typo, namespace: default}
spec:
  podSelector: {matchLabels: {role: dbb}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-db, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {project: nosuch}}
    - podSelector: {matchLabels: {role: ghost}}
    - podSelector: {matchLabels: {role: frontend}}
    ports: [{port: redis}, {port: mysql}]
  - from:
    - ipBlock: {cidr: 10.0.0.0/8}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-narrower, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: frontend}}}]
    ports: [{port: 6379}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: d-egress, namespace: default}
spec:
  podSelector: {matchLabels: {role: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {role: db}}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: e-copy, namespace: default}
spec:
  podSelector: {matchLabels: {role: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {role: db}}}]
    ports: [{port: http}]
"""


def test_lint_findings() -> None:
    inventory = build(DOCS_CLUSTER, LINT_POLICIES)
    found = [(f.policy, f.code, f.path) for f in lint(Evaluator(inventory))]
    assert found == [
        ("default/a-typo", "selects-no-pods", "spec.podSelector"),
        (
            "default/b-db",
            "namespace-selector-matches-nothing",
            "spec.ingress[0].from[0].namespaceSelector",
        ),
        ("default/b-db", "peer-matches-no-pods", "spec.ingress[0].from[1].podSelector"),
        ("default/b-db", "named-port-undefined", "spec.ingress[0].ports[1]"),
        ("default/c-narrower", "shadowed", ""),
        ("default/d-egress", "named-port-undefined", "spec.egress[0].ports[0]"),
        ("default/e-copy", "named-port-undefined", "spec.egress[0].ports[0]"),
        ("default/e-copy", "shadowed", ""),
    ]
    messages = {(f.policy, f.code): f.message for f in lint(Evaluator(inventory))}
    assert messages[("default/c-narrower", "shadowed")].startswith("is covered by default/b-db")
    assert messages[("default/e-copy", "shadowed")].startswith("does the same as default/d-egress")


SHADOW_CASES = [
    (
        "same-rules-other-pods",
        "{matchLabels: {role: db}}",
        "[{from: [{podSelector: {}}]}]",
        "{matchLabels: {role: frontend}}",
        "[{from: [{podSelector: {}}]}]",
        False,
    ),
    (
        "wider-selector-and-rules",
        "{matchLabels: {role: db}}",
        "[{from: [{podSelector: {matchLabels: {role: frontend}}}]}]",
        "{}",
        "[{from: [{podSelector: {}}]}]",
        True,
    ),
    (
        "external-ip-not-covered",
        "{}",
        "[{from: [{podSelector: {}}, {ipBlock: {cidr: 192.0.2.0/24}}]}]",
        "{}",
        "[{from: [{podSelector: {}}]}]",
        False,
    ),
    (
        "except-hole-not-covered",
        "{}",
        "[{from: [{ipBlock: {cidr: 192.0.2.0/24}}]}]",
        "{}",
        "[{from: [{ipBlock: {cidr: 192.0.0.0/16, except: [192.0.2.128/25]}}]}]",
        False,
    ),
    (
        "cidr-covered",
        "{}",
        "[{from: [{ipBlock: {cidr: 192.0.2.0/25}}]}]",
        "{}",
        "[{from: [{ipBlock: {cidr: 192.0.0.0/16, except: [192.0.2.128/25]}}]}]",
        True,
    ),
    (
        "port-range-not-covered",
        "{}",
        "[{ports: [{port: 1000, endPort: 2000}]}]",
        "{}",
        "[{ports: [{port: 1000, endPort: 1999}]}]",
        False,
    ),
    (
        "port-range-covered",
        "{}",
        "[{ports: [{port: 1500}]}]",
        "{}",
        "[{ports: [{port: 1000, endPort: 2000}]}]",
        True,
    ),
    (
        "deny-all-covered-by-any-isolation",
        "{}",
        "[]",
        "{}",
        "[{ports: [{port: 6379}]}]",
        True,
    ),
]


@pytest.mark.parametrize(
    ("b_selector", "b_ingress", "a_selector", "a_ingress", "shadowed"),
    [c[1:] for c in SHADOW_CASES],
    ids=[c[0] for c in SHADOW_CASES],
)
def test_shadowing(
    b_selector: str, b_ingress: str, a_selector: str, a_ingress: str, shadowed: bool
) -> None:
    policies = f"""
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: b, namespace: default}}
spec: {{podSelector: {b_selector}, ingress: {b_ingress}, policyTypes: [Ingress]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: a, namespace: default}}
spec: {{podSelector: {a_selector}, ingress: {a_ingress}, policyTypes: [Ingress]}}
"""
    inventory = build(DOCS_CLUSTER, policies)
    found = {(f.policy, f.code) for f in lint(Evaluator(inventory))}
    assert (("default/b", "shadowed") in found) is shadowed


def test_diff_opens_and_closes() -> None:
    before = build(THREE_TIER, ONLY_PROD_API)
    tightened = ONLY_PROD_API.replace("port: 3306", "port: 3307")
    after = build(THREE_TIER, tightened, DENY_ALL_PROD.replace("[Ingress, Egress]", "[Egress]"))
    changes = diff_inventories(before, after)
    assert [str(p) for p in changes.probes] == ["80/TCP", "3306/TCP", "3307/TCP", "5000/TCP"]
    closed = {(c.source, c.destination, c.port) for c in changes.closed}
    opened = {(c.source, c.destination, c.port) for c in changes.opened}
    assert ("prod/api", "prod/db", 3306) in closed
    assert ("prod/web", "prod/api", 5000) in closed, "prod egress now denied"
    assert ("dev/web", "prod/api", 5000) not in closed, "ingress of prod untouched"
    assert opened == set(), "the new port opens nothing: prod/api may no longer send at all"
    reason = next(c.reason for c in changes.closed if c.port == 3306 and c.source == "prod/api")
    assert "isolated for egress by prod/deny-all" in reason
    assert "flows opened" in changes.to_text()


def test_diff_reports_opened_flows_with_the_rule() -> None:
    before = build(THREE_TIER, ONLY_PROD_API)
    after = build(
        THREE_TIER,
        ONLY_PROD_API.replace("app: api", "tier: any").replace(
            "podSelector: {matchLabels: {tier: any}}", "podSelector: {}"
        ),
    )
    changes = diff_inventories(before, after)
    opened = {(c.source, c.destination, c.port) for c in changes.opened}
    assert opened == {("prod/web", "prod/db", 3306), ("prod/db", "prod/db", 3306)}
    assert not changes.closed
    assert all(
        "allowed by prod/db-from-prod-api ingress rule 0" in c.reason for c in changes.opened
    )
    assert changes.to_dict()["opened"][0].keys() == {"from", "to", "port", "protocol", "reason"}


def test_diff_pods_on_one_side_only() -> None:
    before = build(THREE_TIER)
    after = build(THREE_TIER.replace("name: web, namespace: dev", "name: web2, namespace: dev"))
    changes = diff_inventories(before, after)
    assert changes.only_before == ("dev/web",)
    assert changes.only_after == ("dev/web2",)
    assert not changes.opened and not changes.closed


def test_ports_in_play_default() -> None:
    assert ports_in_play([build("")]) == [Probe(80)]


def test_lint_namespace_without_pods() -> None:
    policy = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-kube-system, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
"""
    [finding] = lint(Evaluator(build(DOCS_CLUSTER, policy)))
    assert (finding.code, finding.path, finding.message) == (
        "peer-matches-no-pods",
        "spec.ingress[0].from[0].namespaceSelector",
        "there is no pod in namespace kube-system",
    )
