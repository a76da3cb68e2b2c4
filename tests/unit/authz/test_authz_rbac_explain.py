"""Explained decisions: the trail of an allowed request and the near misses of a refused one."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.user import UserInfo, service_account_groups, service_account_username
from kubeward.authz.interfaces import Attributes, Decision

JANE = UserInfo("jane", groups=("dev", "system:authenticated"))


def trail(world: Any, attributes: Attributes) -> str:
    result = world.rbac.authorize(attributes)
    assert result.decision is Decision.NO_OPINION
    return "\n".join(result.explanation)


def test_allowed_trail_names_binding_role_and_rule(world: Any) -> None:
    world.role("default", "dev", world.rule("get list", "pods"))
    world.role_binding("default", "devs", "Role", "dev", world.group("dev"))
    result = world.rbac.authorize(Attributes(JANE, "list", namespace="default", resource="pods"))
    assert result.explanation == (
        'allowed by RoleBinding "devs/default" of Role "dev" to Group "dev"',
        'through rule {APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]} of Role "dev"'
        ' in namespace "default"',
    )


NEAR_MISS_CASES = [
    (
        "verb",
        [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
        Attributes(JANE, "delete", namespace="default", resource="pods", name="web"),
        'allows verbs ["get" "list"], not "delete"',
    ),
    (
        "resource-names-without-name",
        [
            {
                "verbs": ["list"],
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": ["app"],
            }
        ],
        Attributes(JANE, "list", namespace="default", resource="configmaps"),
        "a request without a name (list, watch, create, deletecollection) never matches resourceNames",
    ),
    (
        "resource-names-other-name",
        [
            {
                "verbs": ["get"],
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": ["app"],
            }
        ],
        Attributes(JANE, "get", namespace="default", resource="configmaps", name="db"),
        'allows it only for resourceNames ["app"], not "db"',
    ),
    (
        "api-group",
        [{"verbs": ["get"], "apiGroups": ["extensions"], "resources": ["deployments"]}],
        Attributes(JANE, "get", namespace="default", api_group="apps", resource="deployments"),
        'allows it in API groups ["extensions"], not "apps"',
    ),
    (
        "subresource",
        [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
        Attributes(
            JANE, "get", namespace="default", resource="pods", subresource="log", name="web"
        ),
        'covers "pods" but not its subresource "pods/log"',
    ),
    (
        "resource-slash-star",
        [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]}],
        Attributes(
            JANE, "get", namespace="default", resource="pods", subresource="log", name="web"
        ),
        'names "pods/*", which Kubernetes does not expand',
    ),
]


@pytest.mark.parametrize(
    ("rules", "attributes", "expected"),
    [c[1:] for c in NEAR_MISS_CASES],
    ids=[c[0] for c in NEAR_MISS_CASES],
)
def test_rule_near_misses(
    world: Any, rules: list[dict[str, Any]], attributes: Attributes, expected: str
) -> None:
    world.role("default", "r", *rules)
    world.role_binding("default", "b", "Role", "r", world.user("jane"))
    text = trail(world, attributes)
    assert "near miss: rule " in text
    assert expected in text
    assert 'bound by RoleBinding "b" in namespace "default"' in text


def test_binding_in_another_namespace(world: Any) -> None:
    world.cluster_role("edit", world.rule("create", "pods"))
    world.role_binding("staging", "edit", "ClusterRole", "edit", world.user("jane"))
    text = trail(world, Attributes(JANE, "create", namespace="prod", resource="pods"))
    assert (
        'near miss: RoleBinding "edit" in namespace "staging" grants this through ClusterRole "edit",'
        " but a RoleBinding grants only inside its own namespace and the request is in namespace"
        ' "prod"'
    ) in text


def test_binding_in_a_namespace_for_a_cluster_wide_request(world: Any) -> None:
    world.cluster_role("nodes", world.rule("list", "nodes"))
    world.role_binding("default", "nodes", "ClusterRole", "nodes", world.user("jane"))
    text = trail(world, Attributes(JANE, "list", resource="nodes"))
    assert "the request is cluster-wide" in text


def test_role_ref_to_a_missing_role_with_a_hint(world: Any) -> None:
    world.cluster_role("view", world.rule("get", "pods"))
    world.role_binding("default", "viewers", "Role", "view", world.user("jane"))
    result = world.rbac.authorize(Attributes(JANE, "get", namespace="default", resource="pods"))
    text = "\n".join(result.explanation)
    assert (
        'RoleBinding "viewers" in namespace "default" refers to Role "view", which does not exist'
        in text
    )
    assert 'a ClusterRole "view" exists; roleRef.kind would have to be ClusterRole' in text
    assert result.reason == 'RBAC: role.rbac.authorization.k8s.io "view" not found'


def test_service_account_subject_without_namespace(world: Any) -> None:
    world.cluster_role("reader", world.rule("get", "pods"))
    world.cluster_role_binding("ci-read", "reader", world.sa("builder"))
    user = UserInfo(service_account_username("ci", "builder"), groups=service_account_groups("ci"))
    text = trail(world, Attributes(user, "get", namespace="ci", resource="pods"))
    assert (
        'ClusterRoleBinding "ci-read" names ServiceAccount "builder" without a namespace, so it'
        " applies to no one"
    ) in text
    assert '("ci" for this one)' in text


def test_nothing_names_the_user(world: Any) -> None:
    text = trail(world, Attributes(UserInfo("bob"), "get", namespace="default", resource="pods"))
    assert text.splitlines() == [
        'RBAC: no rule allows User "bob" (groups []) to "get" on resource "pods" in API group "" in'
        ' namespace "default"',
        'no ClusterRoleBinding, and no RoleBinding in namespace "default", names User "bob" (groups [])',
    ]


def test_checked_bindings_without_near_miss(world: Any) -> None:
    world.role("default", "r", world.rule("get", "secrets"))
    world.role_binding("default", "b", "Role", "r", world.user("jane"))
    text = trail(
        world,
        Attributes(JANE, "delete", namespace="default", api_group="apps", resource="deployments"),
    )
    assert 'checked 0 ClusterRoleBindings and 1 RoleBinding in namespace "default"' in text
    assert "no near miss" in text


def test_near_misses_are_capped(world: Any) -> None:
    world.role("default", "r", *[world.rule("get", f"pods{i} pods") for i in range(20)])
    world.role_binding("default", "b", "Role", "r", world.user("jane"))
    lines = trail(
        world, Attributes(JANE, "delete", namespace="default", resource="pods")
    ).splitlines()
    assert sum(line.startswith("near miss:") for line in lines) == 12
    assert lines[-1] == "... and 8 more near misses"


def test_other_namespaces_examined_are_capped(world: Any) -> None:
    world.cluster_role("view", world.rule("get", "secrets"))
    for i in range(300):
        world.role_binding(f"ns-{i}", "view", "ClusterRole", "view", world.group("dev"))
    text = trail(world, Attributes(JANE, "get", namespace="default", resource="pods"))
    assert "only the first 256 RoleBindings of other namespaces" in text


def test_denials_without_explanation_keep_kubernetes_reason(world: Any) -> None:
    from kubeward.authz.rbac.authorizer import RBACAuthorizer

    quiet = RBACAuthorizer(world.index, explain_denials=False)
    world.role_binding("default", "b", "Role", "missing", world.user("jane"))
    result = quiet.authorize(Attributes(JANE, "get", namespace="default", resource="pods"))
    assert result.decision is Decision.NO_OPINION
    assert result.reason == 'RBAC: role.rbac.authorization.k8s.io "missing" not found'
    assert len(result.explanation) == 1
    world.role("default", "missing", world.rule("get", "pods"))
    allowed = quiet.authorize(Attributes(JANE, "get", namespace="default", resource="pods"))
    assert (
        allowed.explanation[0]
        == 'allowed by RoleBinding "b/default" of Role "missing" to User "jane"'
    )
