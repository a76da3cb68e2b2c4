"""Validation of policy/v1 PodDisruptionBudget and Eviction, as ``pkg/apis/policy/validation``.

Rules:

 1. ``minAvailable`` and ``maxUnavailable`` cannot both be set; each is a non-negative integer
    or a percentage of at most 100%.
 2. ``selector`` is a well-formed label selector (a PDB without one selects nothing).
 3. ``unhealthyPodEvictionPolicy`` is AlwaysAllow or IfHealthyBudget when set.
 4. Status: ``disruptionsAllowed``, ``currentHealthy``, ``desiredHealthy`` and
    ``expectedPods`` are not negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import validate_label_selector
from kubeward.api.validation.workload import int_or_percent, nonnegative
from kubeward.errors import Cause

UNHEALTHY_POD_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
STATUS_COUNTS = ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")


def empty_status() -> dict[str, Any]:
    """The status a new PDB starts with: Go's zero ``PodDisruptionBudgetStatus`` as JSON."""
    return {key: 0 for key in STATUS_COUNTS}


def validate_pdb(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        return [field.invalid("spec", spec, "must be an object")]
    causes: list[Cause] = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        causes.append(
            field.invalid("spec", dict(spec), "minAvailable and maxUnavailable cannot be both set")
        )
    causes.extend(int_or_percent(spec.get("minAvailable"), "spec.minAvailable"))
    causes.extend(int_or_percent(spec.get("maxUnavailable"), "spec.maxUnavailable"))
    causes.extend(validate_label_selector(spec.get("selector"), "spec.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        causes.append(
            field.not_supported(
                "spec.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES
            )
        )
    return causes


def validate_pdb_status(obj: Mapping[str, Any]) -> list[Cause]:
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return []
    causes: list[Cause] = []
    for key in STATUS_COUNTS:
        causes.extend(nonnegative(status, key, "status"))
    return causes
