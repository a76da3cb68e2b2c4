"""The autoscaler's replica calculator, table-driven with cases taken from upstream's
``replica_calculator_test.go`` (the figures; the code is kubeward's)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest

from kubeward.api import meta as m
from kubeward.controllers.podautoscaler_replicas import (
    CalculatorConfig,
    PodMetric,
    average_value_replicas,
    group_pods,
    resource_replicas,
)
from kubeward.errors import MetricUnavailable

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
COOL = NOW - datetime.timedelta(minutes=10)  # started long ago: past the CPU initialization
HOT = NOW - datetime.timedelta(minutes=1)  # still initializing, ready only since just now
CONFIG = CalculatorConfig()


def pod(
    i: int,
    *,
    request: str = "1",
    ready: bool = True,
    phase: str = "Running",
    started: datetime.datetime = COOL,
    ready_since: datetime.datetime | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    since = ready_since or (started + datetime.timedelta(seconds=5) if started == COOL else NOW)
    meta: dict[str, Any] = {"name": f"pod-{i}", "namespace": "ns"}
    if deleting:
        meta["deletionTimestamp"] = m.format_time(NOW)
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": request}}}]},
        "status": {
            "phase": phase,
            "startTime": m.format_time(started),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": m.format_time(since),
                }
            ],
        },
    }


def metrics(levels: list[int], *, skip: tuple[int, ...] = ()) -> dict[str, PodMetric]:
    """pod-i uses levels[i] millicores (pods in ``skip`` have no metric)."""
    window = datetime.timedelta(seconds=30)
    return {
        f"pod-{i}": PodMetric(level, NOW, window) for i, level in enumerate(levels) if i not in skip
    }


@dataclass
class Case:
    current: int
    target: int
    pods: list[dict[str, Any]]
    levels: list[int]
    expected: int
    utilization: int
    skip: tuple[int, ...] = ()
    extra: dict[str, PodMetric] = field(default_factory=dict)


CASES = {
    "scale up": Case(3, 30, [pod(i) for i in range(3)], [300, 500, 700], 5, 50),
    "scale up, unready pods count at zero": Case(
        3, 30, [pod(0, ready=False), pod(1), pod(2)], [300, 500, 700], 4, 60
    ),
    "scale up, a hot CPU pod counts at zero": Case(
        3, 30, [pod(0, started=HOT), pod(1), pod(2)], [300, 500, 700], 4, 60
    ),
    "scale up held back by unready pods": Case(
        3, 30, [pod(0), pod(1, ready=False), pod(2, ready=False)], [400, 500, 700], 3, 40
    ),
    "scale up ignores failed pods": Case(
        2,
        30,
        [pod(0), pod(1), pod(2, phase="Failed"), pod(3, phase="Failed")],
        [500, 700],
        4,
        60,
    ),
    "scale up ignores pods being deleted": Case(
        2,
        30,
        [pod(0), pod(1), pod(2, deleting=True), pod(3, deleting=True)],
        [500, 700],
        4,
        60,
    ),
    "scale up, pending pods count at zero": Case(
        3, 30, [pod(0), pod(1), pod(2, phase="Pending")], [300, 500], 3, 40
    ),
    "scale down": Case(5, 50, [pod(i) for i in range(5)], [100, 300, 500, 250, 250], 3, 28),
    "scale down leaves unready pods out": Case(
        5,
        50,
        [pod(0), pod(1), pod(2), pod(3, ready=False), pod(4, ready=False)],
        [100, 300, 500, 250, 250],
        2,
        30,
    ),
    "scale down leaves hot CPU pods out": Case(
        5,
        50,
        [pod(0), pod(1), pod(2), pod(3, started=HOT), pod(4, started=HOT)],
        [100, 300, 500, 250, 250],
        2,
        30,
    ),
    "within the tolerance nothing changes": Case(
        3,
        100,
        [pod(0, request="0.9"), pod(1, request="1.0"), pod(2, request="1.1")],
        [1010, 1030, 1020],
        3,
        102,
    ),
    "metrics of pods not selected are left out": Case(
        4,
        100,
        [pod(i) for i in range(4)],
        [4000, 9500, 3000, 7000, 3200, 2000],
        24,
        587,
    ),
    "missing metrics on a scale down count as the full request": Case(
        4, 100, [pod(i) for i in range(4)], [400, 95], 3, 24
    ),
    "missing metrics at exactly the target change nothing": Case(
        2, 100, [pod(0), pod(1)], [1000], 2, 100
    ),
    "missing metrics that would bring a scale up within tolerance": Case(
        2, 100, [pod(0), pod(1)], [1900], 2, 190
    ),
    "missing metrics on a small scale down": Case(2, 100, [pod(0), pod(1)], [600], 2, 60),
    "missing and unready pods that would reverse the direction": Case(
        3, 50, [pod(0, ready=False), pod(1), pod(2)], [100, 450], 3, 45
    ),
    "missing and unready pods on a scale up": Case(
        3, 50, [pod(0, ready=False), pod(1), pod(2)], [100, 2000], 4, 200
    ),
    "missing and unready pods on a scale down": Case(
        4, 50, [pod(0, ready=False), pod(1), pod(2), pod(3)], [100, 100, 100], 3, 10
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_resource_utilization_replicas(case: Case) -> None:
    proposal = resource_replicas(
        case.current, case.target, "cpu", case.pods, metrics(case.levels), CONFIG, NOW
    )
    assert (proposal.replicas, proposal.utilization) == (case.expected, case.utilization)


def test_the_average_value_is_reported_in_milli_units() -> None:
    proposal = resource_replicas(
        3, 30, "cpu", [pod(i) for i in range(3)], metrics([300, 500, 700]), CONFIG, NOW
    )
    assert proposal.average == 500


AVERAGE_VALUE_CASES = {
    "scale up": (3, 250, [300, 500, 700], 6, 500),
    "within the tolerance": (3, 480, [300, 500, 700], 3, 500),
    "scale down": (4, 1000, [100, 100, 100, 100], 1, 100),
}


@pytest.mark.parametrize(
    ("current", "target", "levels", "expected", "average"),
    AVERAGE_VALUE_CASES.values(),
    ids=AVERAGE_VALUE_CASES.keys(),
)
def test_average_value_replicas(
    current: int, target: int, levels: list[int], expected: int, average: int
) -> None:
    pods = [pod(i) for i in range(len(levels))]
    proposal = average_value_replicas(current, target, "cpu", pods, metrics(levels), CONFIG, NOW)
    assert (proposal.replicas, proposal.average) == (expected, average)


def test_missing_pods_count_at_the_target_value_on_a_scale_down() -> None:
    pods = [pod(i) for i in range(4)]
    # Measured alone, 100 a pod asks ceil(0.1 × 3) = 1; with the missing pod counted at the
    # 1000 target, (300 + 1000) / 4 = 325 asks ceil(0.325 × 4) = 2.
    proposal = average_value_replicas(4, 1000, "cpu", pods, metrics([100, 100, 100]), CONFIG, NOW)
    assert proposal.replicas == 2


ERRORS = {
    "no pods": ([], [100], "no pods returned by selector while calculating replica count"),
    "every pod unready": (
        [pod(0, ready=False), pod(1, phase="Pending")],
        [100, 100],
        "did not receive metrics for targeted pods (pods might be unready)",
    ),
    "a container without a request": (
        [{**pod(0), "spec": {"containers": [{"name": "c"}]}}],
        [100],
        "missing request for cpu in container c of Pod pod-0",
    ),
}


@pytest.mark.parametrize(("pods", "levels", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_use_upstream_words(
    pods: list[dict[str, Any]], levels: list[int], message: str
) -> None:
    with pytest.raises(MetricUnavailable) as caught:
        resource_replicas(2, 50, "cpu", pods, metrics(levels), CONFIG, NOW)
    assert str(caught.value) == message


GROUPS = {
    "ready and long started": (pod(0), "ready"),
    "not ready": (pod(0, ready=False), "unready"),
    "pending": (pod(0, phase="Pending"), "unready"),
    "failed": (pod(0, phase="Failed"), "ignored"),
    "being deleted": (pod(0, deleting=True), "ignored"),
    "initializing, ready for less than a window": (pod(0, started=HOT), "unready"),
    "initializing, ready for a whole window": (
        pod(0, started=HOT, ready_since=NOW - datetime.timedelta(seconds=40)),
        "ready",
    ),
    "past initialization, never ready": (
        pod(0, ready=False, ready_since=COOL + datetime.timedelta(seconds=10)),
        "unready",
    ),
    "past initialization, unready after having been ready": (
        pod(0, ready=False, ready_since=COOL + datetime.timedelta(minutes=2)),
        "ready",
    ),
    "no start time": ({**pod(0), "status": {"phase": "Running"}}, "unready"),
}


@pytest.mark.parametrize(("given", "group"), GROUPS.values(), ids=GROUPS.keys())
def test_group_pods_for_cpu(given: dict[str, Any], group: str) -> None:
    groups = group_pods([given], metrics([100]), "cpu", CONFIG, NOW)
    found = {
        "ready": groups.ready == 1,
        "unready": "pod-0" in groups.unready,
        "ignored": "pod-0" in groups.ignored,
    }
    assert [name for name, hit in found.items() if hit] == [group]


def test_memory_ignores_readiness_and_a_pod_without_metric_is_missing() -> None:
    groups = group_pods(
        [pod(0, ready=False), pod(1, started=HOT), pod(2)],
        metrics([100, 100]),
        "memory",
        CONFIG,
        NOW,
    )
    assert groups.ready == 2
    assert groups.missing == {"pod-2"}
