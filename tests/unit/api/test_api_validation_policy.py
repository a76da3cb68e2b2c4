"""policy/v1 PodDisruptionBudget validation as upstream's (pkg/apis/policy/validation)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.validation.policy import empty_status, validate_pdb, validate_pdb_status

SELECTOR = {"matchLabels": {"app": "web"}}

CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("minAvailable number", {"minAvailable": 2, "selector": SELECTOR}, []),
    ("maxUnavailable percent", {"maxUnavailable": "25%", "selector": SELECTOR}, []),
    ("no selector", {"minAvailable": 1}, []),
    (
        "both set",
        {"minAvailable": 1, "maxUnavailable": 1},
        [
            (
                "spec",
                'Invalid value: {"maxUnavailable": 1, "minAvailable": 1}: minAvailable and '
                "maxUnavailable cannot be both set",
            )
        ],
    ),
    (
        "negative",
        {"minAvailable": -1},
        [("spec.minAvailable", "Invalid value: -1: must be greater than or equal to 0")],
    ),
    (
        "over 100%",
        {"maxUnavailable": "101%"},
        [("spec.maxUnavailable", 'Invalid value: "101%": must not be greater than 100%')],
    ),
    (
        "unhealthy policy",
        {"minAvailable": 1, "unhealthyPodEvictionPolicy": "Never"},
        [
            (
                "spec.unhealthyPodEvictionPolicy",
                'Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
            )
        ],
    ),
    (
        "bad selector",
        {"selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
        [
            (
                "spec.selector.matchExpressions[0].values",
                "Required value: must be specified when `operator` is 'In' or 'NotIn'",
            )
        ],
    ),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pdb_validation(spec: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    causes = validate_pdb({"metadata": {"name": "p"}, "spec": spec})
    assert [(c.field, c.message) for c in causes] == expected


def test_pdb_status() -> None:
    assert empty_status() == {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    }
    bad = {"status": {**empty_status(), "disruptionsAllowed": -1}}
    assert [c.field for c in validate_pdb_status(bad)] == ["status.disruptionsAllowed"]
