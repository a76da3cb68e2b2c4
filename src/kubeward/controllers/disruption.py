"""The disruption controller: each PodDisruptionBudget's status, which the pod ``eviction``
subresource reads and spends (``pkg/controller/disruption``).

Rules:

 1. A budget's pods are those of its namespace its selector matches (an empty selector
    matches every pod, a missing or invalid one none). None found is a ``NoPods`` event.
 2. ``expectedPods`` and ``desiredHealthy`` (``getExpectedPodCount``): with an integer
    ``minAvailable``, the number of pods and that integer. With ``maxUnavailable`` or a
    percentage ``minAvailable``, ``expectedPods`` is the sum of the scales of the pods'
    controllers — a ReplicaSet's ``spec.replicas`` (its Deployment's when a Deployment controls
    it), a StatefulSet's or a ReplicationController's, any other kind's ``scale``
    subresource (``scales``) — each counted once; a percentage is
    rounded up; ``desiredHealthy`` is ``expectedPods - maxUnavailable`` (at least 0) or the
    scaled ``minAvailable``. Pods without a controller are left out of the sum and reported
    by an ``UnmanagedPods`` event; a controller that cannot be found fails the sync.
 3. ``currentHealthy`` counts the Ready pods not being deleted and not recorded in
    ``disruptedPods`` less than :data:`DELETION_TIMEOUT` ago. ``disruptedPods`` keeps only
    such recent entries of pods not yet being deleted; the budget is looked at again when the
    oldest of them expires.
 4. ``disruptionsAllowed`` is ``currentHealthy - desiredHealthy``, or 0 when that is negative
    or no pod is expected. ``observedGeneration`` is the budget's generation. The
    ``DisruptionAllowed`` condition is True (``SufficientPods``) when disruptions are allowed,
    else False (``InsufficientPods``), its ``lastTransitionTime`` changing only with its
    status.
 5. When the computation fails, the fail-safe status is written: ``disruptionsAllowed`` 0 and
    the condition False with reason ``SyncFailed`` and the error as message, so evictions stop
    rather than pass; the budget is retried with backoff.
 6. Status is written through ``/status`` only when it changed, with the controller's own
    client (``disruption-controller`` under ``--use-service-account-credentials``); a lost
    race is looked at again shortly.
 7. A pod that was given the ``DisruptionTarget`` condition (True) but is still not being
    deleted nor ended :data:`STALE_POD_DISRUPTION_TIMEOUT` later (an eviction whose deletion
    never came) gets the condition back to False through its ``/status``, unless the kubelet
    set it (reason ``TerminationByKubelet``) (``syncStalePodDisruption``). Such pods are
    queued under keys starting with :data:`STALE_POD_PREFIX`.
"""

from __future__ import annotations

import copy
import datetime
import logging
import math
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import PODS
from kubeward.api.resources.policy import PODDISRUPTIONBUDGETS
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import ownership, podstate
from kubeward.controllers.base import Controller
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.informer import Informer, key_of
from kubeward.controllers.scales import ScaleReader
from kubeward.controllers.status_writes import Written, write_status
from kubeward.errors import BadRequest, DisruptionSyncFailed, NotFound, StatusError

log = logging.getLogger("kubeward.controllers")

DELETION_TIMEOUT = datetime.timedelta(minutes=2)
STALE_POD_DISRUPTION_TIMEOUT = datetime.timedelta(minutes=2)
STALE_POD_PREFIX = "stale-pod-disruption:"
DISRUPTION_TARGET = "DisruptionTarget"
DISRUPTION_ALLOWED = "DisruptionAllowed"
RETRY_AFTER_CONFLICT = 0.1


def scaled_value(value: Any, total: int) -> int:
    """``intstr.GetScaledValueFromIntOrPercent`` rounding up (rule 2)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if not text.endswith("%") or not text[:-1].lstrip("-").isdigit():
        raise DisruptionSyncFailed(f"invalid value for IntOrString: invalid value {text!r}")
    return math.ceil(int(text[:-1]) * total / 100)


def pods_of(budget: m.JSONObject, pods: list[m.JSONObject]) -> list[m.JSONObject]:
    """Rule 1."""
    raw = (budget.get("spec") or {}).get("selector")
    if raw is None:
        return []
    try:
        selector = LabelSelector.from_dict(raw)
    except BadRequest:
        return []
    return [p for p in pods if selector.matches(m.metadata(p).get("labels") or {})]


class ScaleFinder:
    """The scale of a pod's controller (``finders``): ReplicaSet (or its Deployment),
    StatefulSet, ReplicationController, read from the informers; any other kind through its
    ``scale`` subresource (``scales``), when a reader is given."""

    def __init__(self, workloads: dict[str, Informer], scales: ScaleReader | None = None) -> None:
        self.workloads = workloads  # kind -> informer
        self.scales = scales

    def _owner(self, kind: str, namespace: str, ref: m.JSONObject) -> m.JSONObject | None:
        informer = self.workloads.get(kind)
        if informer is None or ref.get("kind") != kind:
            return None
        found = informer.get(f"{namespace}/{ref.get('name')}")
        if found is None or ownership.uid_of(found) != ref.get("uid"):
            return None
        return found

    async def scale(self, ref: m.JSONObject, namespace: str) -> tuple[str, int] | None:
        """(controller uid, replicas), or None when no known controller answers."""
        rs = self._owner("ReplicaSet", namespace, ref)
        if rs is not None:
            parent = ownership.controller_ref(rs)
            if parent is not None and parent.get("kind") == "Deployment":
                deployment = self._owner("Deployment", namespace, parent)
                if deployment is None:
                    return None
                return ownership.uid_of(deployment), _replicas(deployment)
            return ownership.uid_of(rs), _replicas(rs)
        for kind in ("StatefulSet", "ReplicationController"):
            owner = self._owner(kind, namespace, ref)
            if owner is not None:
                return ownership.uid_of(owner), _replicas(owner)
        if ref.get("kind") in self.workloads or self.scales is None:
            return None
        return await self.scales.scale(ref, namespace)


def _replicas(obj: m.JSONObject) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


async def expected_counts(
    budget: m.JSONObject, pods: list[m.JSONObject], finder: ScaleFinder
) -> tuple[int, int, list[str]]:
    """Rule 2: (expectedPods, desiredHealthy, unmanaged pod names).

    Raises:
        DisruptionSyncFailed: a pod's controller is unknown, or a value is not a percentage.
    """
    spec = budget.get("spec") or {}
    max_unavailable = spec.get("maxUnavailable")
    min_available = spec.get("minAvailable")
    if max_unavailable is not None:
        expected, unmanaged = await _expected_scale(budget, pods, finder)
        desired = max(expected - scaled_value(max_unavailable, expected), 0)
        return expected, desired, unmanaged
    if min_available is not None:
        if isinstance(min_available, int) and not isinstance(min_available, bool):
            return len(pods), min_available, []
        expected, unmanaged = await _expected_scale(budget, pods, finder)
        return expected, scaled_value(min_available, expected), unmanaged
    return 0, 0, []


async def _expected_scale(
    budget: m.JSONObject, pods: list[m.JSONObject], finder: ScaleFinder
) -> tuple[int, list[str]]:
    scales: dict[str, int] = {}
    unmanaged: list[str] = []
    for pod in pods:
        ref = ownership.controller_ref(pod)
        if ref is None:
            unmanaged.append(m.name_of(pod))
            continue
        if str(ref.get("uid")) in scales:
            continue
        found = await finder.scale(ref, m.namespace_of(pod))
        if found is None:
            raise DisruptionSyncFailed(f'found no controllers for pod "{m.name_of(pod)}"')
        scales[found[0]] = found[1]
        scales.setdefault(str(ref.get("uid")), 0)  # its ReplicaSet: counted through the owner
    return sum(scales.values()), unmanaged


def disrupted_pods(
    budget: m.JSONObject, pods: list[m.JSONObject], now: datetime.datetime
) -> tuple[dict[str, str], float | None]:
    """Rule 3: the entries still pending, and when the first of them expires (seconds)."""
    recorded = (budget.get("status") or {}).get("disruptedPods") or {}
    kept: dict[str, str] = {}
    recheck: float | None = None
    for pod in pods:
        if m.metadata(pod).get("deletionTimestamp"):
            continue
        when = recorded.get(m.name_of(pod))
        moment = m.parse_time(str(when)) if when else None
        if moment is None:
            continue
        left = (moment + DELETION_TIMEOUT - now).total_seconds()
        if left < 0:
            continue
        kept[m.name_of(pod)] = str(when)
        recheck = left if recheck is None else min(recheck, left)
    return kept, recheck


def current_healthy(
    pods: list[m.JSONObject], disrupted: dict[str, str], now: datetime.datetime
) -> int:
    """Rule 3."""
    count = 0
    for pod in pods:
        if m.metadata(pod).get("deletionTimestamp"):
            continue
        when = disrupted.get(m.name_of(pod))
        moment = m.parse_time(when) if when else None
        if moment is not None and moment + DELETION_TIMEOUT > now:
            continue
        if podstate.is_ready(pod):
            count += 1
    return count


def with_condition(
    status: dict[str, Any], old: dict[str, Any], allowed: bool, reason: str, message: str = ""
) -> None:
    """Rule 4 (``meta.SetStatusCondition``): the DisruptionAllowed condition in ``status``."""
    wanted = "True" if allowed else "False"
    previous = next(
        (c for c in old.get("conditions") or [] if c.get("type") == DISRUPTION_ALLOWED), None
    )
    since = (
        previous.get("lastTransitionTime")
        if previous is not None and previous.get("status") == wanted
        else m.format_time(m.now())
    )
    others = [c for c in old.get("conditions") or [] if c.get("type") != DISRUPTION_ALLOWED]
    status["conditions"] = [
        *others,
        {
            "type": DISRUPTION_ALLOWED,
            "status": wanted,
            "observedGeneration": status.get("observedGeneration", 0),
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        },
    ]


async def calculate_status(
    budget: m.JSONObject,
    pods: list[m.JSONObject],
    finder: ScaleFinder,
    now: datetime.datetime,
) -> tuple[dict[str, Any], float | None, list[str]]:
    """Rules 2-4: the new status, when to look again, and the unmanaged pods.

    Raises:
        DisruptionSyncFailed: as :func:`expected_counts`.
    """
    expected, desired, unmanaged = await expected_counts(budget, pods, finder)
    disrupted, recheck = disrupted_pods(budget, pods, now)
    healthy = current_healthy(pods, disrupted, now)
    allowed = healthy - desired
    if expected <= 0 or allowed <= 0:
        allowed = 0
    status: dict[str, Any] = {
        "observedGeneration": int(m.metadata(budget).get("generation") or 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
    }
    if disrupted:
        status["disruptedPods"] = disrupted
    reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
    with_condition(status, budget.get("status") or {}, allowed > 0, reason)
    return status, recheck, unmanaged


def stale_disruption_wait(pod: m.JSONObject, now: datetime.datetime) -> float | None:
    """Rule 7: seconds until the pod's DisruptionTarget condition is stale (0: it is), or
    None when the pod has no such condition to clean."""
    if m.metadata(pod).get("deletionTimestamp"):
        return None
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return None
    condition = next(
        (
            c
            for c in (pod.get("status") or {}).get("conditions") or []
            if c.get("type") == DISRUPTION_TARGET
        ),
        None,
    )
    if condition is None or condition.get("status") != "True":
        return None
    if condition.get("reason") == "TerminationByKubelet":
        return None
    since = m.parse_time(str(condition.get("lastTransitionTime") or "")) or now
    return max((since + STALE_POD_DISRUPTION_TIMEOUT - now).total_seconds(), 0.0)


def fail_safe_status(budget: m.JSONObject, error: str) -> dict[str, Any]:
    """Rule 5."""
    old = budget.get("status") or {}
    status = copy.deepcopy(old)
    status["disruptionsAllowed"] = 0
    status.setdefault("observedGeneration", 0)
    with_condition(status, old, False, "SyncFailed", error)
    return status


class DisruptionController(Controller):
    name = "disruption"

    def __init__(
        self,
        budgets: Informer,
        pods: Informer,
        workloads: dict[str, Informer],
        client: APIClient,
        *,
        workers: int = 2,
        scales: ScaleReader | None = None,
    ) -> None:
        super().__init__(budgets, workers=workers)
        self.pods = pods
        self.finder = ScaleFinder(workloads, scales)
        self.client = client
        self.events = EventRecorder(client, "controllermanager")
        self.depends_on(pods, *workloads.values())
        pods.add_event_handler(self._pod_changed, self._pod_updated, self._pod_changed)
        for informer in workloads.values():
            informer.add_event_handler(on_update=self._scale_changed)

    def _pod_changed(self, pod: m.JSONObject) -> None:
        if stale_disruption_wait(pod, m.now()) is not None:
            self.queue.add(STALE_POD_PREFIX + key_of(pod))
        for budget in pods_budgets(self.informer.in_namespace(m.namespace_of(pod)), pod):
            self.queue.add(key_of(budget))

    def _pod_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new:
            return
        self._pod_changed(old)
        if m.metadata(old).get("labels") != m.metadata(new).get("labels"):
            self._pod_changed(new)
        elif stale_disruption_wait(new, m.now()) is not None:
            self.queue.add(STALE_POD_PREFIX + key_of(new))

    def _scale_changed(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new or (old.get("spec") or {}).get("replicas") == (new.get("spec") or {}).get(
            "replicas"
        ):
            return
        for budget in self.informer.in_namespace(m.namespace_of(new)):
            self.queue.add(key_of(budget))

    async def reconcile(self, key: str) -> float | None:
        if key.startswith(STALE_POD_PREFIX):
            return await self._clean_stale_disruption(key.removeprefix(STALE_POD_PREFIX))
        budget = self.cached(key)
        if budget is None:
            return None
        pods = pods_of(budget, list(self.pods.in_namespace(m.namespace_of(budget))))
        rt = PODDISRUPTIONBUDGETS
        if not pods:
            self.events.event(budget, rt, NORMAL, "NoPods", "No matching pods found")
        try:
            status, recheck, unmanaged = await calculate_status(budget, pods, self.finder, m.now())
        except DisruptionSyncFailed as exc:
            self.events.event(
                budget,
                rt,
                WARNING,
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {exc!s}",
            )
            await self._write(budget, fail_safe_status(budget, str(exc)))
            raise
        if unmanaged:
            selector = (budget.get("spec") or {}).get("selector")
            self.events.event(
                budget,
                rt,
                WARNING,
                "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: {selector}) were found "
                "to be unmanaged. As a result, the status of the PDB cannot be calculated "
                "correctly, which may result in undefined behavior. To account for these pods "
                'please set ".spec.minAvailable" field of the PDB to an integer value.',
            )
        if not await self._write(budget, status):
            return RETRY_AFTER_CONFLICT
        return recheck

    async def _clean_stale_disruption(self, pod_key: str) -> float | None:
        """Rule 7."""
        pod = self.pods.get(pod_key)
        if pod is None:
            return None
        wait = stale_disruption_wait(pod, m.now())
        if wait is None:
            return None
        if wait > 0:
            return wait
        updated = copy.deepcopy(pod)
        conditions = updated["status"]["conditions"]
        for index, condition in enumerate(conditions):
            if condition.get("type") == DISRUPTION_TARGET:
                conditions[index] = {
                    "type": DISRUPTION_TARGET,
                    "status": "False",
                    "lastTransitionTime": m.format_time(m.now()),
                }
        try:
            await self.client.update(
                PODS, updated, namespace=m.namespace_of(pod), subresource="status"
            )
        except NotFound:
            return None
        except StatusError as exc:
            if exc.code != 409:
                raise
            return RETRY_AFTER_CONFLICT
        return None

    async def _write(self, budget: m.JSONObject, status: dict[str, Any]) -> bool:
        """Rule 6; False after a lost race."""
        if _comparable(budget.get("status") or {}) == _comparable(status):
            return True
        written = await write_status(self.client, PODDISRUPTIONBUDGETS, budget, status)
        return written is not Written.STALE


def _comparable(status: dict[str, Any]) -> dict[str, Any]:
    out = dict(status)
    out.setdefault("disruptedPods", {})
    out["disruptedPods"] = out["disruptedPods"] or {}
    return out


def pods_budgets(budgets: Any, pod: m.JSONObject) -> list[m.JSONObject]:
    """The budgets of the pod's namespace that select it (rule 1)."""
    return [b for b in budgets if pods_of(b, [pod])]
