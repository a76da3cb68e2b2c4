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
    with the same message, as ``kubectl describe pod`` shows them.
 6. Preemption (``scheduler.preemption``) then looks for pods of lower priority whose removal
    lets it fit. When it finds them, each victim is marked ``DisruptionTarget`` (reason
    ``PreemptionByScheduler``), deleted with its grace period and given a ``Preempted`` Event;
    lower-priority pods nominated to that node lose their nomination, and the pod gets
    ``status.nominatedNodeName``. When it cannot, why is appended to the message after
    ``preemption:``, as kube-scheduler words it.
 7. A nominated pod holds its place: on its node, the requests of pending pods nominated there
    with at least its priority count as used, and it is bound to its nominated node when that
    node fits. Pods are taken highest priority first, then in the order they came, as
    kube-scheduler's active queue; every candidate node is dry-run (kube-scheduler samples at
    most 100).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from fractions import Fraction
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import NODES, PODS
from kubeward.api.resources.policy import PODDISRUPTIONBUDGETS
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.informer import Informer
from kubeward.controllers.queue import WorkQueue
from kubeward.controllers.sources import ClientSource
from kubeward.errors import Conflict, NotFound
from kubeward.scheduler.filters import FILTERS, allocatable, resources_fit
from kubeward.scheduler.messages import fit_error
from kubeward.scheduler.podinfo import is_terminal, pod_requests
from kubeward.scheduler.preemption import (
    NOT_HELPFUL,
    PREEMPTED_REASON,
    Candidate,
    not_eligible,
    pick,
    priority,
    select_victims,
)

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


class Nominations:
    """Rule 7: the pending pods nominated to a node, with their priority and requests."""

    def __init__(self) -> None:
        self._pods: dict[str, tuple[str, int, dict[str, Fraction]]] = {}

    def observe(self, pod: JSONObject | None, key: str) -> None:
        node = ((pod or {}).get("status") or {}).get("nominatedNodeName")
        if pod is None or not node or not is_pending(pod):
            self._pods.pop(key, None)
        else:
            self._pods[key] = (str(node), priority(pod), pod_requests(pod))

    def held(self, node: str, key: str, at_least: int) -> dict[str, Fraction]:
        """What pods other than ``key`` nominated to ``node`` with priority ``at_least`` ask."""
        total: dict[str, Fraction] = {}
        for other, (where, prio, requests) in self._pods.items():
            if where == node and other != key and prio >= at_least:
                for name, value in requests.items():
                    total[name] = total.get(name, Fraction(0)) + value
        return total

    def lower_on(self, node: str, below: int) -> list[str]:
        return [k for k, (where, prio, _) in self._pods.items() if where == node and prio < below]


def _less(free: dict[str, Fraction], held: dict[str, Fraction]) -> dict[str, Fraction]:
    if not held:
        return free
    return {name: value - held.get(name, Fraction(0)) for name, value in free.items()}


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
        self.budgets = Informer(ClientSource(client, PODDISRUPTIONBUDGETS), resync=resync)
        super().__init__(self.pods)
        self.depends_on(self.nodes, self.budgets)
        self.usage = NodeUsage()
        self.nominations = Nominations()
        self.events = EventRecorder(client, SCHEDULER_NAME)
        self.queue = WorkQueue(priority=self._priority_of)  # rule 7
        self.unschedulable: set[str] = set()
        self.retry_unschedulable = retry_unschedulable
        self.pods.add_listener(lambda key, obj: self.usage.observe(obj, key))
        self.pods.add_listener(lambda key, obj: self.nominations.observe(obj, key))
        self.pods.add_event_handler(on_delete=lambda _: self._requeue())
        self.nodes.add_listener(self._node_changed)

    def _priority_of(self, key: str) -> int:
        pod = self.pods.cache.get(key)
        return priority(pod) if pod is not None else 0

    def _node_changed(self, key: str, node: JSONObject | None) -> None:
        if node is None:
            self.usage.forget_node(key)
        self._requeue()

    def _requeue(self) -> None:
        """Rule 2: the cluster changed; pods that did not fit may fit now."""
        for key in list(self.unschedulable):
            self.queue.add(key)

    async def run(self) -> None:
        informers = [asyncio.create_task(i.run()) for i in (self.pods, self.nodes, self.budgets)]
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
        mine = priority(pod)
        nominated = (pod.get("status") or {}).get("nominatedNodeName") or ""
        refusals: dict[str, str] = {}
        resolvable: list[JSONObject] = []  # refused only for resources (rule 6)
        best: tuple[tuple[Any, ...], JSONObject] | None = None
        for node in nodes:
            name = m.metadata(node).get("name", "")
            free = _less(self.usage.free(node), self.nominations.held(name, key, mine))
            refusal = next(((f, r) for f in FILTERS if (r := f(pod, node, free))), None)
            if refusal:
                refusals[name] = refusal[1]
                if refusal[0] is resources_fit:
                    resolvable.append(node)
                continue
            if name == nominated:
                best = ((True,), node)  # rule 7: its nominated node first
                break
            score = self.usage.score(node, requests)
            if best is None or score > best[0]:
                best = (score, node)
        if best is not None:
            await self._bind(key, pod, m.metadata(best[1])["name"])
            return None
        message = fit_error(len(nodes), refusals.values())
        nomination: str | None = None
        if nodes:
            nomination, why = await self._preempt(key, pod, len(nodes), refusals, resolvable)
            if why:
                message += f" preemption: {why}."
        await self._unschedulable(pod, message, nomination)
        self.unschedulable.add(key)
        return self.retry_unschedulable

    async def _preempt(
        self,
        key: str,
        pod: JSONObject,
        node_count: int,
        refusals: dict[str, str],
        resolvable: list[JSONObject],
    ) -> tuple[str | None, str]:
        """Rule 6: (the node to nominate, "" to clear, None to keep; why preemption failed)."""
        nominated = (pod.get("status") or {}).get("nominatedNodeName") or ""
        on_node: dict[str, list[JSONObject]] = {}
        for other in self.pods.cache.values():
            where = (other.get("spec") or {}).get("nodeName")
            if where and not is_terminal(other):
                on_node.setdefault(str(where), []).append(other)
        unresolvable = nominated in refusals and all(
            m.metadata(n).get("name") != nominated for n in resolvable
        )
        refused = not_eligible(pod, on_node.get(nominated, []), unresolvable)
        if refused:
            return None, refused
        budgets = list(self.budgets.cache.values())
        mine = priority(pod)
        candidates: list[Candidate] = []
        reasons = [NOT_HELPFUL] * (node_count - len(resolvable))
        for node in resolvable:
            name = m.metadata(node).get("name", "")
            free = _less(self.usage.free(node), self.nominations.held(name, key, mine))
            found = select_victims(pod, node, free, on_node.get(name, []), budgets, resources_fit)
            if isinstance(found, Candidate):
                candidates.append(found)
            else:
                reasons.append(found)
        if not candidates:
            return "", fit_error(node_count, reasons)
        chosen = pick(candidates)
        for victim in chosen.victims:
            await self._preempt_victim(pod, victim, chosen.node)
        for lower in self.nominations.lower_on(chosen.node, mine):
            if lower != key:
                await self._nominate(lower, "")
        log.info("%s preempts %d pod(s) on %s", key, len(chosen.victims), chosen.node)
        return chosen.node, ""

    async def _preempt_victim(self, pod: JSONObject, victim: JSONObject, node: str) -> None:
        """Rule 6, for one victim (one already being deleted is left alone, as upstream)."""
        meta = m.metadata(victim)
        if meta.get("deletionTimestamp"):
            return
        scheduler = (pod.get("spec") or {}).get("schedulerName") or SCHEDULER_NAME
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": PREEMPTED_REASON,
            "message": f"{scheduler}: preempting to accommodate a higher priority pod",
            "lastTransitionTime": m.format_time(m.now()),
        }
        try:
            await self._set_condition(victim, condition)
            await self.client.delete(PODS, meta["name"], meta["namespace"], uid=meta.get("uid", ""))
        except NotFound:
            return  # already gone
        uid = m.metadata(pod).get("uid", "")
        self.events.event(
            victim, PODS, NORMAL, "Preempted", f"Preempted by pod {uid} on node {node}"
        )

    async def _set_condition(self, pod: JSONObject, condition: JSONObject) -> None:
        """One condition of the pod's status, merged by type (a strategic-merge patch)."""
        meta = m.metadata(pod)
        await self.client.patch(
            PODS,
            meta["name"],
            {"status": {"conditions": [condition]}},
            namespace=meta["namespace"],
            subresource="status",
            content_type="application/strategic-merge-patch+json",
        )

    async def _nominate(self, key: str, node: str) -> None:
        namespace, _, name = key.partition("/")
        with contextlib.suppress(NotFound):
            await self.client.patch(
                PODS,
                name,
                {"status": {"nominatedNodeName": node or None}},
                namespace=namespace,
                subresource="status",
            )

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
        self.events.event(pod, PODS, NORMAL, "Scheduled", f"Successfully assigned {key} to {node}")

    async def _unschedulable(
        self, pod: JSONObject, message: str, nomination: str | None = None
    ) -> None:
        """Rule 5; ``nomination`` is rule 6's node ("" clears it, None keeps it)."""
        meta = m.metadata(pod)
        status = pod.get("status") or {}
        conditions = status.get("conditions") or []
        current: JSONObject = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
        renominate = nomination is not None and nomination != (
            status.get("nominatedNodeName") or ""
        )
        if renominate:
            await self._nominate(f"{meta['namespace']}/{meta['name']}", nomination or "")
        if current.get("status") != "False" or current.get("message") != message:
            condition = {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": m.format_time(m.now()),
            }
            await self._set_condition(pod, condition)
            self.events.event(pod, PODS, WARNING, "FailedScheduling", message)
        log.info("%s/%s: %s", meta["namespace"], meta["name"], message)
