"""The RBAC kinds' write check: escalation refused with the request's scope, per resource."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.api.registry.scope import RequestScope
from kubeward.api.user import SYSTEM_MASTERS, UserInfo
from kubeward.authz.rbac.policybased import escalation_check
from kubeward.errors import Forbidden

JANE = RequestScope(UserInfo("jane", groups=("system:authenticated",)), verb="create")
ROLE = {
    "metadata": {"name": "secrets", "namespace": "dev"},
    "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}],
}


def test_a_role_granting_what_the_writer_lacks_is_refused(world: Any) -> None:
    check = escalation_check(world.rbac, world.rbac, "roles")
    with pytest.raises(Forbidden, match="attempting to grant RBAC permissions not currently held"):
        asyncio.run(check(JANE, "dev", ROLE, None))


def test_holding_the_permissions_in_the_namespace_or_being_a_master_passes(world: Any) -> None:
    world.cluster_role("reader", world.rule("get", "secrets"))
    world.role_binding("dev", "reader", "ClusterRole", "reader", world.user("jane"))
    check = escalation_check(world.rbac, world.rbac, "roles")
    asyncio.run(check(JANE, "dev", ROLE, None))
    with pytest.raises(Forbidden):
        asyncio.run(check(JANE, "prod", {**ROLE, "metadata": {"name": "secrets"}}, None))
    master = RequestScope(UserInfo("root", groups=(SYSTEM_MASTERS,)))
    asyncio.run(check(master, "prod", ROLE, None))


def test_a_binding_needs_the_roles_permissions(world: Any) -> None:
    world.cluster_role("admin", world.rule("*", "*", groups=("*",)))
    binding = {
        "metadata": {"name": "me-admin"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "admin",
        },
        "subjects": [world.user("jane")],
    }
    check = escalation_check(world.rbac, world.rbac, "clusterrolebindings")
    with pytest.raises(Forbidden, match="attempting to grant RBAC permissions not currently held"):
        asyncio.run(check(JANE, "", binding, None))


def test_only_the_four_rbac_resources_have_the_check(world: Any) -> None:
    with pytest.raises(ValueError, match="not an RBAC resource: configmaps"):
        escalation_check(world.rbac, world.rbac, "configmaps")
