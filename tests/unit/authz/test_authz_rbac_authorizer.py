"""The RBAC authorizer over its index: Kubernetes' semantics, table-driven from its documentation."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.user import UserInfo, service_account_groups, service_account_username
from kubeward.authz.interfaces import Attributes, Decision

AUTHENTICATED = "system:authenticated"


def jane(*groups: str) -> UserInfo:
    return UserInfo("jane", groups=(*groups, AUTHENTICATED))


def sa_user(namespace: str, name: str) -> UserInfo:
    return UserInfo(
        service_account_username(namespace, name),
        groups=(*service_account_groups(namespace), AUTHENTICATED),
    )


def pods(user: UserInfo, verb: str = "get", namespace: str = "default", **kw: Any) -> Attributes:
    return Attributes(user, verb, namespace=namespace, resource="pods", **kw)


def decide(world: Any, attributes: Attributes) -> Decision:
    return world.rbac.authorize(attributes).decision


# --- RoleBindings, ClusterRoleBindings and namespaces (docs: "RoleBinding and ClusterRoleBinding") --


def test_role_binding_grants_its_role_in_its_namespace(world: Any) -> None:
    world.role("default", "pod-reader", world.rule("get watch list", "pods"))
    world.role_binding("default", "read-pods", "Role", "pod-reader", world.user("jane"))
    assert decide(world, pods(jane())) is Decision.ALLOW
    assert decide(world, pods(jane(), namespace="other")) is Decision.NO_OPINION
    assert decide(world, pods(jane(), namespace="")) is Decision.NO_OPINION


CLUSTER_ROLE_CASES = [
    ("rolebinding-in-its-namespace", "RoleBinding", "development", Decision.ALLOW),
    ("rolebinding-other-namespace", "RoleBinding", "default", Decision.NO_OPINION),
    ("rolebinding-not-cluster-wide", "RoleBinding", "", Decision.NO_OPINION),
    ("clusterrolebinding-any-namespace", "ClusterRoleBinding", "default", Decision.ALLOW),
    ("clusterrolebinding-cluster-wide", "ClusterRoleBinding", "", Decision.ALLOW),
]


@pytest.mark.parametrize(
    ("kind", "namespace", "expected"),
    [c[1:] for c in CLUSTER_ROLE_CASES],
    ids=[c[0] for c in CLUSTER_ROLE_CASES],
)
def test_cluster_role_bound_by_role_binding_grants_only_in_that_namespace(
    world: Any, kind: str, namespace: str, expected: Decision
) -> None:
    # Docs: "a RoleBinding can also reference a ClusterRole to grant the permissions defined
    # in that ClusterRole to resources inside the RoleBinding's namespace."
    world.cluster_role("secret-reader", world.rule("get watch list", "secrets"))
    if kind == "RoleBinding":
        world.role_binding(
            "development", "read-secrets", "ClusterRole", "secret-reader", world.user("dave")
        )
    else:
        world.cluster_role_binding("read-secrets-global", "secret-reader", world.user("dave"))
    attributes = Attributes(UserInfo("dave"), "list", namespace=namespace, resource="secrets")
    assert decide(world, attributes) is expected


def test_cluster_scoped_resource_needs_a_cluster_role_binding(world: Any) -> None:
    world.cluster_role("node-reader", world.rule("get list", "nodes"))
    world.role_binding("default", "nodes", "ClusterRole", "node-reader", world.user("jane"))
    nodes = Attributes(jane(), "list", resource="nodes")
    assert decide(world, nodes) is Decision.NO_OPINION
    world.cluster_role_binding("nodes", "node-reader", world.user("jane"))
    assert decide(world, nodes) is Decision.ALLOW


# --- subjects (docs: "Referring to subjects") -----------------------------------------------------

SUBJECT_CASES = [
    ("user", lambda w: w.user("jane"), jane(), Decision.ALLOW),
    ("other-user", lambda w: w.user("bob"), jane(), Decision.NO_OPINION),
    ("group", lambda w: w.group("dev"), jane("dev"), Decision.ALLOW),
    ("group-not-member", lambda w: w.group("dev"), jane(), Decision.NO_OPINION),
    ("all-authenticated", lambda w: w.group(AUTHENTICATED), jane(), Decision.ALLOW),
    (
        "all-unauthenticated",
        lambda w: w.group("system:unauthenticated"),
        UserInfo("system:anonymous", groups=("system:unauthenticated",)),
        Decision.ALLOW,
    ),
    (
        "anonymous-is-not-authenticated",
        lambda w: w.group(AUTHENTICATED),
        UserInfo("system:anonymous", groups=("system:unauthenticated",)),
        Decision.NO_OPINION,
    ),
    ("service-account", lambda w: w.sa("builder", "ci"), sa_user("ci", "builder"), Decision.ALLOW),
    (
        "service-account-other-namespace",
        lambda w: w.sa("builder", "ci"),
        sa_user("prod", "builder"),
        Decision.NO_OPINION,
    ),
    (
        "service-account-defaults-to-binding-namespace",
        lambda w: w.sa("builder"),
        sa_user("default", "builder"),
        Decision.ALLOW,
    ),
    (
        "service-account-user-subject",
        lambda w: w.user("system:serviceaccount:ci:builder"),
        sa_user("ci", "builder"),
        Decision.ALLOW,
    ),
    (
        "all-service-accounts-of-a-namespace",
        lambda w: w.group("system:serviceaccounts:ci"),
        sa_user("ci", "x"),
        Decision.ALLOW,
    ),
    (
        "service-accounts-of-another-namespace",
        lambda w: w.group("system:serviceaccounts:ci"),
        sa_user("qa", "x"),
        Decision.NO_OPINION,
    ),
    (
        "all-service-accounts",
        lambda w: w.group("system:serviceaccounts"),
        sa_user("qa", "x"),
        Decision.ALLOW,
    ),
    (
        "unknown-subject-kind",
        lambda w: {"kind": "Robot", "name": "jane"},
        jane(),
        Decision.NO_OPINION,
    ),
]


@pytest.mark.parametrize(
    ("subject", "user", "expected"),
    [c[1:] for c in SUBJECT_CASES],
    ids=[c[0] for c in SUBJECT_CASES],
)
def test_subjects_of_a_role_binding(
    world: Any, subject: Any, user: UserInfo, expected: Decision
) -> None:
    world.role("default", "pod-reader", world.rule("get", "pods"))
    world.role_binding("default", "b", "Role", "pod-reader", subject(world))
    assert decide(world, pods(user)) is expected


def test_cluster_role_binding_service_account_needs_a_namespace(world: Any) -> None:
    world.cluster_role("pod-reader", world.rule("get", "pods"))
    world.cluster_role_binding("b", "pod-reader", world.sa("builder"))
    assert decide(world, pods(sa_user("default", "builder"))) is Decision.NO_OPINION
    world.cluster_role_binding("b", "pod-reader", world.sa("builder", "default"))
    assert decide(world, pods(sa_user("default", "builder"))) is Decision.ALLOW


def test_system_masters_gets_no_special_case_inside_rbac(world: Any) -> None:
    # Kubernetes allows system:masters in a separate authorizer and via the cluster-admin binding.
    admin = UserInfo("root", groups=("system:masters",))
    assert decide(world, pods(admin)) is Decision.NO_OPINION
    world.cluster_role(
        "cluster-admin", world.rule("*", "*", groups=("*",)), world.rule("*", urls="*")
    )
    world.cluster_role_binding("cluster-admin", "cluster-admin", world.group("system:masters"))
    assert decide(world, pods(admin, verb="delete")) is Decision.ALLOW


# --- reasons, as Kubernetes words them -------------------------------------------------------------


def test_allow_reason_names_binding_role_and_subject(world: Any) -> None:
    world.cluster_role("view", world.rule("get", "pods"))
    world.role_binding(
        "default", "viewers", "ClusterRole", "view", world.group("dev"), world.user("jane")
    )
    world.cluster_role_binding("sa-view", "view", world.sa("builder", "ci"))
    result = world.rbac.authorize(pods(jane("dev")))
    assert (
        result.reason
        == 'RBAC: allowed by RoleBinding "viewers/default" of ClusterRole "view" to Group "dev"'
    )
    assert result.authorizer == "RBAC"
    result = world.rbac.authorize(pods(sa_user("ci", "builder")))
    assert result.reason == (
        'RBAC: allowed by ClusterRoleBinding "sa-view" of ClusterRole "view" to ServiceAccount "builder/ci"'
    )


def test_denial_reason_is_empty_without_errors(world: Any) -> None:
    assert world.rbac.authorize(pods(jane())).reason == ""


def test_denial_reason_reports_missing_roles_as_kubernetes_does(world: Any) -> None:
    world.role_binding("default", "dev", "Role", "developer", world.user("jane"))
    world.cluster_role_binding("gone", "missing", world.user("jane"))
    result = world.rbac.authorize(pods(jane()))
    assert result.decision is Decision.NO_OPINION
    assert result.reason == (
        'RBAC: [clusterrole.rbac.authorization.k8s.io "missing" not found,'
        ' role.rbac.authorization.k8s.io "developer" not found]'
    )


def test_a_missing_role_does_not_hide_other_grants(world: Any) -> None:
    world.cluster_role_binding("gone", "missing", world.user("jane"))
    world.cluster_role("view", world.rule("get", "pods"))
    world.cluster_role_binding("view", "view", world.user("jane"))
    assert decide(world, pods(jane())) is Decision.ALLOW


# --- the index kept current by watch events --------------------------------------------------------


def test_role_created_after_its_binding_starts_to_grant(world: Any) -> None:
    world.role_binding("default", "dev", "Role", "developer", world.user("jane"))
    assert decide(world, pods(jane())) is Decision.NO_OPINION
    world.role("default", "developer", world.rule("get", "pods"))
    assert decide(world, pods(jane())) is Decision.ALLOW


def test_modified_binding_moves_between_subjects(world: Any) -> None:
    world.role("default", "r", world.rule("get", "pods"))
    binding = world.role_binding("default", "b", "Role", "r", world.user("jane"))
    binding = {**binding, "subjects": [world.user("bob")]}
    world.index.apply("MODIFIED", binding)
    assert decide(world, pods(jane())) is Decision.NO_OPINION
    assert decide(world, pods(UserInfo("bob"))) is Decision.ALLOW


def test_deleted_objects_stop_granting(world: Any) -> None:
    role = world.role("default", "r", world.rule("get", "pods"))
    binding = world.role_binding("default", "b", "Role", "r", world.user("jane"))
    world.index.apply("DELETED", binding)
    assert decide(world, pods(jane())) is Decision.NO_OPINION
    world.index.apply("ADDED", binding)
    world.index.apply("DELETED", role)
    assert decide(world, pods(jane())) is Decision.NO_OPINION


def test_modified_role_changes_rules(world: Any) -> None:
    role = world.role("default", "r", world.rule("get", "pods"))
    world.role_binding("default", "b", "Role", "r", world.user("jane"))
    world.index.apply("MODIFIED", {**role, "rules": [world.rule("list", "pods")]})
    assert decide(world, pods(jane())) is Decision.NO_OPINION
    assert decide(world, pods(jane(), verb="list")) is Decision.ALLOW


@pytest.mark.parametrize(
    ("event", "obj"),
    [
        ("ADDED", {"kind": "Pod", "metadata": {"name": "x"}}),
        ("RESYNC", {"kind": "Role", "metadata": {"name": "x"}}),
    ],
    ids=["not-rbac-kind", "unknown-event"],
)
def test_index_refuses_what_it_cannot_apply(world: Any, event: str, obj: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        world.index.apply(event, obj)


def test_index_takes_kind_from_argument_and_ignores_bookmarks(world: Any) -> None:
    world.index.apply("BOOKMARK", {})
    world.index.apply(
        "ADDED",
        {"metadata": {"name": "r", "namespace": "default"}, "rules": [world.rule("get", "pods")]},
        kind="Role",
    )
    assert world.index.role("default", "r") is not None


def test_malformed_objects_do_not_break_the_index(world: Any) -> None:
    world.index.apply(
        "ADDED",
        {
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "x"},
            "subjects": None,
            "roleRef": None,
        },
    )
    world.index.apply(
        "ADDED", {"kind": "ClusterRole", "metadata": {"name": "y"}, "rules": [None, "junk"]}
    )
    assert decide(world, pods(jane())) is Decision.NO_OPINION


def test_decision_visits_only_the_requesters_bindings(world: Any) -> None:
    world.cluster_role("view", world.rule("get", "pods"))
    for i in range(200):
        world.role_binding("default", f"b{i}", "ClusterRole", "view", world.user(f"user-{i}"))
    world.role_binding("default", "mine", "ClusterRole", "view", world.user("jane"))
    keys = (("User", "jane"), ("Group", AUTHENTICATED))
    assert [b.name for b in world.index.namespace_bindings_for("default", keys)] == ["mine"]


# --- rules_for (SelfSubjectRulesReview) -----------------------------------------------------------


def test_rules_for_lists_cluster_and_namespace_rules(world: Any) -> None:
    world.cluster_role(
        "basic",
        world.rule("create", "selfsubjectaccessreviews", groups=("authorization.k8s.io",)),
        world.rule("get", urls="/healthz"),
    )
    world.cluster_role_binding("basic", "basic", world.group(AUTHENTICATED))
    world.role("default", "dev", world.rule("get list", "pods", names="web"))
    world.role_binding("default", "dev", "Role", "dev", world.user("jane"))
    world.role_binding("default", "broken", "Role", "missing", world.user("jane"))
    result = world.rbac.rules_for(jane(), "default")
    assert [(r.verbs, r.resources, r.resource_names) for r in result.resource_rules] == [
        (("create",), ("selfsubjectaccessreviews",), ()),
        (("get", "list"), ("pods",), ("web",)),
    ]
    assert [(r.verbs, r.non_resource_urls) for r in result.non_resource_rules] == [
        (("get",), ("/healthz",))
    ]
    assert result.evaluation_error == 'role.rbac.authorization.k8s.io "missing" not found'
    assert result.incomplete is False
    assert len(world.rbac.rules_for(jane(), "other").resource_rules) == 1


def test_replace_forgets_what_the_new_list_lacks(world: Any) -> None:
    role = world.role("default", "r", world.rule("get", "pods"))
    binding = world.role_binding("default", "b", "Role", "r", world.user("jane"))
    assert decide(world, pods(jane())) is Decision.ALLOW
    world.index.replace([role])
    assert decide(world, pods(jane())) is Decision.NO_OPINION
    world.index.replace([role, binding])
    assert decide(world, pods(jane())) is Decision.ALLOW
