"""The node-IPAM controller: each Node gets its pod range, ``spec.podCIDR``/``spec.podCIDRs``.

kube-controller-manager's ``node-ipam-controller`` with the range allocator (the default
``--cidr-allocator-type``), run when ``--allocate-node-cidrs`` is on. The node agent (as the
kubelet) then gives its pods IPs from that range. Rules (upstream's ``range_allocator.go``):

 1. One :class:`~kubeward.controllers.cidrset.CIDRSet` per cluster CIDR (two for dual-stack);
    the service ranges that overlap a cluster CIDR are marked used first
    (``nodeipam_config`` rule 4).
 2. Before the first allocation, the ranges nodes already have are recovered from the first
    list of Nodes and marked used, so a restarted controller never gives a range twice. A node
    whose range lies outside the cluster CIDRs is logged and left alone (upstream stops the
    controller-manager instead).
 3. A Node with no ``spec.podCIDRs`` gets one block of each cluster CIDR, written with one patch
    of ``spec.podCIDR`` (the first) and ``spec.podCIDRs`` (all, in cluster-CIDR order), as the
    node controller's service account. A Node that has them keeps them (they are marked used:
    a node registered with its own ``--pod-cidr`` keeps that range).
 4. When a cluster CIDR has no free block, the Node gets nothing and an Event, reason
    ``CIDRNotAvailable``, message ``Node NAME status is now: CIDRNotAvailable`` (source
    ``cidrAllocator``), as ``RecordNodeStatusChange`` writes it; the node is tried again when it
    changes or when a range is released. A patch that fails releases the blocks, records
    ``CIDRAssignmentFailed`` and is retried with backoff.
 5. A deleted Node's ranges are released and can go to the next node.
"""

from __future__ import annotations

import ipaddress
import logging

from kubeward.api import meta as m
from kubeward.api.resources.core import NODES
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.cidrset import NO_CIDRS_REMAINING, CIDRSet, IPNetwork
from kubeward.controllers.events import NORMAL, EventRecorder
from kubeward.controllers.informer import Informer
from kubeward.controllers.nodeipam_config import NodeIpamConfig
from kubeward.errors import NotFound

log = logging.getLogger("kubeward.controllers.nodeipam")

EVENT_SOURCE = "cidrAllocator"
STRATEGIC = "application/strategic-merge-patch+json"


def node_pod_cidrs(node: m.JSONObject) -> list[str]:
    """A Node's ``spec.podCIDRs`` (or its ``spec.podCIDR`` alone, as older writers set it)."""
    spec = node.get("spec") or {}
    cidrs = [str(c) for c in spec.get("podCIDRs") or [] if c]
    if not cidrs and spec.get("podCIDR"):
        cidrs = [str(spec["podCIDR"])]
    return cidrs


class NodeIpamController(Controller):
    name = "node-ipam-controller"

    def __init__(self, nodes: Informer, client: APIClient, config: NodeIpamConfig) -> None:
        super().__init__(nodes)
        self.client = client
        self.config = config
        self.sets = [
            CIDRSet(cidr, size)
            for cidr, size in zip(config.cluster_cidrs, config.node_mask_sizes, strict=True)
        ]
        for service in config.service_cidrs:  # rule 1
            for cidr_set in self.sets:
                cidr_set.occupy(service)
        self.events = EventRecorder(client, EVENT_SOURCE)
        self.recovered = False
        # Ranges written but not yet seen in the cache, by node uid: a reconcile woken by an
        # older event must not give the node a second range.
        self.written: dict[str, list[IPNetwork]] = {}
        nodes.add_event_handler(on_delete=self._released)

    async def run(self) -> None:
        await self.informer.synced.wait()
        self.recover()
        await super().run()

    def recover(self) -> None:
        """Rule 2."""
        for node in list(self.informer.cache.values()):
            self._occupy(node)
        self.recovered = True

    def _occupy(self, node: m.JSONObject) -> None:
        for index, text in enumerate(node_pod_cidrs(node)):
            cidr = _network(text)
            if cidr is None or index >= len(self.sets) or not self.sets[index].occupy(cidr):
                log.error(
                    "node %s: pod CIDR %s is outside the cluster CIDRs %s; it is left alone",
                    m.metadata(node).get("name"),
                    text,
                    ",".join(str(c) for c in self.config.cluster_cidrs),
                )

    def _release(self, cidrs: list[IPNetwork]) -> None:
        for index, cidr in enumerate(cidrs):
            if index < len(self.sets):
                self.sets[index].release(cidr)

    def _released(self, node: m.JSONObject) -> None:
        """Rule 5, and rule 4's retry of nodes still waiting for a range."""
        if not self.recovered:
            return
        cidrs = [c for c in map(_network, node_pod_cidrs(node)) if c is not None]
        cidrs = cidrs or self.written.get(str(m.metadata(node).get("uid")), [])
        self.written.pop(str(m.metadata(node).get("uid")), None)
        if not cidrs:
            return
        self._release(cidrs)
        log.info("node %s deleted: released %s", m.metadata(node).get("name"), cidrs)
        for key, other in list(self.informer.cache.items()):
            if not node_pod_cidrs(other):
                self.queue.add(key)

    async def reconcile(self, key: str) -> float | None:
        """Rules 3 and 4."""
        node = self.cached(key)
        if node is None:
            return None
        uid = str(m.metadata(node).get("uid"))
        if node_pod_cidrs(node):
            self.written.pop(uid, None)
            self._occupy(node)
            return None
        if uid in self.written:
            return None
        name = str(m.metadata(node).get("name"))
        allocated: list[IPNetwork] = []
        for cidr_set in self.sets:
            block = cidr_set.allocate_next()
            if block is None:
                self._release(allocated)
                log.warning("node %s: %s (%s)", name, NO_CIDRS_REMAINING, cidr_set.cluster)
                self._status_change(node, "CIDRNotAvailable")
                return None
            allocated.append(block)
        texts = [str(c) for c in allocated]
        try:
            await self.client.patch(
                NODES,
                name,
                {"spec": {"podCIDR": texts[0], "podCIDRs": texts}},
                content_type=STRATEGIC,
            )
        except NotFound:
            self._release(allocated)
            return None
        except Exception:
            self._release(allocated)
            self._status_change(node, "CIDRAssignmentFailed")
            raise
        self.written[uid] = allocated
        log.info("node %s: set pod CIDRs %s", name, ",".join(texts))
        return None

    def _status_change(self, node: m.JSONObject, status: str) -> None:
        name = m.metadata(node).get("name")
        self.events.event(node, NODES, NORMAL, status, f"Node {name} status is now: {status}")


def _network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
