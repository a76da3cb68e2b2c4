"""Builders for RBAC objects, shared by the authz tests through the ``world`` fixture."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex

RBAC = "rbac.authorization.k8s.io"


class World:
    """An index and its authorizer, with one-line builders for roles and bindings."""

    def __init__(self) -> None:
        self.index = RBACIndex()
        self.rbac = RBACAuthorizer(self.index)

    @staticmethod
    def rule(
        verbs: str,
        resources: str = "",
        groups: tuple[str, ...] = ("",),
        names: str = "",
        urls: str = "",
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"verbs": verbs.split()}
        if resources:
            out["apiGroups"] = list(groups)
            out["resources"] = resources.split()
        if names:
            out["resourceNames"] = names.split()
        if urls:
            out["nonResourceURLs"] = urls.split()
        return out

    def role(self, namespace: str, name: str, *rules: dict[str, Any]) -> dict[str, Any]:
        obj = {
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": list(rules),
        }
        self.index.apply("ADDED", obj)
        return obj

    def cluster_role(
        self, name: str, *rules: dict[str, Any], labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if labels:
            meta["labels"] = labels
        obj = {"kind": "ClusterRole", "metadata": meta, "rules": list(rules)}
        self.index.apply("ADDED", obj)
        return obj

    @staticmethod
    def user(name: str) -> dict[str, str]:
        return {"kind": "User", "apiGroup": RBAC, "name": name}

    @staticmethod
    def group(name: str) -> dict[str, str]:
        return {"kind": "Group", "apiGroup": RBAC, "name": name}

    @staticmethod
    def sa(name: str, namespace: str = "") -> dict[str, str]:
        out = {"kind": "ServiceAccount", "name": name}
        if namespace:
            out["namespace"] = namespace
        return out

    def role_binding(
        self, namespace: str, name: str, role_kind: str, role: str, *subjects: dict[str, str]
    ) -> dict[str, Any]:
        obj = {
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": list(subjects),
        }
        self.index.apply("ADDED", obj)
        return obj

    def cluster_role_binding(
        self, name: str, role: str, *subjects: dict[str, str]
    ) -> dict[str, Any]:
        obj = {
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": list(subjects),
        }
        self.index.apply("ADDED", obj)
        return obj


@pytest.fixture
def world() -> World:
    return World()
