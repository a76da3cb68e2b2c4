"""who-can: every subject allowed, through which binding and role."""

from __future__ import annotations

from typing import Any

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes
from kubeward.authz.rbac.whocan import who_can

NOBODY = UserInfo("")


def rows(world: Any, attributes: Attributes) -> list[tuple[str, ...]]:
    return [
        (
            g.subject_kind,
            g.subject_name,
            g.subject_namespace,
            g.binding_kind,
            g.binding_name,
            g.role_name,
        )
        for g in who_can(world.index, attributes)
    ]


def test_who_can_list_pods_in_a_namespace(world: Any) -> None:
    world.cluster_role("view", world.rule("get list", "pods"))
    world.cluster_role("nodes", world.rule("list", "nodes"))
    world.role("dev", "pod-lister", world.rule("list", "pods"))
    world.role("prod", "pod-lister", world.rule("list", "pods"))
    world.cluster_role_binding("viewers", "view", world.group("auditors"))
    world.role_binding("dev", "view", "ClusterRole", "view", world.user("jane"), world.sa("ci"))
    world.role_binding("prod", "view", "ClusterRole", "view", world.user("mallory"))
    world.role_binding("dev", "listers", "Role", "pod-lister", world.sa("builder", "ci"))
    world.cluster_role_binding("broken", "view", world.sa("nonamespace"))
    world.cluster_role_binding("nodes", "nodes", world.user("ops"))
    assert rows(world, Attributes(NOBODY, "list", namespace="dev", resource="pods")) == [
        ("Group", "system:masters", "", "", "", ""),
        ("Group", "auditors", "", "ClusterRoleBinding", "viewers", "view"),
        ("User", "jane", "", "RoleBinding", "view", "view"),
        ("ServiceAccount", "builder", "ci", "RoleBinding", "listers", "pod-lister"),
        ("ServiceAccount", "ci", "dev", "RoleBinding", "view", "view"),
    ]


def test_cluster_wide_only_through_cluster_role_bindings(world: Any) -> None:
    world.cluster_role("view", world.rule("list", "pods"))
    world.role_binding("dev", "view", "ClusterRole", "view", world.user("jane"))
    world.cluster_role_binding("all", "view", world.user("ops"))
    assert [r[1] for r in rows(world, Attributes(NOBODY, "list", resource="pods"))] == [
        "system:masters",
        "ops",
    ]


def test_grant_json() -> None:
    from kubeward.authz.rbac.whocan import Grant

    grant = Grant(
        "ServiceAccount", "ci", "dev", "RoleBinding", "view", "dev", "ClusterRole", "view"
    )
    assert grant.to_dict() == {
        "subject": {"kind": "ServiceAccount", "name": "ci", "namespace": "dev"},
        "binding": {"kind": "RoleBinding", "name": "view", "namespace": "dev"},
        "role": {"kind": "ClusterRole", "name": "view"},
    }
    assert Grant("Group", "system:masters", always_allowed=True).to_dict() == {
        "subject": {"kind": "Group", "name": "system:masters"},
        "alwaysAllowed": True,
    }
