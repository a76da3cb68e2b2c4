"""The Node authorizer's graph, kept equal to storage by the server's shared informers.

As upstream's graph populator. Rules:

 1. With ``--authorization-mode`` naming Node, the graph of the chain's Node authorizer is fed
    by the informers of Pods, and of PersistentVolumes, VolumeAttachments and ResourceSlices
    when the server serves those kinds (stored kinds only: a kind this server does not serve
    has no object that could lead anywhere).
 2. An added or updated object replaces the edges it had; a deleted one removes them.
 3. Before the server accepts a request the informers have synced, so no node is refused from
    a partial graph after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubeward.api import meta as m
from kubeward.api.resources.core import PODS
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.controllers.factory import InformerFactory

if TYPE_CHECKING:  # only a type: the authorizer and its graph are built by authz.modes
    from kubeward.authz.node.graph import Graph

# (group, resource, graph vertex type) of the kinds besides pods that add edges (rule 1).
_OPTIONAL_KINDS = (
    ("", "persistentvolumes", "pv"),
    ("storage.k8s.io", "volumeattachments", "volumeattachment"),
    ("resource.k8s.io", "resourceslices", "resourceslice"),
)


def _served(scheme: Scheme, group: str, resource: str) -> ResourceType | None:
    for rt in scheme:
        if rt.group == group and rt.resource == resource and rt.stored:
            return rt
    return None


class NodeGraphWiring:
    def __init__(self, graph: Graph, scheme: Scheme, informers: InformerFactory) -> None:
        self.graph = graph
        self._informers = informers
        self._kinds: list[ResourceType] = [PODS]
        self._follow(PODS, graph.set_pod, lambda obj: graph.delete_pod(*_key(obj)))
        for group, resource, vertex_type in _OPTIONAL_KINDS:
            rt = _served(scheme, group, resource)
            if rt is None:
                continue
            self._kinds.append(rt)
            if vertex_type == "pv":
                self._follow(rt, graph.set_pv, lambda obj: graph.delete_pv(m.name_of(obj)))
            else:
                self._follow(rt, *_bound_to_node_handlers(graph, vertex_type))

    def _follow(
        self,
        rt: ResourceType,
        on_set: Callable[[m.JSONObject], None],
        on_delete: Callable[[m.JSONObject], None],
    ) -> None:
        """Rule 2."""
        self._informers.informer(rt).add_event_handler(
            on_add=on_set,
            on_update=lambda _old, new: on_set(new),
            on_delete=on_delete,
        )

    async def prepare(self) -> None:
        """Rule 3."""
        self._informers.start()
        await self._informers.wait_for_sync(self._kinds)


def _bound_to_node_handlers(
    graph: Graph, vertex_type: str
) -> tuple[Callable[[m.JSONObject], None], Callable[[m.JSONObject], None]]:
    def on_set(obj: m.JSONObject) -> None:
        graph.set_bound_to_node(vertex_type, obj)

    def on_delete(obj: m.JSONObject) -> None:
        graph.delete(vertex_type, "", m.name_of(obj))

    return on_set, on_delete


def _key(obj: m.JSONObject) -> tuple[str, str]:
    return m.namespace_of(obj), m.name_of(obj)
