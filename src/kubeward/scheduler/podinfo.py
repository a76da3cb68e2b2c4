"""What the scheduler reads from a pod: its resource requests and tolerations.

Rules (kube-scheduler's ``NodeResourcesFit`` and ``TaintToleration``):
 1. A pod's request for a resource is the larger of the sum over its containers and the
    largest single init container (init containers run one at a time), plus ``overhead``.
 2. Every pod also counts 1 against a node's ``pods`` capacity.
 3. A toleration matches a taint when the effects agree (an empty effect matches all), the
    keys agree (an empty key with ``Exists`` matches every taint), and the operator is
    ``Exists`` or ``Equal`` (the default) with the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from kubeward.api.quantity import quantity_or_zero

JSONObject = dict[str, Any]


def _requests(container: Mapping[str, Any]) -> dict[str, Fraction]:
    resources = container.get("resources") or {}
    return {
        name: quantity_or_zero(value) for name, value in (resources.get("requests") or {}).items()
    }


def pod_requests(pod: Mapping[str, Any]) -> dict[str, Fraction]:
    """Rules 1 and 2."""
    spec = pod.get("spec") or {}
    total: dict[str, Fraction] = {}
    for container in spec.get("containers") or []:
        for name, value in _requests(container).items():
            total[name] = total.get(name, Fraction(0)) + value
    for container in spec.get("initContainers") or []:
        for name, value in _requests(container).items():
            total[name] = max(total.get(name, Fraction(0)), value)
    for name, value in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, Fraction(0)) + quantity_or_zero(value)
    total["pods"] = Fraction(1)
    return total


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Rule 3."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    return bool(key) and (toleration.get("value") or "") == (taint.get("value") or "")


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
