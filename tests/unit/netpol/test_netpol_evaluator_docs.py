"""The evaluator against the Kubernetes NetworkPolicy documentation, example by example.

Each case: the policies (YAML as the documentation writes them), a connection and the verdict
the documentation says. Every case is also asked of the straightforward reference evaluator, so
the two definitions cannot drift apart.
"""

from __future__ import annotations

import pytest
from netpol_fixtures import DOCS_CLUSTER, build, endpoint

from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.reference import is_allowed

DENY_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
ALLOW_ALL_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-ingress, namespace: default}
spec:
  podSelector: {}
  ingress: [{}]
  policyTypes: [Ingress]
"""
DENY_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""
ALLOW_ALL_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-egress, namespace: default}
spec:
  podSelector: {}
  egress: [{}]
  policyTypes: [Egress]
"""
DENY_ALL = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""
TEST_NETWORK_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: test-network-policy, namespace: default}
spec:
  podSelector:
    matchLabels: {role: db}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except: [172.17.1.0/24]
    - namespaceSelector:
        matchLabels: {project: myproject}
    - podSelector:
        matchLabels: {role: frontend}
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/24}
    ports:
    - protocol: TCP
      port: 5978
"""
AND_PEER = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: and-peer, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {user: alice}}
      podSelector: {matchLabels: {role: client}}
"""
OR_PEERS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: or-peers, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {user: alice}}
    - podSelector: {matchLabels: {role: client}}
"""
END_PORT = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: multi-port-egress, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/24}
    ports:
    - protocol: TCP
      port: 32000
      endPort: 32768
"""
NAMED_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: redis-by-name, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - ports: [{port: redis}]
"""
NAMED_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-to-http, namespace: default}
spec:
  podSelector: {matchLabels: {role: client}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: http}]
"""
SCTP = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: sctp-only, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - ports: [{protocol: SCTP, port: 7777}]
"""
UDP_ANY_PORT = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: udp-any-port, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - ports: [{protocol: UDP}]
"""
EGRESS_ONLY_TYPES = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {role: nobody}}}]
  egress: [{}]
"""
BY_NAMESPACE_NAME = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-alice-by-name, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: alice}
"""
EVERY_NAMESPACE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: every-namespace, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from: [{namespaceSelector: {}}]
"""
SAME_NAMESPACE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-namespace, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from: [{podSelector: {}}]
"""
MYPROJECT_DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: myproject}
spec:
  podSelector: {}
"""
POD_CIDR_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: pod-cidr, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.2.0/24}}]
"""

CASES = [
    # (id, policies, from, to, port, protocol, allowed)
    ("no-policy-allows-all", [], "other/x", "default/db", 6379, "TCP", True),
    ("no-policy-allows-any-port", [], "default/db", "other/x", 1, "UDP", True),
    (
        "deny-ingress-blocks-in",
        [DENY_INGRESS],
        "default/frontend",
        "default/db",
        6379,
        "TCP",
        False,
    ),
    (
        "deny-ingress-blocks-same-ns",
        [DENY_INGRESS],
        "default/client",
        "default/frontend",
        8080,
        "TCP",
        False,
    ),
    ("deny-ingress-keeps-egress", [DENY_INGRESS], "default/db", "other/x", 80, "TCP", True),
    (
        "deny-ingress-other-ns-untouched",
        [DENY_INGRESS],
        "default/db",
        "myproject/any",
        80,
        "TCP",
        True,
    ),
    (
        "allow-all-ingress-over-deny",
        [DENY_INGRESS, ALLOW_ALL_INGRESS],
        "other/x",
        "default/db",
        6379,
        "TCP",
        True,
    ),
    (
        "allow-all-ingress-external",
        [DENY_INGRESS, ALLOW_ALL_INGRESS],
        "8.8.8.8",
        "default/db",
        1,
        "UDP",
        True,
    ),
    ("deny-egress-blocks-out", [DENY_EGRESS], "default/db", "other/x", 80, "TCP", False),
    ("deny-egress-blocks-external", [DENY_EGRESS], "default/db", "8.8.8.8", 53, "UDP", False),
    ("deny-egress-keeps-ingress", [DENY_EGRESS], "other/x", "default/db", 6379, "TCP", True),
    (
        "allow-all-egress-over-deny",
        [DENY_EGRESS, ALLOW_ALL_EGRESS],
        "default/db",
        "8.8.8.8",
        53,
        "UDP",
        True,
    ),
    ("deny-all-in", [DENY_ALL], "other/x", "default/db", 6379, "TCP", False),
    ("deny-all-out", [DENY_ALL], "default/db", "other/x", 80, "TCP", False),
    ("deny-all-within-ns", [DENY_ALL], "default/client", "default/frontend", 8080, "TCP", False),
    ("deny-all-self", [DENY_ALL], "default/db", "default/db", 6379, "TCP", False),
    (
        "tnp-frontend-6379",
        [TEST_NETWORK_POLICY],
        "default/frontend",
        "default/db",
        6379,
        "TCP",
        True,
    ),
    (
        "tnp-frontend-6380",
        [TEST_NETWORK_POLICY],
        "default/frontend",
        "default/db",
        6380,
        "TCP",
        False,
    ),
    (
        "tnp-frontend-udp",
        [TEST_NETWORK_POLICY],
        "default/frontend",
        "default/db",
        6379,
        "UDP",
        False,
    ),
    ("tnp-myproject-ns", [TEST_NETWORK_POLICY], "myproject/any", "default/db", 6379, "TCP", True),
    ("tnp-frontend-other-ns", [TEST_NETWORK_POLICY], "other/x", "default/db", 6379, "TCP", False),
    (
        "tnp-client-same-ns",
        [TEST_NETWORK_POLICY],
        "default/client",
        "default/db",
        6379,
        "TCP",
        False,
    ),
    ("tnp-ipblock-in", [TEST_NETWORK_POLICY], "172.17.0.5", "default/db", 6379, "TCP", True),
    ("tnp-ipblock-except", [TEST_NETWORK_POLICY], "172.17.1.5", "default/db", 6379, "TCP", False),
    (
        "tnp-ipblock-after-except",
        [TEST_NETWORK_POLICY],
        "172.17.2.1",
        "default/db",
        6379,
        "TCP",
        True,
    ),
    ("tnp-ipblock-outside", [TEST_NETWORK_POLICY], "172.18.0.1", "default/db", 6379, "TCP", False),
    ("tnp-egress-cidr-5978", [TEST_NETWORK_POLICY], "default/db", "10.0.0.7", 5978, "TCP", True),
    ("tnp-egress-cidr-80", [TEST_NETWORK_POLICY], "default/db", "10.0.0.7", 80, "TCP", False),
    (
        "tnp-egress-outside-cidr",
        [TEST_NETWORK_POLICY],
        "default/db",
        "10.0.1.7",
        5978,
        "TCP",
        False,
    ),
    ("tnp-egress-to-pod", [TEST_NETWORK_POLICY], "default/db", "other/x", 5978, "TCP", False),
    (
        "tnp-unselected-pod-free",
        [TEST_NETWORK_POLICY],
        "default/client",
        "8.8.8.8",
        443,
        "TCP",
        True,
    ),
    ("and-alice-client", [AND_PEER], "alice/client", "default/db", 6379, "TCP", True),
    ("and-alice-other", [AND_PEER], "alice/other", "default/db", 6379, "TCP", False),
    ("and-local-client", [AND_PEER], "default/client", "default/db", 6379, "TCP", False),
    ("or-alice-other", [OR_PEERS], "alice/other", "default/db", 6379, "TCP", True),
    ("or-local-client", [OR_PEERS], "default/client", "default/db", 6379, "TCP", True),
    ("or-other-ns", [OR_PEERS], "other/x", "default/db", 6379, "TCP", False),
    ("endport-low", [END_PORT], "default/db", "10.0.0.7", 32000, "TCP", True),
    ("endport-high", [END_PORT], "default/db", "10.0.0.7", 32768, "TCP", True),
    ("endport-above", [END_PORT], "default/db", "10.0.0.7", 32769, "TCP", False),
    ("endport-below", [END_PORT], "default/db", "10.0.0.7", 31999, "TCP", False),
    ("endport-udp", [END_PORT], "default/db", "10.0.0.7", 32000, "UDP", False),
    ("named-ingress-number", [NAMED_INGRESS], "other/x", "default/db", 6379, "TCP", True),
    ("named-ingress-wrong-number", [NAMED_INGRESS], "other/x", "default/db", 6380, "TCP", False),
    ("named-ingress-wrong-protocol", [NAMED_INGRESS], "other/x", "default/db", 6379, "UDP", False),
    (
        "named-egress-frontend-http",
        [NAMED_EGRESS],
        "default/client",
        "default/frontend",
        8080,
        "TCP",
        True,
    ),
    (
        "named-egress-resolved-per-pod",
        [NAMED_EGRESS],
        "default/client",
        "myproject/any",
        9090,
        "TCP",
        True,
    ),
    (
        "named-egress-other-pods-port",
        [NAMED_EGRESS],
        "default/client",
        "myproject/any",
        8080,
        "TCP",
        False,
    ),
    (
        "named-egress-no-such-port",
        [NAMED_EGRESS],
        "default/client",
        "default/db",
        8080,
        "TCP",
        False,
    ),
    ("named-egress-external", [NAMED_EGRESS], "default/client", "8.8.8.8", 8080, "TCP", False),
    ("sctp-allowed", [SCTP], "other/x", "default/db", 7777, "SCTP", True),
    ("sctp-not-tcp", [SCTP], "other/x", "default/db", 7777, "TCP", False),
    ("protocol-only-udp-any", [UDP_ANY_PORT], "other/x", "default/db", 5353, "UDP", True),
    ("protocol-only-not-tcp", [UDP_ANY_PORT], "other/x", "default/db", 5353, "TCP", False),
    (
        "policytypes-egress-ignores-ingress",
        [EGRESS_ONLY_TYPES],
        "other/x",
        "default/db",
        6379,
        "TCP",
        True,
    ),
    ("ns-by-name-label", [BY_NAMESPACE_NAME], "alice/other", "default/db", 6379, "TCP", True),
    ("ns-by-name-label-other", [BY_NAMESPACE_NAME], "other/x", "default/db", 6379, "TCP", False),
    ("every-namespace", [EVERY_NAMESPACE], "other/x", "default/db", 6379, "TCP", True),
    (
        "every-namespace-no-externals",
        [EVERY_NAMESPACE],
        "8.8.8.8",
        "default/db",
        6379,
        "TCP",
        False,
    ),
    (
        "empty-podselector-same-ns",
        [SAME_NAMESPACE],
        "default/client",
        "default/db",
        6379,
        "TCP",
        True,
    ),
    (
        "empty-podselector-not-other-ns",
        [SAME_NAMESPACE],
        "myproject/any",
        "default/db",
        6379,
        "TCP",
        False,
    ),
    ("policy-only-own-namespace", [MYPROJECT_DENY], "other/x", "default/db", 6379, "TCP", True),
    (
        "policy-own-namespace-isolated",
        [MYPROJECT_DENY],
        "other/x",
        "myproject/any",
        9090,
        "TCP",
        False,
    ),
    ("ipblock-matches-pod-ip", [POD_CIDR_INGRESS], "other/x", "default/db", 6379, "TCP", True),
    ("ipblock-other-pod", [POD_CIDR_INGRESS], "alice/other", "default/db", 6379, "TCP", False),
]


@pytest.mark.parametrize(
    ("policies", "source", "destination", "port", "protocol", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_documented_verdicts(
    policies: list[str], source: str, destination: str, port: int, protocol: str, allowed: bool
) -> None:
    inventory = build(DOCS_CLUSTER, *(f"---\n{p}" for p in policies))
    src, dst = endpoint(inventory, source), endpoint(inventory, destination)
    verdict = Evaluator(inventory).check(src, dst, port, protocol)
    assert verdict.allowed is allowed, verdict.to_dict()
    assert is_allowed(inventory, src, dst, port, protocol) is allowed


def test_ipblock_ignores_pod_ips_when_asked() -> None:
    inventory = build(DOCS_CLUSTER, "---\n" + POD_CIDR_INGRESS)
    src, dst = endpoint(inventory, "other/x"), endpoint(inventory, "default/db")
    evaluator = Evaluator(inventory, ip_block_matches_pods=False)
    assert not evaluator.check(src, dst, 6379, "TCP").allowed
    assert not is_allowed(inventory, src, dst, 6379, "TCP", ip_block_matches_pods=False)


def test_reason_names_policy_rule_peer_and_port() -> None:
    inventory = build(DOCS_CLUSTER, "---\n" + TEST_NETWORK_POLICY, "---\n" + DENY_INGRESS)
    evaluator = Evaluator(inventory)
    verdict = evaluator.check(
        endpoint(inventory, "myproject/any"), endpoint(inventory, "default/db"), 6379, "TCP"
    )
    assert verdict.allowed
    assert verdict.ingress.isolated_by == (
        "default/default-deny-ingress",
        "default/test-network-policy",
    )
    [match] = verdict.ingress.allowed_by
    assert (match.policy, match.rule, match.peer, match.port) == (
        "default/test-network-policy",
        0,
        1,
        0,
    )
    assert verdict.egress.applies and not verdict.egress.isolated_by
    assert "no NetworkPolicy selects myproject/any for egress" in verdict.egress.reason


def test_reason_when_nothing_matches() -> None:
    inventory = build(DOCS_CLUSTER, "---\n" + TEST_NETWORK_POLICY)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, "default/db"), endpoint(inventory, "8.8.8.8"), 53, "UDP"
    )
    assert not verdict.allowed
    assert not verdict.egress.allowed and verdict.egress.allowed_by == ()
    assert verdict.egress.reason == (
        "default/db is isolated for egress by default/test-network-policy, and no egress rule "
        "of theirs allows traffic to 8.8.8.8 on 53/UDP"
    )
    assert not verdict.ingress.applies
    assert verdict.ingress.allowed


def test_external_source_has_only_an_ingress_side() -> None:
    inventory = build(DOCS_CLUSTER, "---\n" + DENY_EGRESS)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, "172.17.0.5"), endpoint(inventory, "default/db"), 6379, "TCP"
    )
    assert verdict.allowed
    assert not verdict.egress.applies
    assert verdict.to_dict()["egress"]["applies"] is False


def test_every_matching_rule_is_listed() -> None:
    inventory = build(DOCS_CLUSTER, "---\n" + OR_PEERS, "---\n" + SAME_NAMESPACE)
    verdict = Evaluator(inventory).check(
        endpoint(inventory, "default/client"), endpoint(inventory, "default/db"), 1, "TCP"
    )
    assert [(m.policy, m.peer, m.port) for m in verdict.ingress.allowed_by] == [
        ("default/or-peers", 1, None),
        ("default/same-namespace", 0, None),
    ]
