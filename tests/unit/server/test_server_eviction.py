"""The eviction subresource's decisions (server.endpoints.eviction): which budgets cover a pod,
when budgets are skipped, and how a budget is checked and spent, as upstream's eviction.go."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.errors import Forbidden, TooManyRequests
from kubeward.server.endpoints.eviction import (
    can_ignore_budget,
    decremented,
    is_pod_ready,
    matching_budgets,
)


def pod(phase: str = "Running", ready: bool = True, **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-1", "labels": {"app": "web"}, **metadata},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def budget(selector: Any = None, generation: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-pdb", "generation": generation},
        "spec": {"selector": selector},
        "status": {"observedGeneration": 1, "currentHealthy": 3, "desiredHealthy": 2, **status},
    }


@pytest.mark.parametrize(
    ("target", "ignored"),
    [
        (pod("Running"), False),
        (pod("Pending"), True),
        (pod("Succeeded"), True),
        (pod("Failed"), True),
        (pod("Running", deletionTimestamp="2024-01-01T00:00:00Z"), True),
    ],
    ids=["running", "pending", "succeeded", "failed", "terminating"],
)
def test_budgets_are_skipped_for_pods_that_left(target: dict[str, Any], ignored: bool) -> None:
    assert can_ignore_budget(target) is ignored


def test_matching_budgets_read_selectors_as_upstream() -> None:
    matching = budget({"matchLabels": {"app": "web"}})
    everything = budget({})
    others = [
        budget(None),
        budget({"matchLabels": {"app": "db"}}),
        budget({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
    ]
    assert matching_budgets(pod(), [matching, everything, *others]) == [matching, everything]


def test_readiness() -> None:
    assert is_pod_ready(pod(ready=True))
    assert not is_pod_ready(pod(ready=False))
    assert not is_pod_ready({"status": {}})


def test_decrement_records_the_disruption() -> None:
    pdb = budget({"matchLabels": {"app": "web"}}, disruptionsAllowed=2)
    written = decremented(pdb, "web-1", dry_run=False)
    assert written is pdb
    assert pdb["status"]["disruptionsAllowed"] == 1
    assert list(pdb["status"]["disruptedPods"]) == ["web-1"]
    assert "conditions" not in pdb["status"]


def test_decrement_to_zero_sets_the_condition_and_dry_run_writes_nothing() -> None:
    pdb = budget(disruptionsAllowed=1)
    assert decremented(pdb, "web-1", dry_run=True) is None
    assert "disruptedPods" not in pdb["status"]
    [condition] = pdb["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "DisruptionAllowed",
        "False",
        "InsufficientPods",
    )


def test_no_disruption_allowed_is_429_with_the_budget_cause() -> None:
    with pytest.raises(TooManyRequests) as refused:
        decremented(budget(disruptionsAllowed=0), "web-1", dry_run=False)
    status = refused.value.to_status()
    assert status["code"] == 429
    assert status["message"] == (
        "Cannot evict pod as it would violate the pod's disruption budget."
    )
    assert status["details"] == {
        "causes": [
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web-pdb needs 2 healthy pods and has 3 currently",
            }
        ]
    }


def test_a_stale_budget_asks_to_retry() -> None:
    with pytest.raises(TooManyRequests) as refused:
        decremented(budget(generation=2, disruptionsAllowed=1), "web-1", dry_run=False)
    details = refused.value.to_status()["details"]
    assert details["retryAfterSeconds"] == 10
    assert details["causes"][0]["message"] == (
        "The disruption budget web-pdb is still being processed by the server."
    )


def test_untrustworthy_status_is_forbidden() -> None:
    with pytest.raises(Forbidden) as negative:
        decremented(budget(disruptionsAllowed=-1), "web-1", dry_run=False)
    assert negative.value.message == (
        'poddisruptionbudget.policy "web-pdb" is forbidden: pdb disruptions allowed is negative'
    )
    crowded = budget(
        disruptionsAllowed=1, disruptedPods={f"p{i}": "2024-01-01T00:00:00Z" for i in range(2001)}
    )
    with pytest.raises(Forbidden):
        decremented(crowded, "web-1", dry_run=False)
