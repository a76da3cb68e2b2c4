"""The default ClusterRoleBindings of Kubernetes, and kubeadm's ``kubeadm:cluster-admins``.

From Kubernetes' bootstrap policy (``ClusterRoleBindings()`` of ``bootstrappolicy/policy.go``):

 1. ``cluster-admin`` → group ``system:masters``.
 2. ``system:discovery`` and ``system:basic-user`` → every authenticated user;
    ``system:public-info-viewer`` → authenticated and unauthenticated users alike, so that an
    anonymous request reaches only health, readiness, liveness and version.
 3. ``system:node`` has no subjects: nodes are authorized by the Node authorizer; the binding
    is kept, empty, so that reconciliation never re-adds the group ``system:nodes``.
 4. The component identities: kube-proxy, kube-controller-manager, kube-scheduler (also
    ``system:volume-scheduler``), the ``kube-dns`` service account, and every service account
    for ``system:service-account-issuer-discovery``.

kubeadm adds ``kubeadm:cluster-admins`` → group ``kubeadm:cluster-admins``: the group of the
identity in ``admin.conf``, which is thus an ordinary, revocable binding, while
``super-admin.conf`` (group ``system:masters``) stays the break-glass credential.
"""

from __future__ import annotations

from kubeward.api.user import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    KUBE_CONTROLLER_MANAGER,
    KUBE_PROXY,
    KUBE_SCHEDULER,
    SERVICE_ACCOUNTS_GROUP,
    SYSTEM_MASTERS,
)
from kubeward.authz.rbac.bootstrap.policy import (
    Object,
    cluster_role_binding,
    group,
    service_account,
    user,
)

MONITORING_GROUP = "system:monitoring"
KUBEADM_CLUSTER_ADMINS = "kubeadm:cluster-admins"


def cluster_role_bindings() -> list[Object]:
    """Every default ClusterRoleBinding, as JSON objects (fresh copies on every call)."""
    return [
        cluster_role_binding("cluster-admin", "cluster-admin", [group(SYSTEM_MASTERS)]),
        cluster_role_binding("system:monitoring", "system:monitoring", [group(MONITORING_GROUP)]),
        cluster_role_binding("system:discovery", "system:discovery", [group(ALL_AUTHENTICATED)]),
        cluster_role_binding("system:basic-user", "system:basic-user", [group(ALL_AUTHENTICATED)]),
        cluster_role_binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            [group(ALL_AUTHENTICATED), group(ALL_UNAUTHENTICATED)],
        ),
        cluster_role_binding("system:node-proxier", "system:node-proxier", [user(KUBE_PROXY)]),
        cluster_role_binding(
            "system:kube-controller-manager",
            "system:kube-controller-manager",
            [user(KUBE_CONTROLLER_MANAGER)],
        ),
        cluster_role_binding(
            "system:kube-dns", "system:kube-dns", [service_account("kube-system", "kube-dns")]
        ),
        cluster_role_binding(
            "system:kube-scheduler", "system:kube-scheduler", [user(KUBE_SCHEDULER)]
        ),
        cluster_role_binding(
            "system:volume-scheduler", "system:volume-scheduler", [user(KUBE_SCHEDULER)]
        ),
        cluster_role_binding(
            "system:service-account-issuer-discovery",
            "system:service-account-issuer-discovery",
            [group(SERVICE_ACCOUNTS_GROUP)],
        ),
        cluster_role_binding("system:node", "system:node", []),
    ]


def kubeadm_cluster_role_bindings() -> list[Object]:
    """``kubeadm:cluster-admins`` → cluster-admin, as ``kubeadm init`` creates it.

    kubeadm writes it without the bootstrap marks; it is reconciled like the others (an
    absent autoupdate annotation does not protect it).
    """
    binding = cluster_role_binding(
        KUBEADM_CLUSTER_ADMINS, "cluster-admin", [group(KUBEADM_CLUSTER_ADMINS)]
    )
    binding["metadata"] = {"name": KUBEADM_CLUSTER_ADMINS}
    return [binding]
