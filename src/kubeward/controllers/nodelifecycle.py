"""The node-lifecycle controller: a node that stops heartbeating is marked, tainted and emptied.

Rules (kube-controller-manager's ``node-lifecycle-controller`` with taint-based eviction,
1.32 defaults):
 1. A node's last heartbeat is its Lease's ``renewTime`` in ``kube-node-lease`` (or, without a
    Lease, its Ready condition's ``lastHeartbeatTime``). Every ``monitor_period`` (5 s) each
    node is looked at; once the heartbeat is older than ``grace_period`` (40 s) every condition
    is set ``Unknown`` with reason ``NodeStatusUnknown`` and message ``Kubelet stopped posting
    node status.``
 2. Taints follow Ready: Unknown → ``node.kubernetes.io/unreachable``, False →
    ``node.kubernetes.io/not-ready``, each with effects NoSchedule and NoExecute (``timeAdded``
    on NoExecute); True → neither. Other taints are left alone.
 3. Pods bound to a node with a NoExecute taint they do not tolerate are deleted at once; those
    that tolerate it for ``tolerationSeconds`` are deleted when that time has passed since the
    taint was added; those that tolerate it for ever stay.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import NODES, PODS
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.errors import Conflict, NotFound

log = logging.getLogger("kubeward.controllers.nodelifecycle")

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
STRATEGIC = "application/strategic-merge-patch+json"


def _time(text: object) -> datetime.datetime | None:
    return m.parse_time(text) if isinstance(text, str) and text else None


def _condition(node: m.JSONObject, kind: str) -> dict[str, Any]:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def tolerates(pod: m.JSONObject, taint: dict[str, Any]) -> tuple[bool, int | None]:
    """Whether ``pod`` tolerates ``taint``, and for how long (None: for ever)."""
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key, operator = toleration.get("key") or "", toleration.get("operator") or "Equal"
        if key and key != taint.get("key"):
            continue
        if operator != "Exists" and (
            not key or (toleration.get("value") or "") != (taint.get("value") or "")
        ):
            continue
        seconds = toleration.get("tolerationSeconds")
        return True, int(seconds) if isinstance(seconds, int) else None
    return False, None


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def __init__(
        self,
        nodes: Informer,
        leases: Informer,
        pods: Informer,
        client: APIClient,
        *,
        grace_period: float = 40.0,
        monitor_period: float = 5.0,
    ) -> None:
        super().__init__(nodes)
        self.leases = leases
        self.pods = pods
        self.client = client
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.depends_on(leases, pods)
        pods.add_event_handler(on_add=self._pod_arrived)

    def _pod_arrived(self, pod: m.JSONObject) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            self.queue.add(str(node))

    def heartbeat(self, node: m.JSONObject) -> datetime.datetime | None:
        """Rule 1's last heartbeat."""
        lease = self.leases.get(f"kube-node-lease/{m.name_of(node)}")
        renewed = _time(((lease or {}).get("spec") or {}).get("renewTime"))
        return renewed or _time(_condition(node, "Ready").get("lastHeartbeatTime"))

    async def reconcile(self, key: str) -> float | None:
        node = self.cached(key)
        if node is None:
            return None
        now = m.now()
        last = self.heartbeat(node)
        ready = _condition(node, "Ready").get("status", "Unknown")
        if (
            last is not None
            and (now - last).total_seconds() > self.grace_period
            and ready != "Unknown"
        ):
            await self._mark_unknown(node, now)
            ready = "Unknown"
        taints = await self._set_taints(node, ready, now)
        wait = await self._evict(key, taints, now)
        return min(self.monitor_period, wait) if wait is not None else self.monitor_period

    async def _mark_unknown(self, node: m.JSONObject, now: datetime.datetime) -> None:
        """Rule 1."""
        stamp = m.format_time(now)
        conditions = []
        for condition in (node.get("status") or {}).get("conditions") or []:
            conditions.append(
                {
                    **condition,
                    "status": "Unknown",
                    "reason": "NodeStatusUnknown",
                    "message": "Kubelet stopped posting node status.",
                    "lastTransitionTime": stamp,
                }
            )
        with_ready = (
            conditions
            if any(c.get("type") == "Ready" for c in conditions)
            else [
                *conditions,
                {
                    "type": "Ready",
                    "status": "Unknown",
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastTransitionTime": stamp,
                },
            ]
        )
        await self.client.patch(
            NODES,
            m.name_of(node),
            {"status": {"conditions": with_ready}},
            subresource="status",
            content_type=STRATEGIC,
        )
        log.info("node %s: heartbeat lost, marked Unknown", m.name_of(node))

    async def _set_taints(
        self, node: m.JSONObject, ready: str, now: datetime.datetime
    ) -> list[dict[str, Any]]:
        """Rule 2: the node's NoExecute taints after this pass."""
        current = [dict(t) for t in (node.get("spec") or {}).get("taints") or []]
        key = {"Unknown": UNREACHABLE, "False": NOT_READY}.get(ready)
        kept = [
            t
            for t in current
            if t.get("key") not in (UNREACHABLE, NOT_READY) or t.get("key") == key
        ]
        if key is not None:
            for effect in ("NoSchedule", "NoExecute"):
                if not any(t.get("key") == key and t.get("effect") == effect for t in kept):
                    taint: dict[str, Any] = {"key": key, "effect": effect}
                    if effect == "NoExecute":
                        taint["timeAdded"] = m.format_time(now)
                    kept.append(taint)
        if kept != current:
            try:
                await self.client.patch(
                    NODES,
                    m.name_of(node),
                    {"spec": {"taints": kept}},
                    content_type="application/merge-patch+json",
                )
            except (NotFound, Conflict):
                return []
        return [t for t in kept if t.get("effect") == "NoExecute"]

    async def _evict(
        self, node_name: str, taints: list[dict[str, Any]], now: datetime.datetime
    ) -> float | None:
        """Rule 3; the seconds until the next toleration runs out, if any."""
        if not taints:
            return None
        soonest: float | None = None
        on_node = [
            p
            for p in list(self.pods.cache.values())
            if (p.get("spec") or {}).get("nodeName") == node_name
        ]
        for pod in on_node:
            if m.metadata(pod).get("deletionTimestamp"):
                continue
            remaining: float | None = None  # None: every taint tolerated for ever
            evict = False
            for taint in taints:
                ok, seconds = tolerates(pod, taint)
                if not ok:
                    evict = True
                    break
                if seconds is not None:
                    added = _time(taint.get("timeAdded")) or now
                    left = seconds - (now - added).total_seconds()
                    remaining = left if remaining is None else min(remaining, left)
            if not evict and (remaining is None or remaining > 0):
                if remaining is not None:
                    soonest = remaining if soonest is None else min(soonest, remaining)
                continue
            with contextlib.suppress(NotFound):
                await self.client.delete(
                    PODS,
                    m.name_of(pod),
                    m.namespace_of(pod),
                    uid=str(m.metadata(pod).get("uid", "")),
                )
                log.info(
                    "node %s: evicted pod %s/%s (NoExecute taint)",
                    node_name,
                    m.namespace_of(pod),
                    m.name_of(pod),
                )
        return soonest
