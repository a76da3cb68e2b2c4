"""The arithmetic of a Deployment rollout, as ``pkg/controller/deployment/util`` defines it.

Rules:

 1. A ReplicaSet belongs to the current template when its template equals the Deployment's,
    ignoring the ``pod-template-hash`` label. Its name is ``<deployment>-<hash>``: the hash is
    FNV-1a (32 bits) of the template (kubeward hashes its canonical JSON, Kubernetes its Go
    dump, so the strings differ from Kubernetes' own) plus ``status.collisionCount``, written
    with the alphabet of ``rand.SafeEncodeString``.
 2. Revisions live in the ``deployment.kubernetes.io/revision`` annotation of each
    ReplicaSet; a new ReplicaSet (or one brought back by an undo) gets the highest old
    revision plus one, and the Deployment carries the revision of its new ReplicaSet.
 3. ``maxSurge`` rounds percentages up, ``maxUnavailable`` down, of ``spec.replicas``; when both
    come to zero, ``maxUnavailable`` is one.
 4. A Deployment is *complete* when every replica is updated and available and no old one
    remains, for the generation it observed. It is *progressing* when, compared with its last
    status, more replicas are updated, ready or available, or fewer old ones remain. It has
    *timed out* when its ``Progressing`` condition was last updated more than
    ``progressDeadlineSeconds`` ago (or already says ``ProgressDeadlineExceeded``).
 5. ``Available`` is ``True`` (``MinimumReplicasAvailable``) when available replicas reach
    ``spec.replicas - maxUnavailable``, else ``False`` (``MinimumReplicasUnavailable``).
"""

from __future__ import annotations

import copy
import datetime
import math
from collections.abc import Iterable
from typing import Any

import orjson

from kubeward.api import meta as m

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NOT_COPIED = {
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}
_SAFE = "bcdfghjklmnpqrstvwxz2456789"

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
RS_UPDATED = "ReplicaSetUpdated"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


def spec(obj: m.JSONObject) -> m.JSONObject:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def replicas(obj: m.JSONObject) -> int:
    return int(spec(obj).get("replicas", 1))


def status_int(obj: m.JSONObject, name: str) -> int:
    return int((obj.get("status") or {}).get(name) or 0)


def template_hash(template: m.JSONObject, collision_count: int | None) -> str:
    """Rule 1."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in str(value))


def _without_hash(template: m.JSONObject) -> m.JSONObject:
    copied = copy.deepcopy(template)
    labels = (copied.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            copied["metadata"].pop("labels")
    meta = copied.get("metadata")
    if isinstance(meta, dict) and not meta:
        copied.pop("metadata")
    return copied


def equal_ignore_hash(a: m.JSONObject, b: m.JSONObject) -> bool:
    """Rule 1."""
    return _without_hash(a) == _without_hash(b)


def revision(obj: m.JSONObject) -> int:
    """Rule 2 (0 when absent or not a number)."""
    text = str((m.metadata(obj).get("annotations") or {}).get(REVISION) or "0")
    return int(text) if text.isdigit() else 0


def copyable_annotations(deployment: m.JSONObject) -> dict[str, str]:
    """The Deployment's annotations a ReplicaSet carries too (``skipCopyAnnotation``)."""
    annotations = m.metadata(deployment).get("annotations") or {}
    return {k: str(v) for k, v in annotations.items() if k not in _NOT_COPIED}


def scaled(value: Any, total: int, round_up: bool) -> int:
    """``GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "0")
    if text.endswith("%") and text[:-1].isdigit():
        exact = int(text[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text) if text.isdigit() else 0


def fenceposts(deployment: m.JSONObject) -> tuple[int, int]:
    """Rule 3: (maxSurge, maxUnavailable) in pods."""
    strategy = spec(deployment).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    desired = replicas(deployment)
    surge = scaled(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(deployment: m.JSONObject) -> int:
    desired = replicas(deployment)
    if desired == 0:
        return 0
    return min(fenceposts(deployment)[1], desired)


def condition(status: m.JSONObject, kind: str) -> m.JSONObject | None:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def set_condition(status: m.JSONObject, new: m.JSONObject) -> None:
    """``SetDeploymentCondition``: same status and reason keeps the old condition; the same
    status keeps the old transition time."""
    current = condition(status, new["type"])
    if current is not None and current.get("status") == new["status"]:
        if current.get("reason") == new["reason"]:
            return
        new["lastTransitionTime"] = current.get("lastTransitionTime", new["lastTransitionTime"])
    others = [c for c in status.get("conditions") or [] if c.get("type") != new["type"]]
    status["conditions"] = [*others, new]


def remove_condition(status: m.JSONObject, kind: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def new_condition(kind: str, state: str, reason: str, message: str) -> m.JSONObject:
    now = m.format_time(m.now())
    return {
        "type": kind,
        "status": state,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def calculate_status(
    deployment: m.JSONObject, all_rs: Iterable[m.JSONObject], new_rs: m.JSONObject | None
) -> m.JSONObject:
    """``calculateStatus`` with rule 5."""
    sets = list(all_rs)
    available = sum(status_int(rs, "availableReplicas") for rs in sets)
    desired = replicas(deployment)
    old = deployment.get("status") or {}
    status: m.JSONObject = {
        "observedGeneration": int(m.metadata(deployment).get("generation") or 1),
        "replicas": sum(status_int(rs, "replicas") for rs in sets),
        "updatedReplicas": status_int(new_rs, "replicas") if new_rs is not None else 0,
        "readyReplicas": sum(status_int(rs, "readyReplicas") for rs in sets),
        "availableReplicas": available,
        "unavailableReplicas": max(desired - available, 0),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = copy.deepcopy(old["conditions"])
    if available >= desired - max_unavailable(deployment):
        cond = new_condition(
            AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability."
        )
    else:
        cond = new_condition(
            AVAILABLE, "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability."
        )
    set_condition(status, cond)
    return status


def is_complete(deployment: m.JSONObject, status: m.JSONObject) -> bool:
    """Rule 4."""
    desired = replicas(deployment)
    return (
        int(status.get("updatedReplicas") or 0) == desired
        and int(status.get("replicas") or 0) == desired
        and int(status.get("availableReplicas") or 0) == desired
        and int(status.get("observedGeneration") or 0)
        >= int(m.metadata(deployment).get("generation") or 1)
    )


def is_progressing(deployment: m.JSONObject, status: m.JSONObject) -> bool:
    """Rule 4."""
    old = deployment.get("status") or {}

    def get(s: m.JSONObject, name: str) -> int:
        return int(s.get(name) or 0)

    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(status, "replicas") - get(status, "updatedReplicas")
    return (
        get(status, "updatedReplicas") > get(old, "updatedReplicas")
        or new_old < old_old
        or get(status, "readyReplicas") > get(old, "readyReplicas")
        or get(status, "availableReplicas") > get(old, "availableReplicas")
    )


def progress_deadline(deployment: m.JSONObject) -> int | None:
    value = spec(deployment).get("progressDeadlineSeconds")
    if not isinstance(value, int) or value >= 2**31 - 1:
        return None
    return value


def seconds_to_deadline(deployment: m.JSONObject, status: m.JSONObject) -> float | None:
    """Rule 4: seconds until the deadline passes (<= 0: passed); None without one."""
    deadline = progress_deadline(deployment)
    cond = condition(status, PROGRESSING)
    if deadline is None or cond is None:
        return None
    if cond.get("reason") == TIMED_OUT:
        return 0.0
    since = m.parse_time(str(cond.get("lastUpdateTime") or ""))
    if since is None:
        return None
    return (since + datetime.timedelta(seconds=deadline) - m.now()).total_seconds()
