"""The ``NodeRestriction`` admission plugin: a node may change only what is its own.

As upstream's ``plugin/pkg/admission/noderestriction`` (1.32), with its messages. It looks only
at requests from nodes (``system:node:<name>`` in ``system:nodes``: the Node authorizer's
identity); a node user without a name is refused. Rules:

 1. Pods: a node creates only mirror pods (annotation ``kubernetes.io/config.mirror``) bound to
    itself, owned by exactly its own Node (``v1``, ``Node``, its name and uid, ``controller``
    true, no ``blockOwnerDeletion``), and referring to no service account, Secret, ConfigMap,
    ClusterTrustBundle or PersistentVolumeClaim; it deletes only pods bound to itself.
 2. Pod status: only of pods bound to itself, without changing their labels or resource claim
    statuses. Evictions: only of pods bound to itself. Any other pod subresource is refused.
 3. Nodes: only its own Node. On create: no ``configSource``, and none of the forbidden labels;
    on update: no new ``configSource``, no change of taints, no change of a forbidden label. A
    label is forbidden when its prefix is ``node-restriction.kubernetes.io`` (or ends with
    ``.node-restriction.kubernetes.io``), or is ``kubernetes.io``/``k8s.io`` (or a subdomain)
    without being one of the labels the kubelet sets itself.
 4. Service-account tokens: only bound to a pod (with its uid) that runs on the node.
 5. Leases only in ``kube-node-lease`` and named as the node; CSINodes only its own; a
    ResourceSlice created or deleted only with its own ``spec.nodeName``.
 Not here (later than 1.32): checks of a node's own CSRs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.admission.interfaces import (
    CREATE,
    DELETE,
    UPDATE,
    AdmissionRequest,
    ObjectReader,
    forbidden,
)

# The Node authorizer's identity rule and reference visitor: one place knows who is a node and
# every field of a pod that names a Secret or ConfigMap (upstream shares nodeidentifier and
# podutil's visitors the same way).
from kubeward.authz.node import node_identity
from kubeward.authz.node.references import pod_configmap_names, pod_secret_names
from kubeward.errors import NotFound, StatusDetails

PLUGIN_NAME = "NodeRestriction"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
NODE_LEASE_NAMESPACE = "kube-node-lease"
NODE_RESTRICTION_PREFIX = "node-restriction.kubernetes.io"

# Rule 3: the labels a kubelet may set on its own Node (kubelet's IsKubeletLabel).
KUBELET_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
    }
)
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _label_namespace(key: str) -> str:
    prefix, sep, _ = key.partition("/")
    return prefix if sep else ""


def _in_domain(namespace: str, domain: str) -> bool:
    return namespace == domain or namespace.endswith("." + domain)


def is_kubelet_label(key: str) -> bool:
    namespace = _label_namespace(key)
    return key in KUBELET_LABELS or any(_in_domain(namespace, d) for d in KUBELET_LABEL_NAMESPACES)


def forbidden_labels(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[str]:
    """Rule 3: the changed (added, removed or modified) label keys a node may not touch, sorted."""
    changed = {k for k in new if k not in old or new[k] != old[k]}
    changed |= {k for k in old if k not in new or old[k] != new[k]}
    refused = set()
    for key in changed:
        namespace = _label_namespace(key)
        if _in_domain(namespace, NODE_RESTRICTION_PREFIX):
            refused.add(key)
        kubernetes = _in_domain(namespace, "kubernetes.io") or _in_domain(namespace, "k8s.io")
        if kubernetes and not is_kubelet_label(key):
            refused.add(key)
    return sorted(refused)


def _refers_to(pod: Mapping[str, Any]) -> str:
    """Rule 1: what a mirror pod may not refer to, as upstream names it, or ``""``."""
    spec = _map(pod.get("spec"))
    if spec.get("serviceAccountName"):
        return "a service account"
    if pod_secret_names(pod):
        return "secrets"
    if pod_configmap_names(pod):
        return "configmaps"
    volumes = [_map(v) for v in _list(spec.get("volumes"))]
    for volume in volumes:
        for source in _list(_map(volume.get("projected")).get("sources")):
            if "clusterTrustBundle" in _map(source):
                return "clustertrustbundles"
    if any("persistentVolumeClaim" in v for v in volumes):
        return "persistentvolumeclaims"
    return ""


def _name_of(obj: Mapping[str, Any] | None) -> str:
    return str(_map(_map(obj).get("metadata")).get("name") or "")


class NodeRestrictionPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        node, is_node = node_identity(request.user)
        if not is_node:
            return
        if not node:
            raise forbidden(request, f'could not determine node from user "{request.user.name}"')
        group, resource = request.group, request.resource
        if group == "" and resource == "pods":
            await self._pod(node, request, reader)
        elif group == "" and resource == "nodes":
            self._node(node, request)
        elif group == "" and resource == "persistentvolumeclaims":
            if request.subresource != "status":
                raise forbidden(request, "may only update PVC status")
        elif group == "" and resource == "serviceaccounts":
            await self._token(node, request, reader)
        elif group == "coordination.k8s.io" and resource == "leases":
            self._lease(node, request)
        elif group == "storage.k8s.io" and resource == "csinodes":
            self._own_name(
                node, request, "can only access CSINode with the same name as the requesting node"
            )
        elif group == "resource.k8s.io" and resource == "resourceslices":
            self._resource_slice(node, request)

    # --- rules 1 and 2 --------------------------------------------------------------------
    async def _pod(self, node: str, request: AdmissionRequest, reader: ObjectReader) -> None:
        sub = request.subresource
        if sub == "":
            if request.operation == CREATE:
                self._mirror_pod(node, request, await reader.get("nodes", "", node))
            elif request.operation == DELETE:
                existing = await self._existing_pod(request, reader, request.name)
                if _map(existing.get("spec")).get("nodeName") != node:
                    raise forbidden(
                        request,
                        f'node "{node}" can only delete pods with spec.nodeName set to itself',
                    )
            else:
                raise forbidden(
                    request,
                    f'unexpected operation "{request.operation}", node "{node}" can only create and delete mirror pods',
                )
        elif sub == "status":
            if request.operation != UPDATE:
                raise forbidden(request, f'unexpected operation "{request.operation}"')
            old = request.old_object or {}
            if _map(old.get("spec")).get("nodeName") != node:
                raise forbidden(
                    request,
                    f'node "{node}" can only update pod status for pods with spec.nodeName set to itself',
                )
            new = request.object
            if _map(_map(old.get("metadata")).get("labels")) != _map(
                _map(new.get("metadata")).get("labels")
            ):
                raise forbidden(request, f'node "{node}" cannot update labels through pod status')
            claims = [
                _map(old.get("status")).get("resourceClaimStatuses") or [],
                _map(new.get("status")).get("resourceClaimStatuses") or [],
            ]
            if claims[0] != claims[1]:
                raise forbidden(request, f'node "{node}" cannot update resource claim statues')
        elif sub == "eviction":
            if request.operation != CREATE:
                raise forbidden(request, f"unexpected operation {request.operation}")
            pod_name = request.name or _name_of(request.object)
            if not pod_name:
                raise forbidden(request, "could not determine pod from request data")
            existing = await self._existing_pod(request, reader, pod_name)
            if _map(existing.get("spec")).get("nodeName") != node:
                raise forbidden(
                    request, f"node {node} can only evict pods with spec.nodeName set to itself"
                )
        else:
            raise forbidden(
                request,
                f"unexpected pod subresource \"{sub}\", only 'status' and 'eviction' are allowed",
            )

    @staticmethod
    async def _existing_pod(
        request: AdmissionRequest, reader: ObjectReader, name: str
    ) -> dict[str, Any]:
        existing = await reader.get("pods", request.namespace, name)
        if existing is None:
            raise NotFound(f'pods "{name}" not found', StatusDetails(name=name, kind="pods"))
        return existing

    @staticmethod
    def _mirror_pod(
        node: str, request: AdmissionRequest, node_object: Mapping[str, Any] | None
    ) -> None:
        pod = request.object
        meta = _map(pod.get("metadata"))
        if MIRROR_POD_ANNOTATION not in _map(meta.get("annotations")):
            raise forbidden(
                request,
                f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, node "{node}" can only create mirror pods',
            )
        if _map(pod.get("spec")).get("nodeName") != node:
            raise forbidden(
                request, f'node "{node}" can only create pods with spec.nodeName set to itself'
            )
        owners = [_map(o) for o in _list(meta.get("ownerReferences"))]
        if len(owners) > 1:
            raise forbidden(
                request,
                f'node "{node}" can only create pods with a single owner reference set to itself',
            )
        if not owners:
            raise forbidden(
                request, f'node "{node}" can only create pods with an owner reference set to itself'
            )
        owner = owners[0]
        if (owner.get("apiVersion"), owner.get("kind"), owner.get("name")) != ("v1", "Node", node):
            raise forbidden(
                request, f'node "{node}" can only create pods with an owner reference set to itself'
            )
        if owner.get("controller") is not True:
            raise forbidden(
                request,
                f'node "{node}" can only create pods with a controller owner reference set to itself',
            )
        if owner.get("blockOwnerDeletion") is True:
            raise forbidden(
                request, f'node "{node}" must not set blockOwnerDeletion on an owner reference'
            )
        if node_object is None:
            raise NotFound(f'nodes "{node}" not found', StatusDetails(name=node, kind="nodes"))
        uid = _map(node_object.get("metadata")).get("uid")
        if owner.get("uid") != uid:
            raise forbidden(
                request, f"node {node} UID mismatch: expected {owner.get('uid') or ''} got {uid}"
            )
        what = _refers_to(pod)
        if what:
            raise forbidden(request, f'node "{node}" can not create pods that reference {what}')

    # --- rule 3 ---------------------------------------------------------------------------
    @staticmethod
    def _node(node: str, request: AdmissionRequest) -> None:
        name = request.name or (_name_of(request.object) if request.operation == CREATE else "")
        if name != node:
            raise forbidden(request, f'node "{node}" is not allowed to modify node "{name}"')
        new_spec = _map(request.object.get("spec"))
        new_labels = _map(_map(request.object.get("metadata")).get("labels"))
        if request.operation == CREATE:
            if new_spec.get("configSource") is not None:
                raise forbidden(
                    request,
                    f'node "{node}" is not allowed to create pods with a non-nil configSource',
                )
            refused = forbidden_labels(new_labels, {})
            if refused:
                raise forbidden(
                    request,
                    f'node "{node}" is not allowed to set the following labels: {", ".join(refused)}',
                )
        elif request.operation == UPDATE:
            old = request.old_object or {}
            old_spec = _map(old.get("spec"))
            source = new_spec.get("configSource")
            if source is not None and source != old_spec.get("configSource"):
                raise forbidden(
                    request,
                    f'node "{node}" is not allowed to update configSource to a new non-nil configSource',
                )
            if (new_spec.get("taints") or []) != (old_spec.get("taints") or []):
                raise forbidden(request, f'node "{node}" is not allowed to modify taints')
            refused = forbidden_labels(new_labels, _map(_map(old.get("metadata")).get("labels")))
            if refused:
                raise forbidden(request, f"is not allowed to modify labels: {', '.join(refused)}")

    # --- rules 4 and 5 --------------------------------------------------------------------
    @staticmethod
    async def _token(node: str, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation != CREATE or request.subresource != "token":
            return
        ref = _map(_map(request.object.get("spec")).get("boundObjectRef"))
        if ref.get("apiVersion") != "v1" or ref.get("kind") != "Pod" or not ref.get("name"):
            raise forbidden(request, "node requested token not bound to a pod")
        if not ref.get("uid"):
            raise forbidden(request, "node requested token with a pod binding without a uid")
        pod = await NodeRestrictionPlugin._existing_pod(request, reader, str(ref["name"]))
        if ref.get("uid") != _map(pod.get("metadata")).get("uid"):
            raise forbidden(
                request,
                f"the UID in the bound object reference ({ref.get('uid')}) does not match the UID in record. The object might have been deleted and then recreated",
            )
        if _map(pod.get("spec")).get("nodeName") != node:
            raise forbidden(
                request, "node requested token bound to a pod scheduled on a different node"
            )

    @staticmethod
    def _own_name(node: str, request: AdmissionRequest, message: str) -> None:
        name = _name_of(request.object) if request.operation == CREATE else request.name
        if name != node:
            raise forbidden(request, message)

    def _lease(self, node: str, request: AdmissionRequest) -> None:
        if request.namespace != NODE_LEASE_NAMESPACE:
            raise forbidden(
                request, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace'
            )
        self._own_name(
            node, request, "can only access node lease with the same name as the requesting node"
        )

    @staticmethod
    def _resource_slice(node: str, request: AdmissionRequest) -> None:
        if request.operation == CREATE:
            if _map(request.object.get("spec")).get("nodeName") != node:
                raise forbidden(
                    request,
                    "can only create ResourceSlice with the same NodeName as the requesting node",
                )
        elif (
            request.operation == DELETE
            and _map(_map(request.old_object).get("spec")).get("nodeName") != node
        ):
            raise forbidden(
                request,
                "can only delete ResourceSlice with the same NodeName as the requesting node",
            )
