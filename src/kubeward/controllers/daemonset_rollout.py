"""A DaemonSet's rolling update: which nodes get a new pod and which old pods go
(``pkg/controller/daemon/update.go``'s ``rollingUpdate``), as a pure function of what the
controller's caches hold.

Rules:

 1. ``maxUnavailable`` (default 1) and ``maxSurge`` (default 0) are scaled on the number of
    nodes that should run the pod, rounded up; when both come to 0, one pod may be unavailable.
 2. Without surge: a node counts as unavailable when it has no available pod. An old pod
    (its ``controller-revision-hash`` is not the update revision's) that is not available is
    deleted at once; available old pods are deleted while the unavailable count stays below
    ``maxUnavailable``.
 3. With surge: a node whose only pods are old gets a new pod — at once when its old pod is
    unavailable, else while fewer than ``maxSurge`` nodes are surging. A node with a new
    available pod has its old pods deleted.
"""

from __future__ import annotations

import datetime

from kubeward.api import meta as m
from kubeward.controllers import history, ownership, podstate
from kubeward.controllers.deployment_util import scaled


def limits(ds: m.JSONObject, desired: int) -> tuple[int, int]:
    """Rule 1: (maxUnavailable, maxSurge)."""
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    unavailable = scaled(rolling.get("maxUnavailable", 1), desired, True)
    surge = scaled(rolling.get("maxSurge", 0), desired, True)
    if unavailable == 0 and surge == 0:
        unavailable = 1
    return unavailable, surge


def rolling_update(
    ds: m.JSONObject,
    nodes: list[tuple[str, bool]],
    by_node: dict[str, list[m.JSONObject]],
    update_hash: str,
    now: datetime.datetime,
) -> tuple[list[str], list[m.JSONObject]]:
    """Rules 2 and 3: (nodes to create a pod on, pods to delete).

    ``nodes`` are the nodes where the pod should continue running, with whether it should run.
    """
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)

    def available(pod: m.JSONObject) -> bool:
        return podstate.is_available(pod, min_ready, now)

    def live(node: str) -> list[m.JSONObject]:
        return [p for p in by_node.get(node, []) if not ownership.is_deleting(p)]

    max_unavailable, max_surge = limits(ds, sum(1 for _, run in nodes if run))
    create: list[str] = []
    delete: list[m.JSONObject] = []
    if max_surge == 0:
        unavailable = 0
        candidates: list[m.JSONObject] = []
        for node, _ in nodes:
            pods = live(node)
            if not any(available(p) for p in pods):
                unavailable += 1
            for pod in pods:
                if history.hash_of_pod(pod) == update_hash:
                    continue
                (candidates if available(pod) else delete).append(pod)
        for pod in candidates:
            if unavailable >= max_unavailable:
                break
            delete.append(pod)
            unavailable += 1
        return create, delete
    surging = 0
    waiting: list[tuple[bool, str]] = []
    for node, _ in nodes:
        pods = live(node)
        new = [p for p in pods if history.hash_of_pod(p) == update_hash]
        old = [p for p in pods if history.hash_of_pod(p) != update_hash]
        if not old:
            continue
        if not new:
            waiting.append((any(available(p) for p in old), node))
        elif any(available(p) for p in new):
            delete.extend(old)
        else:
            surging += 1
    for old_available, node in sorted(waiting):
        if old_available and surging >= max_surge:
            break
        create.append(node)
        surging += 1
    return create, delete
