"""Validation and defaulting of autoscaling/v2 HorizontalPodAutoscaler, as
``pkg/apis/autoscaling/v2/defaults.go`` and ``pkg/apis/autoscaling/validation``.

Defaulting:

 1. ``minReplicas`` 1; no ``metrics`` means one Resource metric: cpu at 80% average
    utilization.
 2. A ``behavior`` that is given has its unset parts filled: scale up with no stabilization
    window, policy selection Max, policies 4 Pods and 100 Percent per 15 seconds; scale down
    with no window of its own (the controller's downscale stabilization, 5 minutes by default,
    applies), Max, 100 Percent per 15 seconds.

Validation:

 1. ``scaleTargetRef`` has a kind and a name, both path-segment names.
 2. ``minReplicas`` is at least 1; ``maxReplicas`` is greater than 0 and not below
    ``minReplicas``.
 3. Each metric has a ``type`` of ContainerResource, External, Object, Pods or Resource and the
    source of that type; a target's ``type`` is Utilization, Value or AverageValue.
 4. Behavior: ``selectPolicy`` Disabled, Max or Min; ``stabilizationWindowSeconds`` 0–3600;
    each policy of type Pods or Percent with a positive value and a period of 1–1800 seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import check_path_segment_name
from kubeward.api.validation.workload import as_int, is_int
from kubeward.errors import Cause

METRIC_SOURCES = {
    "ContainerResource": "containerResource",
    "External": "external",
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
}
TARGET_TYPES = ("AverageValue", "Utilization", "Value")
SELECT_POLICIES = ("Disabled", "Max", "Min")
POLICY_TYPES = ("Percent", "Pods")
MAX_STABILIZATION_WINDOW = 3600
MAX_PERIOD_SECONDS = 1800
_DEFAULT_METRIC = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
}
_SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN = {
    # No window: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def default_hpa(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [copy.deepcopy(_DEFAULT_METRIC)]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for key, defaults in (("scaleUp", _SCALE_UP), ("scaleDown", _SCALE_DOWN)):
            rules = behavior.get(key)
            if not isinstance(rules, dict):
                rules = behavior[key] = {}
            for name, value in defaults.items():
                if rules.get(name) is None:
                    rules[name] = copy.deepcopy(value)


def _validate_target(target: object, path: str) -> list[Cause]:
    if not isinstance(target, Mapping):
        return [field.required(path)]
    kind = target.get("type")
    if not kind:
        return [field.required(f"{path}.type")]
    if kind not in TARGET_TYPES:
        return [field.not_supported(f"{path}.type", kind, TARGET_TYPES)]
    utilization = target.get("averageUtilization")
    if utilization is not None and (not is_int(utilization) or utilization < 1):
        return [field.invalid(f"{path}.averageUtilization", utilization, "must be greater than 0")]
    return []


def _validate_metric(metric: Mapping[str, Any], path: str) -> list[Cause]:
    kind = metric.get("type")
    if not kind:
        return [field.required(f"{path}.type", "must specify a metric source type")]
    if kind not in METRIC_SOURCES:
        return [field.not_supported(f"{path}.type", kind, sorted(METRIC_SOURCES))]
    key = METRIC_SOURCES[kind]
    source = metric.get(key)
    causes: list[Cause] = []
    for other_kind, other_key in METRIC_SOURCES.items():
        if other_kind != kind and metric.get(other_key) is not None:
            causes.append(
                field.forbidden(f"{path}.{other_key}", "must populate the given metric source only")
            )
    if not isinstance(source, Mapping):
        causes.append(
            field.required(f"{path}.{key}", "must populate information for the given metric source")
        )
        return causes
    if kind in ("Resource", "ContainerResource") and not source.get("name"):
        causes.append(field.required(f"{path}.{key}.name", "must specify a resource name"))
    if kind == "ContainerResource" and not source.get("container"):
        causes.append(field.required(f"{path}.{key}.container", "must specify a container"))
    causes.extend(_validate_target(source.get("target"), f"{path}.{key}.target"))
    return causes


def _validate_rules(rules: Mapping[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    select = rules.get("selectPolicy")
    if select is not None and select not in SELECT_POLICIES:
        causes.append(field.not_supported(f"{path}.selectPolicy", select, SELECT_POLICIES))
    window = rules.get("stabilizationWindowSeconds")
    window_seconds = as_int(window)
    if window is not None and (window_seconds is None or window_seconds < 0):
        causes.append(
            field.invalid(
                f"{path}.stabilizationWindowSeconds",
                window,
                "must be greater than or equal to zero",
            )
        )
    elif window_seconds is not None and window_seconds > MAX_STABILIZATION_WINDOW:
        causes.append(
            field.invalid(
                f"{path}.stabilizationWindowSeconds",
                window,
                f"must be less than or equal to {MAX_STABILIZATION_WINDOW}",
            )
        )
    policies = rules.get("policies")
    if not policies and select != "Disabled":
        causes.append(field.required(f"{path}.policies", "must specify at least one Policy"))
    for i, policy in enumerate(policies if isinstance(policies, list) else []):
        at = f"{path}.policies[{i}]"
        if not isinstance(policy, Mapping):
            causes.append(field.invalid(at, policy, "must be an object"))
            continue
        kind = policy.get("type")
        if kind not in POLICY_TYPES:
            causes.append(field.not_supported(f"{at}.type", kind, POLICY_TYPES))
        value = as_int(policy.get("value"))
        if value is None or value <= 0:
            causes.append(
                field.invalid(f"{at}.value", policy.get("value"), "must be greater than zero")
            )
        period = as_int(policy.get("periodSeconds"))
        if period is None or period <= 0:
            causes.append(
                field.invalid(
                    f"{at}.periodSeconds", policy.get("periodSeconds"), "must be greater than zero"
                )
            )
        elif period > MAX_PERIOD_SECONDS:
            causes.append(
                field.invalid(
                    f"{at}.periodSeconds",
                    period,
                    f"must be less than or equal to {MAX_PERIOD_SECONDS}",
                )
            )
    return causes


def validate_hpa(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [field.required("spec")]
    causes: list[Cause] = []
    ref = spec.get("scaleTargetRef")
    ref = ref if isinstance(ref, Mapping) else {}
    for key in ("kind", "name"):
        value = ref.get(key)
        if not value:
            causes.append(field.required(f"spec.scaleTargetRef.{key}"))
        else:
            causes.extend(
                field.invalid(f"spec.scaleTargetRef.{key}", value, m)
                for m in check_path_segment_name(str(value))
            )
    minimum, maximum = as_int(spec.get("minReplicas")), as_int(spec.get("maxReplicas"))
    if spec.get("minReplicas") is not None and (minimum is None or minimum < 1):
        causes.append(
            field.invalid(
                "spec.minReplicas", spec.get("minReplicas"), "must be greater than or equal to 1"
            )
        )
    if maximum is None or maximum < 1:
        causes.append(
            field.invalid("spec.maxReplicas", spec.get("maxReplicas"), "must be greater than 0")
        )
    elif minimum is not None and maximum < minimum:
        causes.append(
            field.invalid(
                "spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`"
            )
        )
    for i, metric in enumerate(spec.get("metrics") or []):
        if isinstance(metric, Mapping):
            causes.extend(_validate_metric(metric, f"spec.metrics[{i}]"))
    behavior = spec.get("behavior")
    if isinstance(behavior, Mapping):
        for key in ("scaleUp", "scaleDown"):
            rules = behavior.get(key)
            if isinstance(rules, Mapping):
                causes.extend(_validate_rules(rules, f"spec.behavior.{key}"))
    return causes
