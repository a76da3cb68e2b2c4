"""Escalation prevention: Covers, ConfirmNoEscalation's message, and the escalate/bind checks."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.authz.modes import build_authorizer
from kubeward.authz.rbac.escalation import (
    check_binding_write,
    check_role_write,
    compact_rules,
    confirm_no_escalation,
    covers,
    is_only_mutating_gc_fields,
)
from kubeward.authz.rbac.rules import PolicyRule
from kubeward.errors import Forbidden, NotFound

JANE = UserInfo("jane", groups=("system:authenticated",))


def r(
    verbs: str,
    resources: str = "",
    groups: tuple[str, ...] = ("",),
    names: str = "",
    urls: str = "",
) -> PolicyRule:
    return PolicyRule(
        tuple(verbs.split()),
        groups if resources else (),
        tuple(resources.split()),
        tuple(names.split()),
        tuple(urls.split()),
    )


COVERS_CASES = [
    ("exact", [r("get list", "pods")], [r("get", "pods")], True),
    ("verb missing", [r("get", "pods")], [r("get delete", "pods")], False),
    ("verb star", [r("*", "pods")], [r("escalate bind", "pods")], True),
    ("group star", [r("get", "pods", groups=("*",))], [r("get", "pods", groups=("apps",))], True),
    ("resource star", [r("get", "*")], [r("get", "pods/log")], True),
    (
        "star-slash-subresource",
        [r("get", "*/scale", groups=("*",))],
        [r("get", "deployments/scale", groups=("apps",))],
        True,
    ),
    ("resource does not cover subresource", [r("get", "pods")], [r("get", "pods/log")], False),
    ("names restrict owner", [r("get", "secrets", names="a")], [r("get", "secrets")], False),
    (
        "owner without names covers named",
        [r("get", "secrets")],
        [r("get", "secrets", names="a b")],
        True,
    ),
    (
        "named covers same names",
        [r("get", "secrets", names="a b")],
        [r("get", "secrets", names="b")],
        True,
    ),
    ("url prefix", [r("get", urls="/logs/*")], [r("get", urls="/logs/x")], True),
    ("url exact only", [r("get", urls="/logs")], [r("get", urls="/logs/x")], False),
    ("url star", [r("*", urls="*")], [r("get", urls="/metrics")], True),
]


@pytest.mark.parametrize(
    ("owner", "servant", "expected"),
    [c[1:] for c in COVERS_CASES],
    ids=[c[0] for c in COVERS_CASES],
)
def test_covers(owner: list[PolicyRule], servant: list[PolicyRule], expected: bool) -> None:
    assert covers(owner, servant)[0] is expected


def test_covers_reports_broken_down_rules() -> None:
    _, missing = covers([r("get", "pods")], [r("get list", "pods secrets")])
    assert missing == [r("list", "pods"), r("get", "secrets"), r("list", "secrets")]


def test_compact_rules_merges_verbs_of_one_resource() -> None:
    compacted = compact_rules(
        [
            r("get", "secrets"),
            r("list", "secrets"),
            r("get", "pods", names="a"),
            r("get", urls="/x"),
        ]
    )
    assert sorted(c.compact_string() for c in compacted) == [
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
        '{NonResourceURLs:["/x"], Verbs:["get"]}',
    ]


def test_refusal_message_reads_as_kubernetes_writes_it(world: Any) -> None:
    world.cluster_role("pods", world.rule("get list", "pods"))
    world.cluster_role_binding("pods", "pods", world.user("jane"))
    check = confirm_no_escalation(
        world.rbac,
        JANE,
        "default",
        [r("get list", "pods secrets"), r("get", "configmaps", names="x")],
    )
    assert not check.allowed
    assert check.message == (
        'user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not'
        " currently held:\n"
        '{APIGroups:[""], Resources:["configmaps"], ResourceNames:["x"], Verbs:["get"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}'
    )


def test_refusal_message_adds_resolution_errors(world: Any) -> None:
    world.cluster_role_binding("gone", "missing", world.user("jane"))
    check = confirm_no_escalation(world.rbac, JANE, "", [r("get", "pods")])
    assert check.message.endswith(
        '; resolution errors: [clusterrole.rbac.authorization.k8s.io "missing" not found]'
    )


def test_namespace_of_the_check(world: Any) -> None:
    world.cluster_role("edit", world.rule("*", "secrets"))
    world.role_binding("dev", "edit", "ClusterRole", "edit", world.user("jane"))
    assert confirm_no_escalation(world.rbac, JANE, "dev", [r("get", "secrets")]).allowed
    assert not confirm_no_escalation(world.rbac, JANE, "prod", [r("get", "secrets")]).allowed
    assert not confirm_no_escalation(world.rbac, JANE, "", [r("get", "secrets")]).allowed


# --- the registry's checks (the Done-means scenario of issue 4) ----------------------------------


def role_obj(name: str, *rules: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": list(rules),
    }


def setup_role_writer(world: Any, *extra_verbs: str) -> Any:
    world.cluster_role(
        "role-writer",
        world.rule(
            " ".join(("create", "update", *extra_verbs)),
            "roles rolebindings",
            groups=("rbac.authorization.k8s.io",),
        ),
    )
    world.role_binding("default", "writer", "ClusterRole", "role-writer", world.user("jane"))
    return build_authorizer(["RBAC"], rbac_index=world.index)


def test_creating_a_role_granting_secrets_is_refused_without_escalate(world: Any) -> None:
    chain = setup_role_writer(world)
    new = role_obj("secrets", world.rule("get", "secrets"))
    error = check_role_write(
        authorizer=chain, rbac=world.rbac, user=JANE, resource="roles", namespace="default", new=new
    )
    assert isinstance(error, Forbidden)
    assert error.message == (
        'roles.rbac.authorization.k8s.io "secrets" is forbidden: user "jane"'
        ' (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently'
        ' held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}'
    )
    assert error.to_status()["details"] == {
        "name": "secrets",
        "group": "rbac.authorization.k8s.io",
        "kind": "roles",
    }


def test_escalate_verb_allows_it(world: Any) -> None:
    chain = setup_role_writer(world, "escalate")
    new = role_obj("secrets", world.rule("get", "secrets"))
    assert (
        check_role_write(
            authorizer=chain,
            rbac=world.rbac,
            user=JANE,
            resource="roles",
            namespace="default",
            new=new,
        )
        is None
    )


def test_holding_the_permissions_allows_it(world: Any) -> None:
    chain = setup_role_writer(world)
    world.role("default", "secret-reader", world.rule("get list", "secrets"))
    world.role_binding("default", "secrets", "Role", "secret-reader", world.user("jane"))
    new = role_obj("secrets", world.rule("get", "secrets"))
    assert (
        check_role_write(
            authorizer=chain,
            rbac=world.rbac,
            user=JANE,
            resource="roles",
            namespace="default",
            new=new,
        )
        is None
    )


def test_system_masters_may_grant_anything(world: Any) -> None:
    chain = build_authorizer(["RBAC"], rbac_index=world.index)
    root = UserInfo("root", groups=("system:masters",))
    new = role_obj("all", world.rule("*", "*", groups=("*",)))
    assert (
        check_role_write(
            authorizer=chain,
            rbac=world.rbac,
            user=root,
            resource="roles",
            namespace="default",
            new=new,
        )
        is None
    )


def test_gc_only_update_is_not_checked(world: Any) -> None:
    chain = setup_role_writer(world)
    old = role_obj("secrets", world.rule("get", "secrets"))
    new = {
        **old,
        "metadata": {**old["metadata"], "finalizers": ["x"], "ownerReferences": [{"uid": "1"}]},
    }
    assert is_only_mutating_gc_fields(new, old)
    assert (
        check_role_write(
            authorizer=chain,
            rbac=world.rbac,
            user=JANE,
            resource="roles",
            namespace="default",
            new=new,
            old=old,
        )
        is None
    )
    changed = {**new, "rules": [world.rule("list", "secrets")]}
    assert not is_only_mutating_gc_fields(changed, old)


def test_aggregation_rule_needs_full_authority(world: Any) -> None:
    world.cluster_role(
        "cr-writer",
        world.rule("create update", "clusterroles", groups=("rbac.authorization.k8s.io",)),
    )
    world.cluster_role_binding("cr-writer", "cr-writer", world.user("jane"))
    chain = build_authorizer(["RBAC"], rbac_index=world.index)
    new = {
        "kind": "ClusterRole",
        "metadata": {"name": "agg"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
        "rules": [],
    }
    error = check_role_write(
        authorizer=chain, rbac=world.rbac, user=JANE, resource="clusterroles", namespace="", new=new
    )
    assert isinstance(error, Forbidden)
    assert error.message == (
        'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin'
        " privileges to use the aggregationRule"
    )
    # Removing the aggregationRule of a stored aggregated role is checked as well.
    plain = {"kind": "ClusterRole", "metadata": {"name": "agg"}, "rules": []}
    assert isinstance(
        check_role_write(
            authorizer=chain,
            rbac=world.rbac,
            user=JANE,
            resource="clusterroles",
            namespace="",
            new=plain,
            old=new,
        ),
        Forbidden,
    )


def binding_obj(name: str, role_kind: str, role: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}],
    }


def test_binding_a_role_with_permissions_not_held_is_refused_without_bind(world: Any) -> None:
    chain = setup_role_writer(world)
    world.cluster_role("secret-admin", world.rule("*", "secrets"))
    error = check_binding_write(
        authorizer=chain,
        rbac=world.rbac,
        user=JANE,
        resource="rolebindings",
        namespace="default",
        new=binding_obj("b", "ClusterRole", "secret-admin"),
    )
    assert isinstance(error, Forbidden)
    assert error.message.startswith(
        'rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "jane"'
    )
    assert error.message.endswith('{APIGroups:[""], Resources:["secrets"], Verbs:["*"]}')


def test_bind_verb_allows_it_in_its_namespace_only(world: Any) -> None:
    chain = setup_role_writer(world)
    world.cluster_role("secret-admin", world.rule("*", "secrets"))
    world.cluster_role(
        "binder",
        world.rule(
            "bind", "clusterroles", groups=("rbac.authorization.k8s.io",), names="secret-admin"
        ),
    )
    world.role_binding("default", "binder", "ClusterRole", "binder", world.user("jane"))
    kw = {"authorizer": chain, "rbac": world.rbac, "user": JANE, "resource": "rolebindings"}
    assert (
        check_binding_write(
            **kw, namespace="default", new=binding_obj("b", "ClusterRole", "secret-admin")
        )
        is None
    )
    other = binding_obj("b", "ClusterRole", "secret-admin", namespace="prod")
    assert isinstance(check_binding_write(**kw, namespace="prod", new=other), Forbidden)


def test_binding_a_missing_role_is_not_found(world: Any) -> None:
    chain = setup_role_writer(world)
    error = check_binding_write(
        authorizer=chain,
        rbac=world.rbac,
        user=JANE,
        resource="rolebindings",
        namespace="default",
        new=binding_obj("b", "ClusterRole", "nope"),
    )
    assert isinstance(error, NotFound)
    assert error.message == 'clusterroles.rbac.authorization.k8s.io "nope" not found'


def test_binding_a_role_whose_permissions_are_held(world: Any) -> None:
    chain = setup_role_writer(world)
    world.role("default", "pod-reader", world.rule("get", "pods"))
    world.cluster_role("reader", world.rule("get list", "pods"))
    world.cluster_role_binding("reader", "reader", world.user("jane"))
    assert (
        check_binding_write(
            authorizer=chain,
            rbac=world.rbac,
            user=JANE,
            resource="rolebindings",
            namespace="default",
            new=binding_obj("b", "Role", "pod-reader"),
        )
        is None
    )
