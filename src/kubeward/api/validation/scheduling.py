"""Validation of scheduling.k8s.io/v1 PriorityClass and the two system classes.

From ``pkg/apis/scheduling`` (``types.go``, ``helpers.go``, ``validation/validation.go``) and
the ``scheduling/bootstrap-system-priority-classes`` post-start hook:

 1. The API server creates ``system-node-critical`` (2000001000) and
    ``system-cluster-critical`` (2000000000) at start when they are absent; neither is a
    global default and both preempt lower priorities.
 2. A name starting ``system-`` must be one of those, with their value and ``globalDefault``
    (403-worded Forbidden cause on ``metadata.name``).
 3. A user class's ``value`` is at most 1000000000 (``HighestUserDefinablePriority``).
 4. ``preemptionPolicy`` is PreemptLowerPriority (the default) or Never.
 5. On update ``value`` may not change and ``preemptionPolicy`` is immutable; system classes
    cannot be deleted (refused by the strategy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.errors import Cause

SYSTEM_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")
SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"
SYSTEM_NODE_CRITICAL = "system-node-critical"

SYSTEM_PRIORITY_CLASSES: tuple[dict[str, Any], ...] = (
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": SYSTEM_NODE_CRITICAL},
        "value": SYSTEM_CRITICAL_PRIORITY + 1000,
        "description": "Used for system critical pods that must not be moved from their "
        "current node.",
    },
    {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": SYSTEM_CLUSTER_CRITICAL},
        "value": SYSTEM_CRITICAL_PRIORITY,
        "description": "Used for system critical pods that must run in the cluster, but can "
        "be moved to another node if necessary.",
    },
)
SYSTEM_NAMES = frozenset(str(pc["metadata"]["name"]) for pc in SYSTEM_PRIORITY_CLASSES)


def default_priority_class(obj: dict[str, Any]) -> None:
    obj.setdefault("value", 0)  # a non-pointer int32: absent is 0
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _system_class_error(name: str, value: object, global_default: bool) -> str | None:
    for known in SYSTEM_PRIORITY_CLASSES:
        if known["metadata"]["name"] == name:
            if known["value"] != value:
                return f"value of {name} PriorityClass must be {known['value']}"
            if global_default:
                return f"globalDefault of {name} PriorityClass must be false"
            return None
    return f"{name} is not a known system priority class"


def validate_priority_class(obj: Mapping[str, Any]) -> list[Cause]:
    name = str((obj.get("metadata") or {}).get("name") or "")
    value = obj.get("value")
    causes: list[Cause] = []
    if not isinstance(value, int) or isinstance(value, bool):
        causes.append(field.invalid("value", value, "must be an integer"))
    if name.startswith(SYSTEM_PREFIX):
        error = _system_class_error(name, value, obj.get("globalDefault") is True)
        if error:
            causes.append(
                field.forbidden(
                    "metadata.name",
                    f"priority class names with '{SYSTEM_PREFIX}' prefix are reserved for "
                    f"system use only. error: {error}",
                )
            )
    elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        causes.append(
            field.forbidden(
                "value",
                "maximum allowed value of a user defined priority is "
                f"{HIGHEST_USER_DEFINABLE_PRIORITY}",
            )
        )
    policy = obj.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        causes.append(field.not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES))
    return causes


def validate_priority_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    if new.get("value") != old.get("value"):
        causes.append(field.forbidden("value", "may not be changed in an update."))
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        causes.append(
            field.invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable")
        )
    return causes
