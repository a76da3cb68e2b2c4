"""How many replicas a metric asks for: the horizontal pod autoscaler's replica calculator
(``pkg/controller/podautoscaler/replica_calculator.go`` and ``metrics/utilization.go``).

Values are milli-units (``Quantity.MilliValue``): millicores of CPU, milli-bytes of memory.
Rules:

 1. The pods are those the target's selector picks. A pod being deleted or ``Failed`` is
    ignored. A ``Pending`` pod is *unready*. A pod without a metric is *missing*. For CPU, a
    pod is also unready when it has no ``Ready`` condition or start time; while it is within
    the CPU initialization period of its start (5 minutes) when it is not ready or its sample
    was taken less than one metric window after its readiness last changed; after that period
    only when it is not ready and never was (its readiness changed within the initial readiness
    delay, 30 s, of its start). Every other pod is ready.
 2. Utilization (``Utilization`` targets) is ``sum(usage) * 100 / sum(requests)`` over the pods
    with a metric, in whole percent; the ratio is utilization / target. Every container must
    request the resource (``missing request for cpu in container C of Pod P``). Average value
    (``AverageValue`` targets) is ``sum(usage) / pods``; the ratio is that over the target.
 3. Unready and ignored pods' metrics are dropped; no metric left is ``did not receive metrics
    for targeted pods (pods might be unready)``.
 4. With no missing pods, and no unready pods or a ratio of at most 1: a ratio within the
    tolerance of 1 (0.1) keeps the current count, else ``ceil(ratio * ready pods)``.
 5. Otherwise the ratio is computed again with missing pods counted at 100% of their request
    (at the target when it is above 100%; the target itself for average values) when scaling
    down, at 0 when scaling up, and, when scaling up, unready pods at 0. If that new ratio is
    within the tolerance or points the other way, the current count is kept; else
    ``ceil(new ratio * pods counted)``, unless that moves against the direction of the ratio.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kubeward.api import meta as m
from kubeward.api.quantity import milli_value, quantity_or_zero
from kubeward.errors import MetricUnavailable


@dataclass(frozen=True)
class PodMetric:
    """One pod's usage of a resource (milli-units), when it was sampled and over what window."""

    value: int
    timestamp: datetime.datetime
    window: datetime.timedelta = datetime.timedelta(seconds=10)


@dataclass(frozen=True)
class CalculatorConfig:
    """kube-controller-manager's ``--horizontal-pod-autoscaler-*`` settings the calculator reads."""

    tolerance: float = 0.1
    cpu_initialization_period: datetime.timedelta = datetime.timedelta(minutes=5)
    initial_readiness_delay: datetime.timedelta = datetime.timedelta(seconds=30)


@dataclass(frozen=True)
class PodGroups:
    """Rule 1's sorting of the selected pods."""

    ready: int = 0
    unready: frozenset[str] = field(default_factory=frozenset)
    missing: frozenset[str] = field(default_factory=frozenset)
    ignored: frozenset[str] = field(default_factory=frozenset)


def _ready_condition(pod: m.JSONObject) -> m.JSONObject | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond
    return None


def _cpu_unready(
    pod: m.JSONObject, metric: PodMetric, config: CalculatorConfig, now: datetime.datetime
) -> bool:
    """Rule 1's CPU readiness test."""
    cond = _ready_condition(pod)
    started = m.parse_time(str((pod.get("status") or {}).get("startTime") or ""))
    if cond is None or started is None:
        return True
    changed = m.parse_time(str(cond.get("lastTransitionTime") or "")) or started
    not_ready = cond.get("status") == "False"
    if started + config.cpu_initialization_period > now:
        return not_ready or metric.timestamp < changed + metric.window
    return not_ready and started + config.initial_readiness_delay > changed


def group_pods(
    pods: Iterable[m.JSONObject],
    metrics: Mapping[str, PodMetric],
    resource: str,
    config: CalculatorConfig,
    now: datetime.datetime,
) -> PodGroups:
    """Rule 1."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        name = m.name_of(pod)
        phase = (pod.get("status") or {}).get("phase")
        if m.metadata(pod).get("deletionTimestamp") or phase == "Failed":
            ignored.add(name)
            continue
        if phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu" and _cpu_unready(pod, metric, config, now):
            unready.add(name)
            continue
        ready += 1
    return PodGroups(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def pod_requests(
    pods: Iterable[m.JSONObject], resource: str, container: str = ""
) -> dict[str, int]:
    """Rule 2: each pod's request of ``resource`` (of ``container`` only, when given).

    Raises:
        MetricUnavailable: a container does not request the resource.
    """
    requests: dict[str, int] = {}
    for pod in pods:
        spec = pod.get("spec") or {}
        containers = list(spec.get("containers") or [])
        # Sidecars (restartable init containers) run beside the others and count too.
        containers += [
            c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"
        ]
        total = 0
        for c in containers:
            if container and c.get("name") != container:
                continue
            wanted = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            if wanted is None:
                raise MetricUnavailable(
                    f"missing request for {resource} in container {c.get('name')}"
                    f" of Pod {m.name_of(pod)}"
                )
            total += milli_value(quantity_or_zero(wanted))
        requests[m.name_of(pod)] = total
    return requests


def utilization_ratio(
    metrics: Mapping[str, int], requests: Mapping[str, int], target: int
) -> tuple[float, int, int]:
    """Rule 2: (ratio, utilization in percent, average usage) for a Utilization target."""
    used = requested = counted = 0
    for name, value in metrics.items():
        if name not in requests:
            continue
        used += value
        requested += requests[name]
        counted += 1
    if requested == 0:
        raise MetricUnavailable("no metrics returned matched known pods")
    utilization = used * 100 // requested
    return utilization / target, utilization, used // counted


def usage_ratio(metrics: Mapping[str, int], target: int) -> tuple[float, int]:
    """Rule 2: (ratio, average usage) for an AverageValue target."""
    average = sum(metrics.values()) // len(metrics)
    return average / target, average


@dataclass(frozen=True)
class Proposal:
    """What one metric asks for: a replica count and the figures behind it."""

    replicas: int
    average: int  # milli-units per pod
    utilization: int | None = None  # percent of request, for Utilization targets


def _within(ratio: float, tolerance: float) -> bool:
    return abs(1.0 - ratio) <= tolerance


def _settle(
    current: int,
    ratio: float,
    groups: PodGroups,
    values: dict[str, int],
    missing_value: Mapping[str, int],
    recompute: Callable[[dict[str, int]], float],
    tolerance: float,
) -> int:
    """Rules 4 and 5, given the first ratio; ``recompute`` maps values to a new ratio."""
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if _within(ratio, tolerance):
            return current
        return math.ceil(ratio * groups.ready)
    if groups.missing:
        for name in groups.missing:
            if ratio < 1.0:
                values[name] = missing_value[name]
            elif ratio > 1.0:
                values[name] = 0
    if scale_up_with_unready:
        for name in groups.unready:
            values[name] = 0
    new_ratio = recompute(values)
    if _within(new_ratio, tolerance) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def _usable(
    pods: list[m.JSONObject],
    metrics: Mapping[str, PodMetric],
    resource: str,
    config: CalculatorConfig,
    now: datetime.datetime,
) -> tuple[PodGroups, dict[str, int]]:
    if not pods:
        raise MetricUnavailable("no pods returned by selector while calculating replica count")
    groups = group_pods(pods, metrics, resource, config, now)
    values = {
        name: metric.value
        for name, metric in metrics.items()
        if name not in groups.unready and name not in groups.ignored
    }
    if not values:
        raise MetricUnavailable("did not receive metrics for targeted pods (pods might be unready)")
    return groups, values


def resource_replicas(
    current: int,
    target_utilization: int,
    resource: str,
    pods: list[m.JSONObject],
    metrics: Mapping[str, PodMetric],
    config: CalculatorConfig,
    now: datetime.datetime,
    container: str = "",
) -> Proposal:
    """Rules 1-5 for a Utilization target (``GetResourceReplicas``)."""
    groups, values = _usable(pods, metrics, resource, config, now)
    requests = pod_requests(pods, resource, container)
    ratio, utilization, average = utilization_ratio(values, requests, target_utilization)
    fallback = max(100, target_utilization)
    missing_value = {name: requests.get(name, 0) * fallback // 100 for name in groups.missing}
    replicas = _settle(
        current,
        ratio,
        groups,
        values,
        missing_value,
        lambda v: utilization_ratio(v, requests, target_utilization)[0],
        config.tolerance,
    )
    return Proposal(replicas, average, utilization)


def average_value_replicas(
    current: int,
    target: int,
    resource: str,
    pods: list[m.JSONObject],
    metrics: Mapping[str, PodMetric],
    config: CalculatorConfig,
    now: datetime.datetime,
) -> Proposal:
    """Rules 1-5 for an AverageValue target (``GetRawResourceReplicas``)."""
    groups, values = _usable(pods, metrics, resource, config, now)
    ratio, average = usage_ratio(values, target)
    missing_value = dict.fromkeys(groups.missing, target)
    replicas = _settle(
        current,
        ratio,
        groups,
        values,
        missing_value,
        lambda v: usage_ratio(v, target)[0],
        config.tolerance,
    )
    return Proposal(replicas, average)
