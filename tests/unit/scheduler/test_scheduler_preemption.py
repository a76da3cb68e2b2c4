"""Preemption's rules (``scheduler.preemption``), with cases after kube-scheduler's own
DefaultPreemption tests: victims chosen on one node, budgets, and the choice among nodes."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.scheduler.filters import resources_fit
from kubeward.scheduler.preemption import (
    NO_VICTIMS,
    POLICY_NEVER,
    TERMINATING_ON_NOMINATED,
    Candidate,
    not_eligible,
    pick,
    priority,
    select_victims,
    split_by_budget,
)
from kubeward.scheduler.scheduler import NodeUsage

NODE = {
    "metadata": {"name": "n1"},
    "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "10"}},
}


def pod(
    name: str,
    cpu: str = "1",
    prio: int | None = None,
    *,
    start: str = "2026-01-01T00:00:00Z",
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
        "spec": {
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}],
            **spec,
        },
        "status": {"startTime": start},
    }
    if prio is not None:
        body["spec"]["priority"] = prio
    return body


def free_with(pods: list[dict[str, Any]]) -> Any:
    usage = NodeUsage()
    for i, p in enumerate(pods):
        usage.assume(f"k{i}", p, "n1")
    return usage.free(NODE)


def names(candidate: Candidate | str) -> list[str]:
    assert isinstance(candidate, Candidate), candidate
    return [v["metadata"]["name"] for v in candidate.victims]


def test_priority_defaults_to_zero() -> None:
    assert priority(pod("a")) == 0
    assert priority(pod("a", prio=-5)) == -5


def test_only_lower_priority_pods_are_victims() -> None:
    running = [pod("same", "2", 100), pod("high", "1", 200)]
    result = select_victims(
        pod("p", "2", 100), NODE, free_with(running), running, [], resources_fit
    )
    assert result == NO_VICTIMS


def test_the_pod_still_not_fitting_without_every_lower_pod_is_that_reason() -> None:
    running = [pod("low", "1", 1), pod("high", "3", 1000)]
    result = select_victims(
        pod("p", "2", 100), NODE, free_with(running), running, [], resources_fit
    )
    assert result == "Insufficient cpu"


def test_fewest_victims_the_least_important_first() -> None:
    # 4 cpus all taken by four 1-cpu pods; the preemptor needs 2: the two least important go.
    running = [
        pod("p10", "1", 10),
        pod("p20", "1", 20),
        pod("p5-old", "1", 5, start="2026-01-01T00:00:00Z"),
        pod("p5-new", "1", 5, start="2026-02-01T00:00:00Z"),
    ]
    result = select_victims(
        pod("p", "2", 100), NODE, free_with(running), running, [], resources_fit
    )
    # reprieve order: p20, p10, p5-old (older = more important), p5-new
    assert names(result) == ["p5-old", "p5-new"]


def test_a_big_low_pod_alone_is_enough() -> None:
    running = [pod("small", "1", 50), pod("big", "3", 10)]
    result = select_victims(
        pod("p", "3", 100), NODE, free_with(running), running, [], resources_fit
    )
    assert names(result) == ["big"]


def test_budget_violating_pods_are_reprieved_first() -> None:
    running = [pod("guarded", "2", 10, labels={"app": "db"}), pod("free", "2", 10)]
    budget = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }
    result = select_victims(
        pod("p", "2", 100), NODE, free_with(running), running, [budget], resources_fit
    )
    assert names(result) == ["free"]
    assert isinstance(result, Candidate) and result.budget_violations == 0


def test_a_budget_that_must_break_is_counted() -> None:
    running = [pod("guarded", "4", 10, labels={"app": "db"})]
    budget = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }
    result = select_victims(
        pod("p", "2", 100), NODE, free_with(running), running, [budget], resources_fit
    )
    assert isinstance(result, Candidate)
    assert names(result) == ["guarded"] and result.budget_violations == 1


@pytest.mark.parametrize(
    ("budget_spec", "status", "violating"),
    [
        ({"selector": {"matchLabels": {"app": "db"}}}, {"disruptionsAllowed": 1}, ["b"]),
        ({"selector": {"matchLabels": {"app": "db"}}}, {"disruptionsAllowed": 2}, []),
        ({"selector": {}}, {"disruptionsAllowed": 0}, []),  # empty selects nothing here
        (
            {"selector": {"matchLabels": {"app": "db"}}},
            {"disruptionsAllowed": 0, "disruptedPods": {"a": "2026-01-01T00:00:00Z"}},
            ["b"],
        ),
    ],
)
def test_split_by_budget(
    budget_spec: dict[str, Any], status: dict[str, Any], violating: list[str]
) -> None:
    pods = [pod("a", labels={"app": "db"}), pod("b", labels={"app": "db"})]
    budget = {"metadata": {"name": "x", "namespace": "default"}, "spec": budget_spec}
    budget["status"] = status
    broken, _ = split_by_budget(pods, [budget])
    assert [p["metadata"]["name"] for p in broken] == violating


def test_a_budget_elsewhere_does_not_count() -> None:
    pods = [pod("a", labels={"app": "db"})]
    budget = {
        "metadata": {"name": "x", "namespace": "other"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }
    assert split_by_budget(pods, [budget]) == ([], pods)


def candidate(node: str, *victims: dict[str, Any], violations: int = 0) -> Candidate:
    return Candidate(node, tuple(victims), violations)


@pytest.mark.parametrize(
    ("candidates", "chosen"),
    [
        # 1. fewest budget violations
        ([candidate("a", pod("x", prio=1), violations=1), candidate("b", pod("y", prio=50))], "b"),
        # 2. the lowest highest victim priority
        (
            [
                candidate("a", pod("x", prio=20)),
                candidate("b", pod("y", prio=10), pod("z", prio=5)),
            ],
            "b",
        ),
        # 3. the smallest sum of priorities (negative priorities do not make more look less)
        (
            [
                candidate("a", pod("x", prio=10), pod("y", prio=10)),
                candidate("b", pod("z", prio=10), pod("w", prio=-100)),
            ],
            "b",
        ),
        (
            [
                candidate("a", pod("x", prio=-10), pod("y", prio=-10)),
                candidate("b", pod("z", prio=-10)),
            ],
            "b",
        ),
        # 4. the fewest victims
        (
            [
                candidate("a", pod("x", prio=0), pod("y", prio=0)),
                candidate("b", pod("z", prio=0), pod("w", prio=0), pod("v", prio=0)),
            ],
            "a",
        ),
        # 5. the latest start of the most important victims
        (
            [
                candidate("a", pod("x", prio=5, start="2026-01-01T00:00:00Z")),
                candidate("b", pod("y", prio=5, start="2026-03-01T00:00:00Z")),
            ],
            "b",
        ),
        # 6. then the first
        ([candidate("a", pod("x", prio=5)), candidate("b", pod("y", prio=5))], "a"),
    ],
)
def test_pick(candidates: list[Candidate], chosen: str) -> None:
    assert pick(candidates).node == chosen


def test_preemption_policy_never() -> None:
    assert not_eligible(pod("p", prio=100, preemptionPolicy="Never"), []) == POLICY_NEVER


def test_a_nominated_pod_waits_for_its_victims_to_terminate() -> None:
    preemptor = pod("p", prio=100)
    preemptor["status"]["nominatedNodeName"] = "n1"
    victim = pod("v", prio=1)
    victim["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    victim["status"]["conditions"] = [
        {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}
    ]
    assert not_eligible(preemptor, [victim]) == TERMINATING_ON_NOMINATED
    assert not_eligible(preemptor, [victim], nominated_node_unresolvable=True) is None
    # deleted for another reason, or not yet nominated: free to preempt
    victim["status"]["conditions"] = []
    assert not_eligible(preemptor, [victim]) is None
    del preemptor["status"]["nominatedNodeName"]
    assert not_eligible(preemptor, []) is None
