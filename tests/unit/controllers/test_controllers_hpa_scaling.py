"""The autoscaler's normalization: bounds, the scale-up limit, stabilization windows and
``behavior`` policies, with time moved by hand (cases after upstream's ``horizontal_test.go``
``TestNormalizeDesiredReplicas*`` and ``TestScalingWithRules``)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeward.controllers.podautoscaler_scaling import ScalingHistory

T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
KEY = "ns/web"


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


WITHOUT_BEHAVIOR = {
    "within range": (3, 4, 1, 10, 4, "False", "DesiredWithinRange"),
    "below min": (3, 1, 2, 10, 2, "True", "TooFewReplicas"),
    "above max": (3, 12, 1, 5, 5, "True", "TooManyReplicas"),
    "faster than twice the current count": (3, 12, 1, 10, 6, "True", "ScaleUpLimit"),
    "at least four at once": (1, 12, 1, 10, 4, "True", "ScaleUpLimit"),
}


@pytest.mark.parametrize(
    ("current", "proposed", "minimum", "maximum", "expected", "limited", "reason"),
    WITHOUT_BEHAVIOR.values(),
    ids=WITHOUT_BEHAVIOR.keys(),
)
def test_bounds_without_behavior(
    current: int,
    proposed: int,
    minimum: int,
    maximum: int,
    expected: int,
    limited: str,
    reason: str,
) -> None:
    history = ScalingHistory()
    result = history.normalize(KEY, current, proposed, minimum, maximum, T0)
    assert (result.replicas, result.limited.status, result.limited.reason) == (
        expected,
        limited,
        reason,
    )
    assert result.able.reason == "ReadyForNewScale"


def test_scale_down_waits_out_the_downscale_stabilization_window() -> None:
    history = ScalingHistory(downscale_window=datetime.timedelta(minutes=5))
    history.record_initial(KEY, 5, T0)
    held = history.normalize(KEY, 5, 2, 1, 10, at(60))
    assert held.replicas == 5
    assert (held.able.reason, held.able.message) == (
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent"
        " recommendation",
    )
    assert history.normalize(KEY, 5, 2, 1, 10, at(299)).replicas == 5
    # The 5 recorded at T0 is now older than the window; the 2s are all that is left.
    released = history.normalize(KEY, 5, 2, 1, 10, at(301))
    assert (released.replicas, released.able.reason) == (2, "ReadyForNewScale")


def test_scale_up_is_never_stabilized_without_behavior() -> None:
    history = ScalingHistory()
    history.record_initial(KEY, 2, T0)
    assert history.normalize(KEY, 2, 3, 1, 10, at(1)).replicas == 3


def behavior(up: dict[str, Any] | None = None, down: dict[str, Any] | None = None) -> Any:
    given: dict[str, Any] = {}
    if up is not None:
        given["scaleUp"] = up
    if down is not None:
        given["scaleDown"] = down
    return given


def test_default_scale_up_policies_allow_four_pods_or_double() -> None:
    history = ScalingHistory()
    result = history.normalize_with_behavior(KEY, behavior(), 1, 20, 1, 100, T0)
    assert (result.replicas, result.limited.reason) == (5, "ScaleUpLimit")
    assert result.limited.message == (
        "the desired replica count is increasing faster than the maximum scale rate"
    )
    result = history.normalize_with_behavior(KEY, behavior(), 10, 50, 1, 100, T0)
    assert result.replicas == 20  # 100% of 10 beats 4 pods


def test_pods_added_within_a_period_count_against_it() -> None:
    history = ScalingHistory()
    rules = behavior(up={"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]})
    first = history.normalize_with_behavior(KEY, rules, 2, 10, 1, 10, T0)
    assert first.replicas == 4
    history.record_scale(KEY, rules, 2, 4, T0)
    held = history.normalize_with_behavior(KEY, rules, 4, 10, 1, 10, at(30))
    assert (held.replicas, held.limited.reason) == (4, "ScaleUpLimit")
    later = history.normalize_with_behavior(KEY, rules, 4, 10, 1, 10, at(61))
    assert later.replicas == 6


SELECT = {
    "Max takes the largest change": ("Max", 8, 5),
    "Min takes the smallest change": ("Min", 8, 3),
    "Disabled keeps the count": ("Disabled", 8, 2),
}


@pytest.mark.parametrize(("select", "proposed", "expected"), SELECT.values(), ids=SELECT.keys())
def test_select_policy_on_scale_up(select: str, proposed: int, expected: int) -> None:
    rules = behavior(
        up={
            "selectPolicy": select,
            "policies": [
                {"type": "Pods", "value": 3, "periodSeconds": 15},
                {"type": "Percent", "value": 50, "periodSeconds": 15},
            ],
        }
    )
    # From 2: 3 pods more is 5, 50% more is ceil(3.0) = 3.
    assert ScalingHistory().normalize_with_behavior(
        KEY, rules, 2, proposed, 1, 10, T0
    ).replicas == (expected)


def test_scale_down_percent_policy_and_its_period() -> None:
    history = ScalingHistory()
    rules = behavior(
        down={
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        }
    )
    history.record_initial(KEY, 10, T0)
    first = history.normalize_with_behavior(KEY, rules, 10, 1, 1, 20, at(1))
    assert (first.replicas, first.limited.reason) == (5, "ScaleDownLimit")
    history.record_scale(KEY, rules, 10, 5, at(1))
    # Within the period the count it started from is still 10: no further step down.
    assert history.normalize_with_behavior(KEY, rules, 5, 1, 1, 20, at(30)).replicas == 5
    assert history.normalize_with_behavior(KEY, rules, 5, 1, 1, 20, at(62)).replicas == 2


def test_scale_down_window_unset_in_behavior_is_the_controllers() -> None:
    history = ScalingHistory(downscale_window=datetime.timedelta(seconds=120))
    history.record_initial(KEY, 6, T0)
    rules = behavior(down={"policies": [{"type": "Pods", "value": 10, "periodSeconds": 15}]})
    held = history.normalize_with_behavior(KEY, rules, 6, 2, 1, 10, at(60))
    assert (held.replicas, held.able.reason) == (6, "ScaleDownStabilized")
    assert history.normalize_with_behavior(KEY, rules, 6, 2, 1, 10, at(121)).replicas == 2


def test_scale_up_stabilization_applies_the_lowest_recent_recommendation() -> None:
    history = ScalingHistory()
    rules = behavior(up={"stabilizationWindowSeconds": 60})
    history.record_initial(KEY, 2, T0)
    held = history.normalize_with_behavior(KEY, rules, 2, 6, 1, 10, at(10))
    assert (held.replicas, held.able.reason) == (2, "ScaleUpStabilized")
    assert held.able.message == (
        "recent recommendations were lower than current one, applying the lowest recent"
        " recommendation"
    )
    assert history.normalize_with_behavior(KEY, rules, 2, 6, 1, 10, at(61)).replicas == 6


def test_forget_drops_an_autoscalers_history() -> None:
    history = ScalingHistory()
    history.record_initial(KEY, 5, T0)
    history.forget(KEY)
    assert history.normalize(KEY, 5, 2, 1, 10, at(1)).replicas == 2
