"""Preemption: room for a pod that fits nowhere, made by removing pods of lower priority.

kube-scheduler's ``DefaultPreemption`` post-filter, without I/O: the scheduler
(``scheduler.scheduler``) gives it the cluster as it sees it and carries out its answer
(marks the victims ``DisruptionTarget``, deletes them, nominates the node). Rules:

 1. A pod's priority is ``spec.priority`` (set by the Priority admission plugin), else 0. Of
    two pods the more important has the higher priority, then the earlier ``startTime``.
 2. Eligibility: ``preemptionPolicy: Never`` never preempts; a pod already nominated to a
    node waits while a lower-priority pod there is terminating because the scheduler preempted
    it (``DisruptionTarget`` True, reason ``PreemptionByScheduler``), so that one pod does not
    preempt twice.
 3. Only nodes that failed on resources can become candidates: removing pods cannot fix
    a taint, a selector or a cordon ("Preemption is not helpful for scheduling").
 4. On a candidate every lower-priority pod is removed; if the pod still does not fit, the node
    fails with that reason; with no lower-priority pod at all, "No preemption victims found
    for incoming pod". Then victims are reprieved, most important first and those whose
    eviction would break a PodDisruptionBudget before the others: each is put back if the pod
    still fits. A budget counts against a victim when it selects it (an empty selector selects
    nothing here, as upstream), the victim is not already in its ``disruptedPods``, and its
    ``disruptionsAllowed`` is used up by the victims before it.
 5. Among candidates: fewest budget violations, then the lowest highest victim priority, then
    the smallest sum of priorities (each shifted by 2³¹ so negative ones add up correctly), then
    the fewest victims, then the latest start of the most important victims, then the first.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from kubeward.api import meta as m
from kubeward.api.selectors import LabelSelector
from kubeward.errors import BadRequest
from kubeward.scheduler.podinfo import pod_requests

JSONObject = dict[str, Any]

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
TERMINATING_ON_NOMINATED = "not eligible due to a terminating pod on the nominated node."
PREEMPTED_REASON = "PreemptionByScheduler"

Fit = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Fraction]], str | None]
_FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def priority(pod: Mapping[str, Any]) -> int:
    """Rule 1."""
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _start_time(pod: Mapping[str, Any]) -> datetime.datetime:
    stamp = (pod.get("status") or {}).get("startTime")
    parsed = m.parse_time(stamp) if isinstance(stamp, str) else None
    return parsed or _FAR_FUTURE  # not started yet: the least senior


def importance(pod: Mapping[str, Any]) -> tuple[int, float]:
    """Rule 1 as a sort key: sorting by it descending puts the most important first."""
    return (priority(pod), -_start_time(pod).timestamp())


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def preempted_by_scheduler(pod: Mapping[str, Any]) -> bool:
    if not _meta(pod).get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "DisruptionTarget":
            return bool(
                condition.get("status") == "True" and condition.get("reason") == PREEMPTED_REASON
            )
    return False


def not_eligible(
    pod: Mapping[str, Any],
    pods_on_nominated_node: Iterable[Mapping[str, Any]],
    nominated_node_unresolvable: bool = False,
) -> str | None:
    """Rule 2: why the pod may not preempt now, or None."""
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return POLICY_NEVER
    if not (pod.get("status") or {}).get("nominatedNodeName") or nominated_node_unresolvable:
        return None
    mine = priority(pod)
    for other in pods_on_nominated_node:
        if priority(other) < mine and preempted_by_scheduler(other):
            return TERMINATING_ON_NOMINATED
    return None


def _budget_selector(budget: Mapping[str, Any]) -> LabelSelector | None:
    raw = (budget.get("spec") or {}).get("selector")
    if not raw or not (raw.get("matchLabels") or raw.get("matchExpressions")):
        return None  # rule 4: an empty selector selects nothing here
    try:
        return LabelSelector.from_dict(raw)
    except BadRequest:
        return None


def split_by_budget(
    pods: Sequence[JSONObject], budgets: Sequence[Mapping[str, Any]]
) -> tuple[list[JSONObject], list[JSONObject]]:
    """Rule 4: (pods whose eviction breaks a budget, the others), each in the given order."""
    allowed = [int((b.get("status") or {}).get("disruptionsAllowed") or 0) for b in budgets]
    selectors = [_budget_selector(b) for b in budgets]
    violating: list[JSONObject] = []
    others: list[JSONObject] = []
    for pod in pods:
        meta = _meta(pod)
        labels = meta.get("labels") or {}
        broken = False
        for i, budget in enumerate(budgets):
            selector = selectors[i]
            if (
                selector is None
                or not labels
                or _meta(budget).get("namespace") != meta.get("namespace")
                or not selector.matches(labels)
                or meta.get("name") in ((budget.get("status") or {}).get("disruptedPods") or {})
            ):
                continue
            allowed[i] -= 1
            if allowed[i] < 0:
                broken = True
        (violating if broken else others).append(pod)
    return violating, others


@dataclass(frozen=True)
class Candidate:
    """A node the pod fits on once ``victims`` (most important first) are gone."""

    node: str
    victims: tuple[JSONObject, ...]
    budget_violations: int


def _plus(free: Mapping[str, Fraction], pods: Iterable[JSONObject]) -> dict[str, Fraction]:
    out = dict(free)
    for pod in pods:
        for name, value in pod_requests(pod).items():
            out[name] = out.get(name, Fraction(0)) + value
    return out


def select_victims(
    pod: Mapping[str, Any],
    node: Mapping[str, Any],
    free: Mapping[str, Fraction],
    pods_on_node: Iterable[JSONObject],
    budgets: Sequence[Mapping[str, Any]],
    fit: Fit,
) -> Candidate | str:
    """Rule 4: the fewest pods to remove from ``node`` for ``pod`` to fit, else why none do.

    ``free`` is what the node has left with all of ``pods_on_node`` on it; ``fit`` is the
    resource filter (``scheduler.filters.resources_fit``)."""
    mine = priority(pod)
    potential = sorted(
        (p for p in pods_on_node if priority(p) < mine), key=importance, reverse=True
    )
    if not potential:
        return NO_VICTIMS
    removed = list(potential)
    reason = fit(pod, node, _plus(free, removed))
    if reason:
        return reason
    violating, others = split_by_budget(potential, budgets)
    victims: list[JSONObject] = []
    violations = 0
    for group, counts in ((violating, True), (others, False)):
        for candidate in group:
            without = [p for p in removed if p is not candidate]
            if fit(pod, node, _plus(free, without)) is None:
                removed = without  # reprieved: it stays
                continue
            victims.append(candidate)
            violations += counts
    victims.sort(key=importance, reverse=True)
    return Candidate(_meta(node).get("name", ""), tuple(victims), violations)


def _earliest_start_of_most_important(victims: Sequence[JSONObject]) -> float:
    top = priority(victims[0])
    return min(_start_time(v).timestamp() for v in victims if priority(v) == top)


_SCORES: tuple[Callable[[Candidate], float], ...] = (
    lambda c: -c.budget_violations,
    lambda c: -priority(c.victims[0]),
    lambda c: -sum(priority(v) + 2**31 for v in c.victims),
    lambda c: -len(c.victims),
    lambda c: _earliest_start_of_most_important(c.victims),
)


def pick(candidates: Sequence[Candidate]) -> Candidate:
    """Rule 5 (``candidates`` not empty, each with at least one victim)."""
    remaining = list(candidates)
    for score in _SCORES:
        if len(remaining) == 1:
            break
        best = max(score(c) for c in remaining)
        remaining = [c for c in remaining if score(c) == best]
    return remaining[0]
