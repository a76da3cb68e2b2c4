"""kube-scheduler, reduced to its filters: bind each pending pod to a node that can run it.

Rules:
 1. It is an ordinary client (``CN=system:kube-scheduler``, the bootstrap role
    ``system:kube-scheduler``): it lists and watches pods and nodes, binds with the
    ``pods/binding`` subresource, and writes pod status and Events.
 2. A pod is pending when it has no ``spec.nodeName``, asks for ``default-scheduler`` (or no
    scheduler), is not terminal and not being deleted. Pending pods are queued on every
    change; when nodes or pods change, the pods that did not fit are queued again, and they
    are retried every ``retry_unschedulable`` seconds anyway.
 3. Every node is run through the filters (``scheduler.filters``); among the nodes that pass,
    the one with the most free capacity left after the pod (cpu and memory, in proportion to
    allocatable; then the fewest pods; then the name) wins: the spreading of kube-scheduler's
    default ``LeastAllocated`` and ``PodTopologySpread`` scores, deterministically.
 4. What each node's pods request is kept up to date from the pods informer; a pod just bound
    counts on its node at once (kube-scheduler's "assumed" pods) until the watch shows it.
    Each node's allocatable is parsed once per resourceVersion of the node, and its free
    capacity worked out again only when the node or its pods change, not once per pod (every
    pod visits every node: at 100 nodes, redoing it each time was most of the cost).
 5. A pod that fits nowhere gets ``PodScheduled=False`` with reason ``Unschedulable`` and the
    fit error as message (``scheduler.messages``), and a Warning Event ``FailedScheduling``
    with the same message, as ``kubectl describe pod`` shows them. Preemption is not done.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from fractions import Fraction
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import EVENTS, NODES, PODS
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource
from kubeward.errors import Conflict, NotFound
from kubeward.scheduler.filters import FILTERS, allocatable
from kubeward.scheduler.messages import fit_error
from kubeward.scheduler.podinfo import is_terminal, pod_requests

log = logging.getLogger("kubeward.scheduler")

SCHEDULER_NAME = "default-scheduler"
JSONObject = dict[str, Any]
SCORED = ("cpu", "memory")  # the resources rule 3 spreads by


def is_pending(pod: JSONObject) -> bool:
    """Rule 2."""
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and spec.get("schedulerName", SCHEDULER_NAME) in ("", SCHEDULER_NAME)
        and not is_terminal(pod)
        and not m.metadata(pod).get("deletionTimestamp")
    )


class NodeUsage:
    """Rule 4: what the pods on each node request."""

    def __init__(self) -> None:
        self._pods: dict[str, tuple[str, dict[str, Fraction]]] = {}
        self.by_node: dict[str, dict[str, Fraction]] = {}
        self._allocatable: dict[str, tuple[str, dict[str, Fraction]]] = {}
        # Per node: how often its usage changed, and free/share as of (version, changes).
        self._changes: dict[str, int] = {}
        self._free: dict[str, tuple[tuple[str, int], dict[str, Fraction], Fraction]] = {}

    def _add(self, key: str, node: str, requests: dict[str, Fraction]) -> None:
        self._pods[key] = (node, requests)
        self._changes[node] = self._changes.get(node, 0) + 1
        used = self.by_node.setdefault(node, {})
        for name, value in requests.items():
            used[name] = used.get(name, Fraction(0)) + value

    def forget(self, key: str) -> None:
        found = self._pods.pop(key, None)
        if found is None:
            return
        node, requests = found
        self._changes[node] = self._changes.get(node, 0) + 1
        used = self.by_node.get(node, {})
        for name, value in requests.items():
            used[name] = used.get(name, Fraction(0)) - value

    def observe(self, pod: JSONObject | None, key: str) -> None:
        """The pod's current state (None: deleted)."""
        node = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node or is_terminal(pod):
            self.forget(key)
            return
        if self._pods.get(key, ("",))[0] == node:
            return
        self.forget(key)
        self._add(key, str(node), pod_requests(pod))

    def assume(self, key: str, pod: JSONObject, node: str) -> None:
        self.forget(key)
        self._add(key, node, pod_requests(pod))

    def allocatable(self, node: JSONObject) -> dict[str, Fraction]:
        """The node's allocatable, parsed once per resourceVersion (rule 4)."""
        meta = m.metadata(node)
        name, version = str(meta.get("name", "")), str(meta.get("resourceVersion", ""))
        known = self._allocatable.get(name)
        if known is not None and version and known[0] == version:
            return known[1]
        parsed = allocatable(node)
        self._allocatable[name] = (version, parsed)
        return parsed

    def forget_node(self, name: str) -> None:
        self._allocatable.pop(name, None)
        self._free.pop(name, None)

    def free(self, node: JSONObject) -> dict[str, Fraction]:
        """The node's allocatable minus what its pods request (shared: do not change it)."""
        return self._free_and_share(node)[0]

    def _free_and_share(self, node: JSONObject) -> tuple[dict[str, Fraction], Fraction]:
        """``free``, and the share of cpu and memory left (rule 3's score before the pod).

        Kept until the node or its pods change (rule 4): a pod changes one node's usage, and
        every other node's figures are reused for the next pod.
        """
        meta = m.metadata(node)
        name, version = str(meta.get("name", "")), str(meta.get("resourceVersion", ""))
        key = (version, self._changes.get(name, 0))
        known = self._free.get(name)
        if known is not None and version and known[0] == key:
            return known[1], known[2]
        total = self.allocatable(node)
        used = self.by_node.get(name, {})
        zero = Fraction(0)
        free = {resource: value - used.get(resource, zero) for resource, value in total.items()}
        share = sum((free[r] / total[r] for r in SCORED if total.get(r)), zero)
        self._free[name] = (key, free, share)
        return free, share

    def score(self, node: JSONObject, requests: dict[str, Fraction]) -> tuple[Any, ...]:
        """Rule 3: higher is better."""
        free, left = self._free_and_share(node)
        total = self.allocatable(node)
        for resource in SCORED:
            wanted = requests.get(resource)
            if wanted and total.get(resource):
                left -= wanted / total[resource]
        return (left, free.get("pods", Fraction(0)), m.metadata(node).get("name", ""))


class Scheduler(Controller):
    name = "scheduler"

    def __init__(
        self,
        client: APIClient,
        *,
        resync: float = 300.0,
        retry_unschedulable: float = 30.0,
    ) -> None:
        self.client = client
        self.pods = Informer(ClientSource(client, PODS), resync=resync)
        self.nodes = Informer(ClientSource(client, NODES), resync=resync)
        super().__init__(self.pods)
        self.depends_on(self.nodes)
        self.usage = NodeUsage()
        self.unschedulable: set[str] = set()
        self.retry_unschedulable = retry_unschedulable
        self.pods.add_listener(lambda key, obj: self.usage.observe(obj, key))
        self.pods.add_event_handler(on_delete=lambda _: self._requeue())
        self.nodes.add_listener(self._node_changed)

    def _node_changed(self, key: str, node: JSONObject | None) -> None:
        if node is None:
            self.usage.forget_node(key)
        self._requeue()

    def _requeue(self) -> None:
        """Rule 2: the cluster changed; pods that did not fit may fit now."""
        for key in list(self.unschedulable):
            self.queue.add(key)

    async def run(self) -> None:
        informers = [asyncio.create_task(i.run()) for i in (self.pods, self.nodes)]
        try:
            await super().run()
        finally:
            for task in informers:
                task.cancel()

    async def reconcile(self, key: str) -> float | None:
        pod = self.cached(key)
        if pod is None or not is_pending(pod):
            self.unschedulable.discard(key)
            return None
        nodes = list(self.nodes.cache.values())
        requests = pod_requests(pod)
        reasons: list[str] = []
        best: tuple[tuple[Any, ...], JSONObject] | None = None
        for node in nodes:
            free = self.usage.free(node)
            reason = next((r for r in (f(pod, node, free) for f in FILTERS) if r), None)
            if reason:
                reasons.append(reason)
                continue
            score = self.usage.score(node, requests)
            if best is None or score > best[0]:
                best = (score, node)
        if best is None:
            message = fit_error(len(nodes), reasons)
            await self._unschedulable(pod, message)
            self.unschedulable.add(key)
            return self.retry_unschedulable
        await self._bind(key, pod, m.metadata(best[1])["name"])
        return None

    async def _bind(self, key: str, pod: JSONObject, node: str) -> None:
        meta = m.metadata(pod)
        self.usage.assume(key, pod, node)
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        path = APIClient.path(PODS, meta["namespace"], meta["name"], "binding")
        try:
            await self.client.create_raw(path, binding)
        except (Conflict, NotFound):
            self.usage.forget(key)  # bound elsewhere or gone: the watch will say which
            return
        except Exception:
            self.usage.forget(key)
            raise
        self.unschedulable.discard(key)
        log.info("bound %s to %s", key, node)
        await self._event(pod, "Normal", "Scheduled", f"Successfully assigned {key} to {node}")

    async def _unschedulable(self, pod: JSONObject, message: str) -> None:
        """Rule 5."""
        meta = m.metadata(pod)
        conditions = (pod.get("status") or {}).get("conditions") or []
        current: JSONObject = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
        if current.get("status") != "False" or current.get("message") != message:
            condition = {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": m.format_time(m.now()),
            }
            await self.client.patch(
                PODS,
                meta["name"],
                {"status": {"conditions": [condition]}},
                namespace=meta["namespace"],
                subresource="status",
                content_type="application/strategic-merge-patch+json",
            )
            await self._event(pod, "Warning", "FailedScheduling", message)
        log.info("%s/%s: %s", meta["namespace"], meta["name"], message)

    async def _event(self, pod: JSONObject, kind: str, reason: str, message: str) -> None:
        meta = m.metadata(pod)
        stamp = m.format_time(m.now())
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": meta["namespace"],
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": SCHEDULER_NAME},
            "reportingComponent": SCHEDULER_NAME,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            await self.client.create(EVENTS, event, meta["namespace"])
        except Exception as exc:  # an event is best effort, as client-go's recorder
            log.warning("event for %s/%s not recorded: %s", meta["namespace"], meta["name"], exc)
