"""From a metrics' proposal to the replica count the autoscaler sets: min/max, the scale-up
limit, stabilization windows and ``behavior`` policies (``horizontal.go``'s
``normalizeDesiredReplicas*``).

The history of recommendations and scale events is kept per HPA in memory, as upstream keeps
it: a restarted controller-manager starts with an empty one. Rules:

 1. Every pass records its unstabilized recommendation (the first pass of an HPA records the
    current count). An old record (outside every window) is replaced, else one is appended.
 2. Without ``behavior``: the recommendation is the highest of those made within the downscale
    stabilization window (``--horizontal-pod-autoscaler-downscale-stabilization``, 5 minutes)
    and this one (``ScaleDownStabilized`` when that differs from this one, else
    ``ReadyForNewScale``). It is then held within ``minReplicas`` (``TooFewReplicas``) and the
    lower of ``maxReplicas`` (``TooManyReplicas``) and ``max(2 * current, 4)``
    (``ScaleUpLimit``); else ``DesiredWithinRange``.
 3. With ``behavior``: the recommendation is held between the lowest recommendation within the
    scale-up window and the highest within the scale-down window (a scale-down window left
    unset is the controller's). Scaling up is then limited by the policies of ``scaleUp``:
    each policy allows, from the count at the start of its period (the current count less the
    pods added and plus the pods removed within the period), ``value`` more pods (``Pods``) or
    ``ceil(count * (1 + value / 100))`` (``Percent``); ``selectPolicy`` Max takes the largest
    allowance, Min the smallest, Disabled none. Scaling down likewise, with ``Percent`` as
    ``floor(count * (1 - value / 100))``. Then ``maxReplicas`` / ``minReplicas``.
 4. Scale events (how many pods were added or removed, and when) are recorded only for HPAs
    with ``behavior``; events older than the direction's longest policy period are reused.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCALE_UP_LIMIT_FACTOR = 2
SCALE_UP_LIMIT_MINIMUM = 4
_DEFAULT_SCALE_UP: dict[str, Any] = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_DEFAULT_SCALE_DOWN: dict[str, Any] = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


@dataclass(frozen=True)
class Verdict:
    """A condition's status, reason and message."""

    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class Normalized:
    """The count to set, and what the ``AbleToScale`` and ``ScalingLimited`` conditions say."""

    replicas: int
    able: Verdict
    limited: Verdict


@dataclass
class _Recommendation:
    replicas: int
    at: datetime.datetime


@dataclass
class _ScaleEvent:
    change: int
    at: datetime.datetime
    outdated: bool = False


@dataclass(frozen=True)
class Rules:
    """One direction of ``behavior`` with its defaults filled in."""

    window: int
    select: str
    policies: tuple[tuple[str, int, int], ...]  # (type, value, periodSeconds)

    @classmethod
    def of(cls, rules: Mapping[str, Any] | None, defaults: Mapping[str, Any], window: int) -> Rules:
        given = dict(rules or {})
        seconds = given.get("stabilizationWindowSeconds")
        if seconds is None:
            seconds = defaults.get("stabilizationWindowSeconds", window)
        policies = given.get("policies") or defaults["policies"]
        return cls(
            int(seconds),
            str(given.get("selectPolicy") or defaults["selectPolicy"]),
            tuple(
                (str(p.get("type")), int(p.get("value") or 0), int(p.get("periodSeconds") or 0))
                for p in policies
            ),
        )

    @property
    def longest_period(self) -> int:
        return max((period for _, _, period in self.policies), default=0)


def _changed_within(events: list[_ScaleEvent], seconds: int, now: datetime.datetime) -> int:
    cutoff = now - datetime.timedelta(seconds=seconds)
    return sum(e.change for e in events if e.at > cutoff)


@dataclass
class ScalingHistory:
    """Rules 1 and 4: one controller's memory of its HPAs' recommendations and scale events."""

    downscale_window: datetime.timedelta = datetime.timedelta(minutes=5)
    recommendations: dict[str, list[_Recommendation]] = field(default_factory=dict)
    scale_ups: dict[str, list[_ScaleEvent]] = field(default_factory=dict)
    scale_downs: dict[str, list[_ScaleEvent]] = field(default_factory=dict)

    def forget(self, key: str) -> None:
        for table in (self.recommendations, self.scale_ups, self.scale_downs):
            table.pop(key, None)

    def record_initial(self, key: str, current: int, now: datetime.datetime) -> None:
        if not self.recommendations.get(key):
            self.recommendations[key] = [_Recommendation(current, now)]

    def _record(
        self, key: str, replicas: int, old_index: int | None, now: datetime.datetime
    ) -> None:
        records = self.recommendations.setdefault(key, [])
        if old_index is not None:
            records[old_index] = _Recommendation(replicas, now)
        else:
            records.append(_Recommendation(replicas, now))

    # --- rule 2 ---------------------------------------------------------------------------
    def normalize(
        self,
        key: str,
        current: int,
        proposed: int,
        min_replicas: int,
        max_replicas: int,
        now: datetime.datetime,
    ) -> Normalized:
        cutoff = now - self.downscale_window
        highest, old_index = proposed, None
        for i, rec in enumerate(self.recommendations.get(key, [])):
            if rec.at < cutoff:
                old_index = i
            elif rec.replicas > highest:
                highest = rec.replicas
        self._record(key, proposed, old_index, now)
        if highest != proposed:
            able = Verdict(
                "True",
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest"
                " recent recommendation",
            )
        else:
            able = Verdict("True", "ReadyForNewScale", "recommended size matches current size")
        replicas, reason, message = _within_rules(current, highest, min_replicas, max_replicas)
        status = "False" if replicas == highest else "True"
        return Normalized(replicas, able, Verdict(status, reason, message))

    # --- rules 3 and 4 --------------------------------------------------------------------
    def rules(self, behavior: Mapping[str, Any]) -> tuple[Rules, Rules]:
        window = int(self.downscale_window.total_seconds())
        return (
            Rules.of(behavior.get("scaleUp"), _DEFAULT_SCALE_UP, window),
            Rules.of(behavior.get("scaleDown"), _DEFAULT_SCALE_DOWN, window),
        )

    def normalize_with_behavior(
        self,
        key: str,
        behavior: Mapping[str, Any],
        current: int,
        proposed: int,
        min_replicas: int,
        max_replicas: int,
        now: datetime.datetime,
    ) -> Normalized:
        up, down = self.rules(behavior)
        stabilized, reason, message = self._stabilize(key, up, down, current, proposed, now)
        if stabilized != proposed:
            able = Verdict("True", reason, message)
        else:
            able = Verdict("True", "ReadyForNewScale", "recommended size matches current size")
        replicas, reason, message = self._rate_limit(
            key, up, down, current, stabilized, min_replicas, max_replicas, now
        )
        status = "False" if replicas == stabilized else "True"
        return Normalized(replicas, able, Verdict(status, reason, message))

    def _stabilize(
        self, key: str, up: Rules, down: Rules, current: int, proposed: int, now: datetime.datetime
    ) -> tuple[int, str, str]:
        up_cutoff = now - datetime.timedelta(seconds=up.window)
        down_cutoff = now - datetime.timedelta(seconds=down.window)
        lowest = highest = proposed
        old_index = None
        for i, rec in enumerate(self.recommendations.get(key, [])):
            if rec.at > up_cutoff:
                lowest = min(lowest, rec.replicas)
            if rec.at > down_cutoff:
                highest = max(highest, rec.replicas)
            if rec.at < up_cutoff and rec.at < down_cutoff:
                old_index = i
        recommendation = min(max(current, lowest), highest)
        self._record(key, proposed, old_index, now)
        if proposed >= current:
            return (
                recommendation,
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent"
                " recommendation",
            )
        return (
            recommendation,
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent"
            " recommendation",
        )

    def _rate_limit(
        self,
        key: str,
        up: Rules,
        down: Rules,
        current: int,
        desired: int,
        min_replicas: int,
        max_replicas: int,
        now: datetime.datetime,
    ) -> tuple[int, str, str]:
        ups, downs = self.scale_ups.get(key, []), self.scale_downs.get(key, [])
        if desired > current:
            limit = max(_scale_up_limit(current, ups, downs, up, now), current)
            if max_replicas > limit:
                allowed, reason, message = (
                    limit,
                    "ScaleUpLimit",
                    "the desired replica count is increasing faster than the maximum scale rate",
                )
            else:
                allowed, reason, message = (
                    max_replicas,
                    "TooManyReplicas",
                    "the desired replica count is more than the maximum replica count",
                )
            if desired > allowed:
                return allowed, reason, message
        elif desired < current:
            limit = min(_scale_down_limit(current, ups, downs, down, now), current)
            if min_replicas < limit:
                allowed, reason, message = (
                    limit,
                    "ScaleDownLimit",
                    "the desired replica count is decreasing faster than the maximum scale rate",
                )
            else:
                allowed, reason, message = (
                    min_replicas,
                    "TooFewReplicas",
                    "the desired replica count is less than the minimum replica count",
                )
            if desired < allowed:
                return allowed, reason, message
        return desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def record_scale(
        self,
        key: str,
        behavior: Mapping[str, Any] | None,
        previous: int,
        new: int,
        now: datetime.datetime,
    ) -> None:
        """Rule 4."""
        if behavior is None:
            return
        up, down = self.rules(behavior)
        if new > previous:
            events, period, change = (
                self.scale_ups.setdefault(key, []),
                up.longest_period,
                new - previous,
            )
        else:
            events, period, change = (
                self.scale_downs.setdefault(key, []),
                down.longest_period,
                previous - new,
            )
        cutoff = now - datetime.timedelta(seconds=period)
        old_index = None
        for i, event in enumerate(events):
            if event.at < cutoff:
                event.outdated = True
            if event.outdated:
                old_index = i
        if old_index is not None:
            events[old_index] = _ScaleEvent(change, now)
        else:
            events.append(_ScaleEvent(change, now))


def _scale_up_limit(
    current: int,
    ups: list[_ScaleEvent],
    downs: list[_ScaleEvent],
    rules: Rules,
    now: datetime.datetime,
) -> int:
    if rules.select == "Disabled":
        return current
    proposals = []
    for kind, value, period in rules.policies:
        start = current - _changed_within(ups, period, now) + _changed_within(downs, period, now)
        if kind == "Pods":
            proposals.append(start + value)
        elif kind == "Percent":
            proposals.append(math.ceil(start * (1 + value / 100)))
    if not proposals:
        return current
    return min(proposals) if rules.select == "Min" else max(proposals)


def _scale_down_limit(
    current: int,
    ups: list[_ScaleEvent],
    downs: list[_ScaleEvent],
    rules: Rules,
    now: datetime.datetime,
) -> int:
    if rules.select == "Disabled":
        return current
    proposals = []
    for kind, value, period in rules.policies:
        start = current - _changed_within(ups, period, now) + _changed_within(downs, period, now)
        if kind == "Pods":
            proposals.append(start - value)
        elif kind == "Percent":
            proposals.append(int(start * (1 - value / 100)))
    if not proposals:
        return current
    return max(proposals) if rules.select == "Min" else min(proposals)


def _within_rules(
    current: int, desired: int, min_replicas: int, max_replicas: int
) -> tuple[int, str, str]:
    """Rule 2's bounds (``convertDesiredReplicasWithRules``)."""
    scale_up_limit = max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM)
    if max_replicas > scale_up_limit:
        highest, reason, message = (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    else:
        highest, reason, message = (
            max_replicas,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    if desired < min_replicas:
        return (
            min_replicas,
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    if desired > highest:
        return highest, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
