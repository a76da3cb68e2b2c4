"""The RBAC that ``kubeadm init`` writes so that nodes can join with a bootstrap token.

From kubeadm's ``phases/bootstraptoken/node`` and ``clusterinfo`` phases:

 1. ``kubeadm:kubelet-bootstrap`` binds ``system:node-bootstrapper`` (create and read CSRs) to
    the group of kubeadm's default tokens, ``system:bootstrappers:kubeadm:default-node-token``;
 2. ``kubeadm:node-autoapprove-bootstrap`` binds
    ``system:certificates.k8s.io:certificatesigningrequests:nodeclient`` to that group, so the
    csrapproving controller approves a bootstrapping node's client CSR;
 3. ``kubeadm:node-autoapprove-certificate-rotation`` binds ``…:selfnodeclient`` to
    ``system:nodes``, so a node's renewal of its own client certificate is approved;
 4. ``kubeadm:get-nodes`` lets that group get nodes (``kubeadm join`` checks for a node of the
    same name);
 5. in ``kube-public``, the Role and RoleBinding ``kubeadm:bootstrap-signer-clusterinfo`` let
    ``system:anonymous`` get the ``cluster-info`` ConfigMap (its signatures are what the joining
    node trusts, not the TLS connection).

kubeadm writes these without the bootstrap marks.
"""

from __future__ import annotations

from kubeward.api.user import ANONYMOUS, NODES_GROUP
from kubeward.authz.rbac.bootstrap.policy import (
    CORE,
    Object,
    cluster_role,
    cluster_role_binding,
    group,
    role,
    role_binding,
    rule,
    user,
)

# kubeadm's NodeBootstrapTokenAuthGroup: `kubeadm token create`'s default --groups.
DEFAULT_NODE_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
KUBE_PUBLIC = "kube-public"
CLUSTER_INFO = "cluster-info"
CLUSTER_INFO_ROLE = "kubeadm:bootstrap-signer-clusterinfo"


def _unmarked(obj: Object) -> Object:
    meta = obj["metadata"]
    obj["metadata"] = {k: v for k, v in meta.items() if k in ("name", "namespace")}
    return obj


def kubeadm_node_roles() -> list[Object]:
    """Rules 4 and 5: kubeadm's own roles (fresh copies on every call)."""
    return [
        _unmarked(cluster_role("kubeadm:get-nodes", [rule("get", (CORE,), "nodes")])),
        _unmarked(
            role(
                KUBE_PUBLIC,
                CLUSTER_INFO_ROLE,
                [rule("get", (CORE,), "configmaps", names=CLUSTER_INFO)],
            )
        ),
    ]


def kubeadm_node_bindings() -> list[Object]:
    """Rules 1 to 5: the bindings (fresh copies on every call)."""
    tokens = [group(DEFAULT_NODE_TOKEN_GROUP)]
    return [
        _unmarked(
            cluster_role_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", tokens)
        ),
        _unmarked(
            cluster_role_binding(
                "kubeadm:node-autoapprove-bootstrap",
                "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                [group(DEFAULT_NODE_TOKEN_GROUP)],
            )
        ),
        _unmarked(
            cluster_role_binding(
                "kubeadm:node-autoapprove-certificate-rotation",
                "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                [group(NODES_GROUP)],
            )
        ),
        _unmarked(
            cluster_role_binding(
                "kubeadm:get-nodes", "kubeadm:get-nodes", [group(DEFAULT_NODE_TOKEN_GROUP)]
            )
        ),
        _unmarked(
            role_binding(KUBE_PUBLIC, CLUSTER_INFO_ROLE, CLUSTER_INFO_ROLE, [user(ANONYMOUS)])
        ),
    ]
