"""The default Roles and RoleBindings of ``kube-system`` and ``kube-public``.

From Kubernetes' bootstrap policy (``bootstrappolicy/namespace_policy.go``, as its
``testdata/namespace-roles.yaml`` and ``namespace-role-bindings.yaml`` render it): the reader of
the ``extension-apiserver-authentication`` ConfigMap, the leader-election locks of the
controller-manager and the scheduler, and the roles of the bootstrap-signer, cloud-provider and
token-cleaner controllers.
"""

from __future__ import annotations

from kubeward.api.user import KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER
from kubeward.authz.rbac.bootstrap.policy import (
    CORE,
    READ,
    Object,
    events_rule,
    role,
    role_binding,
    rule,
    service_account,
    user,
)

KUBE_SYSTEM = "kube-system"
KUBE_PUBLIC = "kube-public"
_LOCK_VERBS = "create get list update watch"
_COORDINATION = ("coordination.k8s.io",)


def _sa(name: str) -> dict[str, str]:
    return service_account(KUBE_SYSTEM, name)


def namespace_roles() -> list[Object]:
    """Every default Role (fresh copies on every call)."""
    locks = [
        rule(_LOCK_VERBS, _COORDINATION, "leases"),
        rule(_LOCK_VERBS, _COORDINATION, "leasecandidates"),
    ]
    return [
        role(
            KUBE_PUBLIC,
            "system:controller:bootstrap-signer",
            [
                rule(READ, (CORE,), "configmaps"),
                rule("update", (CORE,), "configmaps", names="cluster-info"),
                events_rule(),
            ],
        ),
        role(
            KUBE_SYSTEM,
            "extension-apiserver-authentication-reader",
            [rule(READ, (CORE,), "configmaps", names="extension-apiserver-authentication")],
        ),
        role(KUBE_SYSTEM, "system::leader-locking-kube-controller-manager", list(locks)),
        role(KUBE_SYSTEM, "system::leader-locking-kube-scheduler", list(locks)),
        role(KUBE_SYSTEM, "system:controller:bootstrap-signer", [rule(READ, (CORE,), "secrets")]),
        role(
            KUBE_SYSTEM,
            "system:controller:cloud-provider",
            [rule("create get list watch", (CORE,), "configmaps")],
        ),
        role(
            KUBE_SYSTEM,
            "system:controller:token-cleaner",
            [rule("delete get list watch", (CORE,), "secrets"), events_rule()],
        ),
    ]


def namespace_role_bindings() -> list[Object]:
    """Every default RoleBinding (fresh copies on every call)."""
    return [
        role_binding(
            KUBE_PUBLIC,
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            [_sa("bootstrap-signer")],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            [user(KUBE_CONTROLLER_MANAGER), user(KUBE_SCHEDULER)],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            [
                user(KUBE_CONTROLLER_MANAGER),
                _sa("kube-controller-manager"),
                _sa("leader-election-controller"),
            ],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            [user(KUBE_SCHEDULER), _sa("kube-scheduler")],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            [_sa("bootstrap-signer")],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system:controller:cloud-provider",
            "system:controller:cloud-provider",
            [_sa("cloud-provider")],
        ),
        role_binding(
            KUBE_SYSTEM,
            "system:controller:token-cleaner",
            "system:controller:token-cleaner",
            [_sa("token-cleaner")],
        ),
    ]
