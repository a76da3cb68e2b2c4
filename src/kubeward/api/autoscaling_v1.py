"""autoscaling/v1 HorizontalPodAutoscaler as a view of the stored autoscaling/v2 one.

Kubernetes stores HPAs once and serves autoscaling/v1 by conversion
(``pkg/apis/autoscaling/v1/conversion.go``); kubeward stores the v2 form and converts the v1
view in and out. Rules:

 1. ``targetCPUUtilizationPercentage`` is the v2 Resource metric ``cpu`` with an
    ``averageUtilization`` target; a v1 HPA without it has the default 80% (the default v1
    clients always had, made explicit in v2).
 2. What v1 cannot hold travels in annotations, as upstream keeps it across versions: the
    other metrics in ``autoscaling.alpha.kubernetes.io/metrics``, the behavior in
    ``autoscaling.alpha.kubernetes.io/behavior``, the current metrics in
    ``autoscaling.alpha.kubernetes.io/current-metrics`` and the conditions in
    ``autoscaling.alpha.kubernetes.io/conditions``. kubeward writes their v2 JSON (upstream
    writes the older v1 ``MetricSpec`` shape for metrics); the v2 view never shows them.
 3. ``currentCPUUtilizationPercentage`` is the current ``averageUtilization`` of the cpu
    Resource metric.
 4. A v2 HPA converted to v1 and back is the same HPA.
"""

from __future__ import annotations

import copy
import json
from typing import Any

V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
KIND = "HorizontalPodAutoscaler"
METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior"
CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
ROUND_TRIP_ANNOTATIONS = (
    METRICS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
)
DEFAULT_CPU_UTILIZATION = 80
_STATUS_FIELDS = ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")


def _cpu_utilization(metric: Any, part: str) -> int | None:
    """The cpu Resource metric's ``averageUtilization`` under ``part`` (target or current)."""
    if not isinstance(metric, dict) or metric.get("type") != "Resource":
        return None
    resource = metric.get("resource") or {}
    if resource.get("name") != "cpu":
        return None
    value = (resource.get(part) or {}).get("averageUtilization")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cpu_metric(part: str, kind: str, utilization: int) -> dict[str, Any]:
    body: dict[str, Any] = {"averageUtilization": utilization}
    if kind:
        body = {"type": kind, **body}
    return {"type": "Resource", "resource": {"name": "cpu", part: body}}


def _loads(annotations: dict[str, Any], key: str) -> Any:
    text = annotations.pop(key, None)
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def to_v2(hpa: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v2 form of an autoscaling/v1 HPA (a new dict)."""
    metadata = copy.deepcopy(hpa.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    spec_v1 = hpa.get("spec") or {}
    spec: dict[str, Any] = {
        k: copy.deepcopy(spec_v1[k])
        for k in ("scaleTargetRef", "minReplicas", "maxReplicas")
        if k in spec_v1
    }
    metrics: list[Any] = []
    target = spec_v1.get("targetCPUUtilizationPercentage")
    if isinstance(target, int) and not isinstance(target, bool):
        metrics.append(_cpu_metric("target", "Utilization", target))
    others = _loads(annotations, METRICS_ANNOTATION)
    metrics.extend(others if isinstance(others, list) else [])
    spec["metrics"] = metrics or [_cpu_metric("target", "Utilization", DEFAULT_CPU_UTILIZATION)]
    behavior = _loads(annotations, BEHAVIOR_ANNOTATION)
    if isinstance(behavior, dict):
        spec["behavior"] = behavior
    out: dict[str, Any] = {"apiVersion": V2, "kind": KIND, "metadata": metadata, "spec": spec}
    status_v1 = hpa.get("status")
    current = _loads(annotations, CURRENT_METRICS_ANNOTATION)
    conditions = _loads(annotations, CONDITIONS_ANNOTATION)
    if isinstance(status_v1, dict):
        status = {k: copy.deepcopy(status_v1[k]) for k in _STATUS_FIELDS if k in status_v1}
        if isinstance(current, list):
            status["currentMetrics"] = current
        else:
            cpu = status_v1.get("currentCPUUtilizationPercentage")
            if isinstance(cpu, int) and not isinstance(cpu, bool):
                status["currentMetrics"] = [_cpu_metric("current", "", cpu)]
        if isinstance(conditions, list):
            status["conditions"] = conditions
        out["status"] = status
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return out


def to_v1(hpa: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 form of an autoscaling/v2 HPA (a new dict)."""
    metadata = copy.deepcopy(hpa.get("metadata") or {})
    annotations = {
        k: v
        for k, v in (metadata.get("annotations") or {}).items()
        if k not in ROUND_TRIP_ANNOTATIONS
    }
    spec_v2 = hpa.get("spec") or {}
    spec: dict[str, Any] = {
        k: copy.deepcopy(spec_v2[k])
        for k in ("scaleTargetRef", "minReplicas", "maxReplicas")
        if k in spec_v2
    }
    others = []
    for metric in spec_v2.get("metrics") or []:
        utilization = _cpu_utilization(metric, "target")
        if utilization is not None and "targetCPUUtilizationPercentage" not in spec:
            spec["targetCPUUtilizationPercentage"] = utilization
        else:
            others.append(metric)
    if others:
        annotations[METRICS_ANNOTATION] = json.dumps(others, separators=(",", ":"))
    if spec_v2.get("behavior") is not None:
        annotations[BEHAVIOR_ANNOTATION] = json.dumps(spec_v2["behavior"], separators=(",", ":"))
    out: dict[str, Any] = {"apiVersion": V1, "kind": KIND, "metadata": metadata, "spec": spec}
    status_v2 = hpa.get("status")
    if isinstance(status_v2, dict):
        status = {k: copy.deepcopy(status_v2[k]) for k in _STATUS_FIELDS if k in status_v2}
        current = status_v2.get("currentMetrics") or []
        for metric in current:
            utilization = _cpu_utilization(metric, "current")
            if utilization is not None:
                status["currentCPUUtilizationPercentage"] = utilization
        if current:
            annotations[CURRENT_METRICS_ANNOTATION] = json.dumps(current, separators=(",", ":"))
        if status_v2.get("conditions"):
            annotations[CONDITIONS_ANNOTATION] = json.dumps(
                status_v2["conditions"], separators=(",", ":")
            )
        out["status"] = status
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return out
