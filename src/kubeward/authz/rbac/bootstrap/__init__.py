"""Kubernetes' default RBAC policy, and how the server keeps it in place.

``bootstrap_objects()`` lists every default object in the order to write them (roles before
the bindings that refer to them); ``reconcile(existing, desired)`` says what to write for each.
"""

from __future__ import annotations

from kubeward.authz.rbac.bootstrap.bindings import (
    KUBEADM_CLUSTER_ADMINS,
    cluster_role_bindings,
    kubeadm_cluster_role_bindings,
)
from kubeward.authz.rbac.bootstrap.cluster_roles import cluster_roles
from kubeward.authz.rbac.bootstrap.controllers import controller_role_bindings, controller_roles
from kubeward.authz.rbac.bootstrap.kubeadm_nodes import (
    DEFAULT_NODE_TOKEN_GROUP,
    kubeadm_node_bindings,
    kubeadm_node_roles,
)
from kubeward.authz.rbac.bootstrap.namespaced import namespace_role_bindings, namespace_roles
from kubeward.authz.rbac.bootstrap.policy import (
    AUTOUPDATE_ANNOTATION,
    BOOTSTRAPPING_LABEL,
    BOOTSTRAPPING_VALUE,
    Object,
)
from kubeward.authz.rbac.bootstrap.reconcile import (
    ReconcileOperation,
    Reconciliation,
    is_protected,
    reconcile,
)


def bootstrap_objects() -> list[Object]:
    """Every default Role, ClusterRole and binding, roles first."""
    return [
        *cluster_roles(),
        *controller_roles(),
        *namespace_roles(),
        *kubeadm_node_roles(),
        *cluster_role_bindings(),
        *controller_role_bindings(),
        *kubeadm_cluster_role_bindings(),
        *namespace_role_bindings(),
        *kubeadm_node_bindings(),
    ]


__all__ = [
    "AUTOUPDATE_ANNOTATION",
    "BOOTSTRAPPING_LABEL",
    "BOOTSTRAPPING_VALUE",
    "DEFAULT_NODE_TOKEN_GROUP",
    "KUBEADM_CLUSTER_ADMINS",
    "ReconcileOperation",
    "Reconciliation",
    "bootstrap_objects",
    "cluster_role_bindings",
    "cluster_roles",
    "is_protected",
    "kubeadm_cluster_role_bindings",
    "namespace_role_bindings",
    "namespace_roles",
    "reconcile",
]
