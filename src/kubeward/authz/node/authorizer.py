"""The Node authorizer (``--authorization-mode=Node``): what a kubelet may do, and to what.

As upstream's ``plugin/pkg/auth/authorizer/node`` with authorization by selectors on (beta and
on by default in Kubernetes 1.32). Reasons are upstream's words. Rules:

 1. Only nodes are its business: a user named ``system:node:<name>`` in the group
    ``system:nodes``. Anyone else gets NO_OPINION without a reason; a node user whose name is
    empty gets ``unknown node for user "<user>"``.
 2. Secrets and ConfigMaps: get, list and watch of a named object in a namespace, and only when
    the graph (``authz.node.graph``) leads from it to the node.
 3. PersistentVolumeClaims, PersistentVolumes, ResourceClaims and VolumeAttachments: get of a
    related object; a PVC's ``status`` may be updated or patched when related.
 4. ServiceAccounts: only ``create`` of the ``token`` subresource of an account used by a pod on
    the node.
 5. Leases: get, create, update, patch and delete in ``kube-node-lease``, of the node's own name
    (create is left to NodeRestriction, which sees the name). CSINodes: the same verbs, no
    subresource, the node's own name.
 6. ResourceSlices: create (NodeRestriction checks the node name); get, update, patch and
    delete of slices on the node; list, watch and deletecollection only with the field selector
    ``nodeName=<node>``.
 7. Nodes: create, update and patch (NodeRestriction limits them to the node's own); get, list
    and watch of its own Node only; update and patch of ``status``.
 8. Pods: get of a pod on the node; list and watch with the field selector
    ``spec.nodeName=<node>`` (or of a single pod on the node); create and delete (mirror pods,
    limited by NodeRestriction); update and patch of ``status``; create of ``eviction``.
 9. Anything else is decided by the static node rules (the ``system:node`` ClusterRole's rules,
    given by the caller): ALLOW when they allow it, else NO_OPINION.
 10. A node's rules cannot be listed (SelfSubjectRulesReview): they are incomplete, with
     upstream's evaluation error.
"""

from __future__ import annotations

from collections.abc import Callable

from kubeward.api.selectors import EQUALS, parse_field_selector
from kubeward.api.user import NODE_USER_PREFIX, NODES_GROUP, UserInfo
from kubeward.authz.interfaces import (
    NO_OPINION,
    Attributes,
    AuthzResult,
    Decision,
    RulesResult,
)
from kubeward.authz.node.graph import (
    CONFIGMAP,
    POD,
    PV,
    PVC,
    RESOURCE_CLAIM,
    RESOURCE_SLICE,
    SECRET,
    SERVICE_ACCOUNT,
    VOLUME_ATTACHMENT,
    Graph,
)
from kubeward.errors import BadRequest

NODE_LEASE_NAMESPACE = "kube-node-lease"
MODE = "Node"

StaticRules = Callable[[Attributes], bool]


def node_identity(user: UserInfo) -> tuple[str, bool]:
    """Rule 1: ``(node name, is a node)``, as upstream's default node identifier."""
    if not user.name.startswith(NODE_USER_PREFIX) or NODES_GROUP not in user.groups:
        return "", False
    return user.name[len(NODE_USER_PREFIX) :], True


def _allow() -> AuthzResult:
    return AuthzResult(Decision.ALLOW, authorizer=MODE)


def _no(reason: str = "") -> AuthzResult:
    return AuthzResult(Decision.NO_OPINION, reason, authorizer=MODE)


def _selects(attributes: Attributes, field: str, value: str) -> bool:
    """Whether the request's field selector requires ``field=value`` (``=`` or ``==``)."""
    if not attributes.field_selector:
        return False
    try:
        selector = parse_field_selector(attributes.field_selector)
    except BadRequest:
        return False
    return any(
        r.field == field and r.operator == EQUALS and r.value == value
        for r in selector.requirements
    )


class NodeAuthorizer:
    """See the module rules."""

    name = MODE

    def __init__(self, graph: Graph, static_rules: StaticRules) -> None:
        self.graph = graph
        self._static_rules = static_rules

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        """Rule 10."""
        if node_identity(user)[1]:
            return RulesResult(
                incomplete=True,
                evaluation_error="node authorizer does not support user rule resolution",
            )
        return RulesResult()

    def authorize(self, attributes: Attributes) -> AuthzResult:
        node, is_node = node_identity(attributes.user)
        if not is_node:
            return NO_OPINION
        if not node:
            return _no(f'unknown node for user "{attributes.user.name}"')
        if attributes.resource_request:
            decided = self._subdivided(node, attributes)
            if decided is not None:
                return decided
        return _allow() if self._static_rules(attributes) else _no()

    def _subdivided(self, node: str, a: Attributes) -> AuthzResult | None:
        group, resource = a.api_group, a.resource
        if group == "":
            if resource == "secrets":
                return self._read_namespaced(node, SECRET, a)
            if resource == "configmaps":
                return self._read_namespaced(node, CONFIGMAP, a)
            if resource == "persistentvolumeclaims":
                if a.subresource == "status":
                    return self._status_update(node, PVC, a)
                return self._get(node, PVC, a)
            if resource == "persistentvolumes":
                return self._get(node, PV, a)
            if resource == "serviceaccounts":
                return self._create_token(node, a)
            if resource == "nodes":
                return self._node(node, a)
            if resource == "pods":
                return self._pod(node, a)
        elif group == "resource.k8s.io":
            if resource == "resourceclaims":
                return self._get(node, RESOURCE_CLAIM, a)
            if resource == "resourceslices":
                return self._resource_slice(node, a)
        elif group == "storage.k8s.io":
            if resource == "volumeattachments":
                return self._get(node, VOLUME_ATTACHMENT, a)
            if resource == "csinodes":
                return self._csi_node(node, a)
        elif group == "coordination.k8s.io" and resource == "leases":
            return self._lease(node, a)
        return None

    # --- rules 2 and 3 --------------------------------------------------------------------
    def _related(self, node: str, vertex_type: str, a: Attributes) -> AuthzResult:
        if not a.name:
            return _no("No Object name found")
        if self.graph.has_path(node, vertex_type, a.namespace, a.name):
            return _allow()
        return _no(f"no relationship found between node '{node}' and this object")

    def _status_update(self, node: str, vertex_type: str, a: Attributes) -> AuthzResult:
        if a.verb not in ("update", "patch"):
            return _no("can only get/update/patch this type")
        if a.subresource != "status":
            return _no("can only update status subresource")
        return self._related(node, vertex_type, a)

    def _get(self, node: str, vertex_type: str, a: Attributes) -> AuthzResult:
        if a.verb != "get":
            return _no("can only get individual resources of this type")
        if a.subresource:
            return _no("cannot get subresource")
        return self._related(node, vertex_type, a)

    def _read_namespaced(self, node: str, vertex_type: str, a: Attributes) -> AuthzResult:
        if a.verb not in ("get", "list", "watch"):
            return _no("can only read resources of this type")
        if a.subresource:
            return _no("cannot read subresource")
        if not a.namespace:
            return _no("can only read namespaced object of this type")
        return self._related(node, vertex_type, a)

    # --- rule 4 ---------------------------------------------------------------------------
    def _create_token(self, node: str, a: Attributes) -> AuthzResult:
        if a.verb != "create" or not a.name:
            return _no("can only create tokens for individual service accounts")
        if a.subresource != "token":
            return _no("can only create token subresource of serviceaccount")
        return self._related(node, SERVICE_ACCOUNT, a)

    # --- rule 5 ---------------------------------------------------------------------------
    def _lease(self, node: str, a: Attributes) -> AuthzResult:
        if a.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a node lease")
        if a.namespace != NODE_LEASE_NAMESPACE:
            return _no(f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace')
        if a.verb != "create" and a.name != node:
            return _no("can only access node lease with the same name as the requesting node")
        return _allow()

    def _csi_node(self, node: str, a: Attributes) -> AuthzResult:
        if a.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a CSINode")
        if a.subresource:
            return _no("cannot authorize CSINode subresources")
        if a.verb != "create" and a.name != node:
            return _no("can only access CSINode with the same name as the requesting node")
        return _allow()

    # --- rule 6 ---------------------------------------------------------------------------
    def _resource_slice(self, node: str, a: Attributes) -> AuthzResult:
        if a.subresource:
            return _no("cannot authorize ResourceSlice subresources")
        if a.verb == "create":
            return _allow()
        if a.verb in ("get", "update", "patch", "delete"):
            return self._related(node, RESOURCE_SLICE, a)
        if a.verb in ("watch", "list", "deletecollection"):
            if _selects(a, "nodeName", node):
                return _allow()
            return _no(
                "can only list/watch/deletecollection resourceslices with nodeName field selector"
            )
        return _no(
            "only the following verbs are allowed for a ResourceSlice: get, watch, list, "
            "create, update, patch, delete, deletecollection"
        )

    # --- rules 7 and 8 --------------------------------------------------------------------
    def _node(self, node: str, a: Attributes) -> AuthzResult:
        if a.subresource == "":
            if a.verb in ("create", "update", "patch"):
                return _allow()
            if a.verb in ("get", "list", "watch"):
                if a.name == node:
                    return _allow()
                if not a.name:
                    return _no(f"node '{node}' cannot read all nodes, only its own Node object")
                return _no(f"node '{node}' cannot read '{a.name}', only its own Node object")
        elif a.subresource == "status" and a.verb in ("update", "patch"):
            return _allow()
        return _no()

    def _pod(self, node: str, a: Attributes) -> AuthzResult:
        if a.subresource == "":
            if a.verb == "get":
                return self._get(node, POD, a)
            if a.verb in ("list", "watch"):
                if _selects(a, "spec.nodeName", node):
                    return _allow()
                if a.name:
                    return self._related(node, POD, a)
                return _no("can only list/watch pods with spec.nodeName field selector")
            if a.verb in ("create", "delete"):
                return _allow()
        elif (a.subresource == "status" and a.verb in ("update", "patch")) or (
            a.subresource == "eviction" and a.verb == "create"
        ):
            return _allow()
        return _no()
