"""The authorizer chain: always-modes, the union, system:masters and --authorization-mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.authz.always import AlwaysAllowAuthorizer, AlwaysDenyAuthorizer
from kubeward.authz.interfaces import (
    Attributes,
    AuthzResult,
    Decision,
    NonResourceRule,
    ResourceRule,
    RulesResult,
)
from kubeward.authz.modes import build_authorizer, parse_modes, validate_modes
from kubeward.authz.privileged import PrivilegedGroupsAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.union import UnionAuthorizer, UnionRuleResolver
from kubeward.errors import InputError

JANE = UserInfo("jane", groups=("system:authenticated",))
MASTER = UserInfo("root", groups=("system:masters", "system:authenticated"))
GET_PODS = Attributes(JANE, "get", namespace="default", resource="pods")


class Fixed:
    """An authorizer that always answers the same (a fake of kubeward's own seam)."""

    def __init__(self, name: str, decision: Decision, reason: str = "") -> None:
        self.name = name
        self.result = AuthzResult(decision, reason, authorizer=name)
        self.calls = 0

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.calls += 1
        return self.result


def test_always_allow_allows_and_lists_everything() -> None:
    assert AlwaysAllowAuthorizer().authorize(GET_PODS).decision is Decision.ALLOW
    rules = AlwaysAllowAuthorizer().rules_for(JANE, "default")
    assert rules.resource_rules == (ResourceRule(("*",), ("*",), ("*",)),)
    assert rules.non_resource_rules == (NonResourceRule(("*",), ("*",)),)


def test_always_deny_has_no_opinion_as_in_kubernetes() -> None:
    result = AlwaysDenyAuthorizer().authorize(GET_PODS)
    assert result.decision is Decision.NO_OPINION
    assert result.reason == "Everything is forbidden."
    assert AlwaysDenyAuthorizer().rules_for(JANE, "default") == RulesResult()


UNION_CASES = [
    ("first-allow-wins", [Decision.ALLOW, Decision.DENY], Decision.ALLOW, "a", [1, 0]),
    ("first-deny-wins", [Decision.DENY, Decision.ALLOW], Decision.DENY, "a", [1, 0]),
    (
        "no-opinion-falls-through",
        [Decision.NO_OPINION, Decision.ALLOW],
        Decision.ALLOW,
        "b",
        [1, 1],
    ),
    ("no-opinion-then-deny", [Decision.NO_OPINION, Decision.DENY], Decision.DENY, "b", [1, 1]),
    (
        "nobody-has-an-opinion",
        [Decision.NO_OPINION, Decision.NO_OPINION],
        Decision.NO_OPINION,
        "",
        [1, 1],
    ),
]


@pytest.mark.parametrize(
    ("decisions", "expected", "decider", "calls"),
    [c[1:] for c in UNION_CASES],
    ids=[c[0] for c in UNION_CASES],
)
def test_union(
    decisions: list[Decision], expected: Decision, decider: str, calls: list[int]
) -> None:
    authorizers = [Fixed(name, d) for name, d in zip("ab", decisions, strict=True)]
    result = UnionAuthorizer(authorizers).authorize(GET_PODS)
    assert result.decision is expected
    assert result.authorizer == decider
    assert [a.calls for a in authorizers] == calls


def test_union_joins_reasons_of_no_opinion_with_newlines() -> None:
    union = UnionAuthorizer(
        [
            Fixed("a", Decision.NO_OPINION, "RBAC: x"),
            Fixed("b", Decision.NO_OPINION),
            Fixed("c", Decision.NO_OPINION, "Everything is forbidden."),
        ]
    )
    result = union.authorize(GET_PODS)
    assert result.reason == "RBAC: x\nEverything is forbidden."
    assert result.explanation == ("a: no opinion", "b: no opinion", "c: no opinion")


def test_union_rule_resolver_concatenates() -> None:
    class Resolver:
        def __init__(self, result: RulesResult) -> None:
            self.result = result

        def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
            return self.result

    one = RulesResult((ResourceRule(("get",), ("",), ("pods",)),), (), False, "a")
    two = RulesResult((), (NonResourceRule(("get",), ("/healthz",)),), True, "b")
    merged = UnionRuleResolver([Resolver(one), Resolver(two)]).rules_for(JANE, "default")
    assert merged == RulesResult(one.resource_rules, two.non_resource_rules, True, "[a, b]")


def test_privileged_groups() -> None:
    authorizer = PrivilegedGroupsAuthorizer()
    assert (
        authorizer.authorize(Attributes(MASTER, "delete", resource="nodes")).decision
        is Decision.ALLOW
    )
    assert authorizer.authorize(GET_PODS).decision is Decision.NO_OPINION


# --- --authorization-mode -------------------------------------------------------------------------

MODE_ERRORS = [
    ("empty", [], "at least one authorization-mode must be passed"),
    ("unknown", ["RBAC", "Foo"], 'authorization-mode "Foo" is not a valid mode'),
    ("wrong-case", ["rbac"], 'authorization-mode "rbac" is not a valid mode'),
    (
        "twice",
        ["RBAC", "RBAC"],
        'authorization-mode ["RBAC" "RBAC"] has mode specified more than once',
    ),
    (
        "two-problems",
        ["Foo", "Foo"],
        '[authorization-mode "Foo" is not a valid mode, authorization-mode ["Foo" "Foo"] has mode specified more than once]',
    ),
    (
        "abac-without-file",
        ["RBAC", "ABAC"],
        "authorization-mode ABAC's authorization policy file not passed",
    ),
]


@pytest.mark.parametrize(
    ("modes", "message"), [c[1:] for c in MODE_ERRORS], ids=[c[0] for c in MODE_ERRORS]
)
def test_build_authorizer_refuses_bad_modes(modes: list[str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        build_authorizer(modes)
    assert str(caught.value) == message


def test_node_mode_comes_in_the_order_given_after_system_masters() -> None:
    chain = build_authorizer(["Node", "RBAC"])
    assert [a.name for a in chain.authorizers][1:] == ["Node", "RBAC"]
    assert chain.node is not None


def test_validate_modes_accepts_every_known_mode() -> None:
    modes = ["Node", "RBAC", "ABAC", "Webhook", "AlwaysAllow", "AlwaysDeny"]
    assert validate_modes(modes, "abac.jsonl", "webhook.conf") == []


def test_a_policy_file_needs_abac(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        build_authorizer(["RBAC"], policy_file=tmp_path / "p.jsonl")
    assert str(caught.value) == "cannot specify --authorization-policy-file without mode ABAC"


def test_a_bad_policy_file_refuses_to_build(tmp_path: Path) -> None:
    policy = tmp_path / "p.jsonl"
    policy.write_text('{"user": "a"}\n{"user"\n')
    with pytest.raises(InputError) as caught:
        build_authorizer(["ABAC"], policy_file=policy)
    assert str(caught.value).startswith(f"error reading policy file {policy}, line 2: ")


def test_abac_then_rbac_falls_through_and_resolves_rules(tmp_path: Path) -> None:
    policy = tmp_path / "p.jsonl"
    policy.write_text('{"user": "jane", "readonly": true, "namespace": "dev"}\n')
    chain = build_authorizer(["ABAC", "RBAC"], policy_file=policy)
    read = Attributes(user=JANE, verb="list", namespace="dev", resource="pods")
    write = Attributes(user=JANE, verb="create", namespace="dev", resource="pods")
    assert chain.authorize(read).authorizer == "ABAC"
    assert not chain.authorize(write).allowed
    assert chain.abac is not None
    assert chain.rules_for(JANE, "dev").resource_rules[0].verbs == ("get", "list", "watch")


def test_parse_modes() -> None:
    assert parse_modes("Node,RBAC") == ["Node", "RBAC"]
    assert parse_modes("") == []


CHAIN_CASES = [
    ("always-allow", ["AlwaysAllow"], JANE, Decision.ALLOW, "AlwaysAllow"),
    ("always-deny", ["AlwaysDeny"], JANE, Decision.NO_OPINION, ""),
    (
        "always-deny-still-lets-masters-in",
        ["AlwaysDeny"],
        MASTER,
        Decision.ALLOW,
        "system-privileged-group",
    ),
    ("deny-then-allow", ["AlwaysDeny", "AlwaysAllow"], JANE, Decision.ALLOW, "AlwaysAllow"),
    ("rbac-empty", ["RBAC"], JANE, Decision.NO_OPINION, ""),
    ("rbac-empty-masters", ["RBAC"], MASTER, Decision.ALLOW, "system-privileged-group"),
    ("rbac-then-allow", ["RBAC", "AlwaysAllow"], JANE, Decision.ALLOW, "AlwaysAllow"),
]


@pytest.mark.parametrize(
    ("modes", "user", "expected", "decider"),
    [c[1:] for c in CHAIN_CASES],
    ids=[c[0] for c in CHAIN_CASES],
)
def test_chain_decisions(
    modes: list[str], user: UserInfo, expected: Decision, decider: str
) -> None:
    result = build_authorizer(modes).authorize(
        Attributes(user, "delete", resource="nodes", name="n1")
    )
    assert result.decision is expected
    assert result.authorizer == decider


def test_chain_uses_the_given_index_and_resolves_rules(world: Any) -> None:
    index: RBACIndex = world.index
    world.cluster_role("view", world.rule("get", "pods"))
    world.cluster_role_binding("view", "view", world.user("jane"))
    chain = build_authorizer(["RBAC", "AlwaysDeny"], rbac_index=index)
    assert chain.rbac is not None and chain.rbac.index is index
    assert chain.authorize(GET_PODS).decision is Decision.ALLOW
    denied = chain.authorize(Attributes(JANE, "delete", namespace="default", resource="pods"))
    assert denied.decision is Decision.NO_OPINION
    assert denied.reason == "Everything is forbidden."
    assert any(line.startswith("RBAC: no rule allows") for line in denied.explanation)
    assert chain.rules_for(JANE, "default").resource_rules == (
        ResourceRule(("get",), ("",), ("pods",)),
    )


def test_chain_without_rbac_has_no_index() -> None:
    assert build_authorizer(["AlwaysAllow"]).rbac is None
    assert build_authorizer(["RBAC"]).rbac is not None
