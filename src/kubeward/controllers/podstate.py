"""What the workload controllers read from a pod: active, ready, available, and which pods
to delete first (``pkg/controller/controller_utils.go`` and ``pkg/api/v1/pod``).

Rules:

 1. A pod is *active* unless it has ended (phase ``Succeeded`` or ``Failed``) or is being
    deleted (``deletionTimestamp`` set).
 2. A pod is *ready* when its ``Ready`` condition is ``True``; *available* when it has been
    ready for at least ``minReadySeconds`` (measured from the condition's
    ``lastTransitionTime``).
 3. Surplus pods are deleted in this order (``ActivePodsWithRanks``): unscheduled before
    scheduled; Pending, then Unknown, then Running; not ready before ready; more pods of the
    same owner on its node first; ready for less time first; more container restarts first;
    newer (later ``creationTimestamp``) first.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence

from kubeward.api import meta as m

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
_FAR_PAST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def is_active(pod: m.JSONObject) -> bool:
    """Rule 1."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not m.metadata(pod).get("deletionTimestamp")


def ready_condition(pod: m.JSONObject) -> m.JSONObject | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: m.JSONObject) -> bool:
    """Rule 2."""
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: m.JSONObject) -> datetime.datetime | None:
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return m.parse_time(str(cond.get("lastTransitionTime") or "")) or _FAR_PAST


def is_available(pod: m.JSONObject, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Rule 2."""
    since = ready_since(pod)
    if since is None:
        return False
    if min_ready_seconds <= 0:
        return True
    return since + datetime.timedelta(seconds=min_ready_seconds) <= now


def seconds_until_available(
    pod: m.JSONObject, min_ready_seconds: int, now: datetime.datetime
) -> float | None:
    """How long a ready pod still waits to count as available (None: not ready, or already)."""
    since = ready_since(pod)
    if since is None or min_ready_seconds <= 0:
        return None
    left = (since + datetime.timedelta(seconds=min_ready_seconds) - now).total_seconds()
    return left if left > 0 else None


def _restarts(pod: m.JSONObject) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def deletion_order(pods: Sequence[m.JSONObject], now: datetime.datetime) -> list[m.JSONObject]:
    """Rule 3: ``pods`` sorted, the first to delete first."""
    per_node = Counter(str((p.get("spec") or {}).get("nodeName") or "") for p in pods)

    def rank(pod: m.JSONObject) -> tuple[int, int, int, int, float, int, float]:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        phase = str((pod.get("status") or {}).get("phase") or "Pending")
        since = ready_since(pod)
        ready_for = (now - since).total_seconds() if since is not None else 0.0
        created = m.parse_time(str(m.metadata(pod).get("creationTimestamp") or ""))
        return (
            1 if node else 0,
            _PHASE_RANK.get(phase, 0),
            1 if is_ready(pod) else 0,
            -per_node[node] if node else 0,
            ready_for,
            -_restarts(pod),
            -(created or now).timestamp(),
        )

    return sorted(pods, key=rank)
