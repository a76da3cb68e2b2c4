"""The Node authorizer's graph: which objects lead to which node.

As upstream's ``plugin/pkg/auth/authorizer/node`` graph. Vertices are ``(type, namespace,
name)``; an edge ``a → b`` means "whoever may read b may read a". Rules:

 1. A pod bound to a node (``spec.nodeName`` set) adds ``pod → node`` and, unless it is a mirror
    pod (annotation ``kubernetes.io/config.mirror``: a node must not grant itself anything
    through a pod it created), ``secret → pod``, ``configmap → pod``, ``pvc → pod``,
    ``serviceaccount → pod`` and ``resourceclaim → pod`` for what it refers to
    (``authz.node.references``). A pod not bound to a node adds nothing.
 2. A persistent volume with a ``claimRef`` adds ``pv → pvc`` and ``secret → pv`` for the Secrets
    the kubelet reads for it.
 3. A VolumeAttachment adds ``volumeattachment → node``; a ResourceSlice adds
    ``resourceslice → node`` (its ``spec.nodeName``, or ``nodeName`` in older versions).
 4. Writing an object replaces every edge it added before; deleting it removes them. A vertex
    left with no edge is forgotten.
 5. ``has_path`` follows edges from the object and never goes through another node's vertex.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeward.authz.node.references import (
    pod_claim_names,
    pod_configmap_names,
    pod_resource_claim_names,
    pod_secret_names,
    pv_secret_refs,
)

NODE = "node"
POD = "pod"
SECRET = "secret"
CONFIGMAP = "configmap"
PVC = "pvc"
PV = "pv"
SERVICE_ACCOUNT = "serviceAccount"
RESOURCE_CLAIM = "resourceclaim"
VOLUME_ATTACHMENT = "volumeattachment"
RESOURCE_SLICE = "resourceslice"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"

Vertex = tuple[str, str, str]  # (type, namespace, name)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


class Graph:
    """Vertices and edges (see the module rules). Not thread-safe: the server's event loop
    is its only writer and reader."""

    def __init__(self) -> None:
        self._out: dict[Vertex, set[Vertex]] = {}
        self._in: dict[Vertex, set[Vertex]] = {}
        # Rule 4: the edges each owning object added.
        self._owned: dict[Vertex, list[tuple[Vertex, Vertex]]] = {}

    # --- writes ---------------------------------------------------------------------------
    def _replace(self, owner: Vertex, edges: Iterable[tuple[Vertex, Vertex]]) -> None:
        for source, target in self._owned.pop(owner, ()):
            self._remove_edge(source, target)
        kept = [(s, t) for s, t in edges]
        for source, target in kept:
            self._out.setdefault(source, set()).add(target)
            self._in.setdefault(target, set()).add(source)
        if kept:
            self._owned[owner] = kept

    def _remove_edge(self, source: Vertex, target: Vertex) -> None:
        # Every edge has its owner at one end, so no two owners share one.
        self._out.get(source, set()).discard(target)
        self._in.get(target, set()).discard(source)
        for vertex in (source, target):
            if not self._out.get(vertex) and not self._in.get(vertex):
                self._out.pop(vertex, None)
                self._in.pop(vertex, None)

    def set_pod(self, pod: Mapping[str, Any]) -> None:
        """Rule 1 (a pod seen again replaces its edges)."""
        meta = _meta(pod)
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        vertex = (POD, namespace, name)
        node_name = _spec(pod).get("nodeName")
        if not isinstance(node_name, str) or not node_name:
            self._replace(vertex, ())
            return
        edges: list[tuple[Vertex, Vertex]] = [(vertex, (NODE, "", node_name))]
        annotations = meta.get("annotations")
        if not (isinstance(annotations, Mapping) and MIRROR_POD_ANNOTATION in annotations):
            account = _spec(pod).get("serviceAccountName")
            if isinstance(account, str) and account:
                edges.append(((SERVICE_ACCOUNT, namespace, account), vertex))
            edges.extend(((SECRET, namespace, s), vertex) for s in sorted(pod_secret_names(pod)))
            edges.extend(
                ((CONFIGMAP, namespace, c), vertex) for c in sorted(pod_configmap_names(pod))
            )
            edges.extend(((PVC, namespace, c), vertex) for c in sorted(pod_claim_names(pod)))
            edges.extend(
                ((RESOURCE_CLAIM, namespace, c), vertex)
                for c in sorted(pod_resource_claim_names(pod))
            )
        self._replace(vertex, edges)

    def delete_pod(self, namespace: str, name: str) -> None:
        self._replace((POD, namespace, name), ())

    def set_pv(self, pv: Mapping[str, Any]) -> None:
        """Rule 2."""
        vertex = (PV, "", str(_meta(pv).get("name") or ""))
        claim = _spec(pv).get("claimRef")
        if not isinstance(claim, Mapping) or not claim.get("name"):
            self._replace(vertex, ())
            return
        edges: list[tuple[Vertex, Vertex]] = [
            (vertex, (PVC, str(claim.get("namespace") or ""), str(claim["name"])))
        ]
        edges.extend(((SECRET, ns, name), vertex) for ns, name in sorted(pv_secret_refs(pv)))
        self._replace(vertex, edges)

    def delete_pv(self, name: str) -> None:
        self._replace((PV, "", name), ())

    def set_bound_to_node(self, vertex_type: str, obj: Mapping[str, Any]) -> None:
        """Rule 3: a VolumeAttachment or ResourceSlice and the node it names."""
        vertex = (vertex_type, "", str(_meta(obj).get("name") or ""))
        node_name = _spec(obj).get("nodeName") or obj.get("nodeName")
        if not isinstance(node_name, str) or not node_name:
            self._replace(vertex, ())
            return
        self._replace(vertex, [(vertex, (NODE, "", node_name))])

    def delete(self, vertex_type: str, namespace: str, name: str) -> None:
        """Rule 4 for any owner."""
        self._replace((vertex_type, namespace, name), ())

    # --- reads ----------------------------------------------------------------------------
    def has_vertex(self, vertex_type: str, namespace: str, name: str) -> bool:
        vertex = (vertex_type, namespace, name)
        return vertex in self._out or vertex in self._in

    def has_path(self, node_name: str, vertex_type: str, namespace: str, name: str) -> bool:
        """Rule 5."""
        target = (NODE, "", node_name)
        start = (vertex_type, namespace, name)
        if target not in self._in or start not in self._out:
            return False
        seen = {start}
        stack = [start]
        while stack:
            for following in self._out.get(stack.pop(), ()):
                if following == target:
                    return True
                if following in seen or following[0] == NODE:
                    continue
                seen.add(following)
                stack.append(following)
        return False
