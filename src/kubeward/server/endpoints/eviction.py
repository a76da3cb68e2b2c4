"""The pod ``eviction`` subresource: delete a pod unless a PodDisruptionBudget forbids it.

``POST /api/v1/namespaces/NS/pods/NAME/eviction`` with a policy/v1 (or v1beta1) ``Eviction``,
as ``kubectl drain`` and the Python client's ``create_namespaced_pod_eviction`` send it. As
upstream's ``pkg/registry/core/pod/storage/eviction.go``:

 1. The Eviction's name must be the pod's (400 otherwise); its ``deleteOptions.dryRun`` and the
    request's ``dryRun`` must agree when both are given. A missing pod is 404.
 2. A pod that is Succeeded, Failed, Pending or already being deleted is deleted without
    looking at budgets (with its resourceVersion as a precondition unless it is terminal or
    being deleted, so it cannot turn Running meanwhile); a lost race reads the pod again and
    decides again, unless the client gave a resourceVersion.
 3. Otherwise the budgets of the pod's namespace whose valid selector matches the pod's labels
    are found (an empty selector matches every pod, a missing one none): none means the pod is
    deleted; more than one is a 500 that the eviction subresource does not support it.
 4. With one budget: a pod that is not Ready is deleted without spending the budget when the
    budget's ``unhealthyPodEvictionPolicy`` is AlwaysAllow or it already has enough healthy
    pods (``currentHealthy >= desiredHealthy > 0``); the deletion then carries the pod's
    resourceVersion as a precondition, and a conflict is answered 429 so the client retries
    (unless the client gave a resourceVersion itself).
 5. Otherwise the budget is checked and decremented: a status older than the spec
    (``observedGeneration < generation``) is 429 with ``retryAfterSeconds: 10``; a negative
    ``disruptionsAllowed`` or more than 2000 ``disruptedPods`` is 403; zero
    ``disruptionsAllowed`` is 429 ``Cannot evict pod as it would violate the pod's disruption
    budget.`` with a ``DisruptionBudget`` cause naming the needed and current healthy pods.
    Else ``disruptionsAllowed`` goes down by one (the ``DisruptionAllowed`` condition turns
    False at zero) and the pod is recorded in ``disruptedPods`` with the time, written through
    the budget's ``/status`` (retried on conflict; not written under dry run).
 6. The pod then gets the ``DisruptionTarget`` condition (True, ``EvictionByEvictionAPI``) in
    its status, unless this is a dry run, and is deleted with the Eviction's ``deleteOptions``
    (grace period, preconditions) as an ordinary delete; the answer is 201 with a Success
    Status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubeward.admission.interfaces import CREATE
from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.core import PODS
from kubeward.api.resources.policy import PODDISRUPTIONBUDGETS
from kubeward.api.selectors import LabelSelector
from kubeward.api.user import UserInfo
from kubeward.errors import (
    BadRequest,
    Cause,
    Conflict,
    Forbidden,
    InternalError,
    StatusDetails,
    Timeout,
    TooManyRequests,
)
from kubeward.server.endpoints.bodies import read_body_as
from kubeward.server.http import json_response
from kubeward.server.resources import RequestContext

if TYPE_CHECKING:
    from kubeward.server.app import APIServer, VirtualHandler

MAX_DISRUPTED_POD_SIZE = 2000
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
VIOLATION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
_PDB_RETRIES = 20
_POD_RETRIES = 20  # upstream's EvictionsRetry steps


def register(server: APIServer) -> None:
    server.virtual[("", "pods", "eviction")] = _handler(server)


def _upgrade(obj: dict[str, Any]) -> None:
    """A policy/v1beta1 Eviction is read as the v1 one (they have the same fields)."""
    if obj.get("apiVersion") == "policy/v1beta1":
        obj["apiVersion"] = "policy/v1"


def _too_many_requests(cause: str, retry_after: int = 0) -> TooManyRequests:
    return TooManyRequests(
        VIOLATION_MESSAGE,
        StatusDetails(
            causes=(Cause(DISRUPTION_BUDGET_CAUSE, cause),), retry_after_seconds=retry_after
        ),
    )


def _still_processing(pdb_name: str) -> TooManyRequests:
    return _too_many_requests(
        f"The disruption budget {pdb_name} is still being processed by the server.", 10
    )


def _forbidden(pdb_name: str, reason: str) -> Forbidden:
    return Forbidden(
        f'poddisruptionbudget.policy "{pdb_name}" is forbidden: {reason}',
        StatusDetails(name=pdb_name, group="policy", kind="poddisruptionbudget"),
    )


def _phase(pod: m.JSONObject) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _deleting(pod: m.JSONObject) -> bool:
    return bool(m.metadata(pod).get("deletionTimestamp"))


def can_ignore_budget(pod: m.JSONObject) -> bool:
    """Rule 2: terminal, pending and terminating pods have already left (or never joined)."""
    return _phase(pod) in ("Succeeded", "Failed", "Pending") or _deleting(pod)


def _enforces_resource_version(pod: m.JSONObject) -> bool:
    return _phase(pod) not in ("Succeeded", "Failed") and not _deleting(pod)


def is_pod_ready(pod: m.JSONObject) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def matching_budgets(pod: m.JSONObject, budgets: list[m.JSONObject]) -> list[m.JSONObject]:
    """Rule 3: budgets whose selector is valid and matches the pod (an empty selector matches
    every pod, a missing one none, as ``LabelSelectorAsSelector`` reads them)."""
    labels = m.metadata(pod).get("labels") or {}
    found = []
    for budget in budgets:
        selector = (budget.get("spec") or {}).get("selector")
        if selector is None:
            continue
        try:
            compiled = LabelSelector.from_dict(selector)
        except BadRequest:
            continue
        if compiled.matches(labels):
            found.append(budget)
    return found


def _set_disruption_condition(status: dict[str, Any], now: str) -> None:
    """``UpdateDisruptionAllowedCondition`` with ``apimeta.SetStatusCondition``."""
    allowed = int(status.get("disruptionsAllowed") or 0) > 0
    wanted = {
        "type": "DisruptionAllowed",
        "status": "True" if allowed else "False",
        "reason": "SufficientPods" if allowed else "InsufficientPods",
        "message": "",
        "observedGeneration": int(status.get("observedGeneration") or 0),
    }
    conditions = status.setdefault("conditions", [])
    for condition in conditions:
        if condition.get("type") == "DisruptionAllowed":
            if condition.get("status") != wanted["status"]:
                condition["lastTransitionTime"] = now
            condition.update(wanted)
            return
    conditions.append({**wanted, "lastTransitionTime": now})


def decremented(budget: m.JSONObject, pod_name: str, *, dry_run: bool) -> m.JSONObject | None:
    """Rule 5 on ``budget`` (changed in place); None when nothing is to be written (dry run).

    Raises:
        TooManyRequests: the budget is stale or allows no disruption now.
        Forbidden: the budget's status cannot be trusted.
    """
    name = m.name_of(budget)
    status = budget.setdefault("status", {})
    generation = int(m.metadata(budget).get("generation") or 0)
    if int(status.get("observedGeneration") or 0) < generation:
        raise _still_processing(name)
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise _forbidden(name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
        raise _forbidden(
            name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        )
    if allowed == 0:
        raise _too_many_requests(
            f"The disruption budget {name} needs {int(status.get('desiredHealthy') or 0)} "
            f"healthy pods and has {int(status.get('currentHealthy') or 0)} currently"
        )
    status["disruptionsAllowed"] = allowed - 1
    now = m.format_time(m.now())
    if allowed - 1 == 0:
        _set_disruption_condition(status, now)
    if dry_run:
        return None
    disrupted = status.get("disruptedPods")
    if not isinstance(disrupted, dict):
        disrupted = status["disruptedPods"] = {}
    disrupted[pod_name] = now
    return budget


async def _spend_budget(
    budgets: Store, namespace: str, budget: m.JSONObject, pod_name: str, *, dry_run: bool
) -> None:
    """Rule 5, retried on conflict with a fresh read of the budget."""
    name = m.name_of(budget)
    for attempt in range(_PDB_RETRIES):
        if attempt:
            budget = await budgets.get(namespace, name)
        to_write = decremented(budget, pod_name, dry_run=dry_run)
        if to_write is None:
            return
        try:
            await budgets.update(namespace, name, to_write, subresource="status")
            return
        except Conflict:
            continue
    raise Timeout(
        f'couldn\'t update PodDisruptionBudget "{name}" due to conflicts',
        StatusDetails(retry_after_seconds=10),
    )


async def _delete_if_budgets_do_not_apply(
    server: APIServer, ctx: RequestContext, options: m.JSONObject, dry_run: bool, given_rv: str
) -> m.JSONObject | None:
    """Rule 2: delete a pod that budgets do not protect, retrying a lost race (unless the
    client named a resourceVersion); returns the pod when budgets do apply, None when done."""
    for _ in range(_POD_RETRIES):
        pod = await ctx.store.get(ctx.info.namespace, ctx.info.name)
        if not can_ignore_budget(pod):
            return pod
        rv = given_rv
        if not rv and _enforces_resource_version(pod):
            rv = str(m.metadata(pod).get("resourceVersion") or "")
        try:
            await _delete(server, ctx, options, dry_run, rv)
            return None
        except Conflict:
            if given_rv:
                raise
    raise Conflict(
        f'Operation cannot be fulfilled on pods "{ctx.info.name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        StatusDetails(name=ctx.info.name, kind="pods"),
    )


def _dry_run(eviction: m.JSONObject, query_dry_run: list[str]) -> tuple[m.JSONObject, bool]:
    """Rule 1's dry-run agreement; returns the delete options and whether this is a dry run."""
    options = eviction.get("deleteOptions")
    options = dict(options) if isinstance(options, dict) else {}
    body_dry_run = options.get("dryRun") or []
    if body_dry_run and query_dry_run and list(body_dry_run) != list(query_dry_run):
        raise BadRequest(
            "Non-matching dry-run options in request and content: "
            f"[{' '.join(query_dry_run)}] and [{' '.join(body_dry_run)}]"
        )
    dry_run = bool(body_dry_run or query_dry_run)
    return options, dry_run


def _handler(server: APIServer) -> VirtualHandler:
    async def handle(
        request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        pods = server.stores[PODS]
        budgets = server.stores[PODDISRUPTIONBUDGETS]
        eviction = await read_body_as(
            request, body, group="policy", kind="Eviction", upgrade=_upgrade
        )
        if m.name_of(eviction) != info.name:
            raise BadRequest("name in URL does not match name in Eviction object")
        options, dry_run = _dry_run(eviction, request.query.getall("dryRun", []))
        ctx = RequestContext(request, info, user, PODS, pods)
        admission = server.handlers.admission_for(ctx, CREATE)
        await admission.mutate(eviction, None)
        await admission.validate(eviction, None)
        namespace, name = info.namespace, info.name
        preconditions = options.get("preconditions") or {}
        given_rv = str(preconditions.get("resourceVersion") or "")
        pod = await _delete_if_budgets_do_not_apply(server, ctx, options, dry_run, given_rv)
        if pod is None:
            return _success()
        rv = given_rv
        pod_rv = str(m.metadata(pod).get("resourceVersion") or "")
        retry_on_conflict = ""  # the budget whose 429 a lost race becomes (rule 4)
        listed = await budgets.list(namespace, ListOptions())
        found = matching_budgets(pod, listed["items"])
        if len(found) > 1:
            raise InternalError(
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support."
            )
        if found:
            budget = found[0]
            status = budget.get("status") or {}
            unhealthy_allowed = (budget.get("spec") or {}).get(
                "unhealthyPodEvictionPolicy"
            ) == "AlwaysAllow" or (
                int(status.get("currentHealthy") or 0) >= int(status.get("desiredHealthy") or 0) > 0
            )
            if not is_pod_ready(pod) and unhealthy_allowed:
                if not rv:
                    retry_on_conflict = m.name_of(budget)
                rv = pod_rv
            else:
                await _spend_budget(budgets, namespace, budget, name, dry_run=dry_run)
        try:
            await _delete(server, ctx, options, dry_run, rv)
        except Conflict as exc:
            if retry_on_conflict:
                raise _still_processing(retry_on_conflict) from exc
            raise
        return _success()

    return handle


def _disruption_target(name: str, uid: str, rv: str) -> Callable[[m.JSONObject], m.JSONObject]:
    """Rule 6's first step: the pod's status gains the ``DisruptionTarget`` condition, on the
    latest pod, unless the preconditions no longer hold (409, worded as upstream)."""

    def mutate(pod: m.JSONObject) -> m.JSONObject:
        meta = m.metadata(pod)
        if uid and uid != meta.get("uid"):
            raise Conflict(
                f'Operation cannot be fulfilled on Pod "{name}": the UID in the precondition '
                f"({uid}) does not match the UID in record ({meta.get('uid')}). The object "
                "might have been deleted and then recreated",
                StatusDetails(name=name, kind="Pod"),
            )
        if rv and rv != meta.get("resourceVersion"):
            raise Conflict(
                f'Operation cannot be fulfilled on Pod "{name}": the ResourceVersion in the '
                f"precondition ({rv}) does not match the ResourceVersion in record "
                f"({meta.get('resourceVersion')}). The object might have been modified",
                StatusDetails(name=name, kind="Pod"),
            )
        status = pod.setdefault("status", {})
        conditions = status.setdefault("conditions", [])
        wanted = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "EvictionByEvictionAPI",
            "message": "Eviction API: evicting",
        }
        for condition in conditions:
            if condition.get("type") == "DisruptionTarget":
                if condition.get("status") != "True":
                    condition["lastTransitionTime"] = m.format_time(m.now())
                condition.update(wanted)
                break
        else:
            conditions.append({**wanted, "lastTransitionTime": m.format_time(m.now())})
        return pod

    return mutate


async def _delete(
    server: APIServer, ctx: RequestContext, options: m.JSONObject, dry_run: bool, rv: str
) -> None:
    """Rule 6: mark the pod as a disruption target, then delete it as any DELETE would."""
    preconditions = options.get("preconditions") or {}
    uid = str(preconditions.get("uid") or "")
    namespace, name = ctx.info.namespace, ctx.info.name
    if not dry_run:
        marked = await ctx.store.guaranteed_update(
            namespace, name, _disruption_target(name, uid, rv), subresource="status"
        )
        if rv:
            rv = str(m.metadata(marked).get("resourceVersion") or "")
    graceful, seconds = await server.handlers.graceful_for(ctx, options.get("gracePeriodSeconds"))
    await ctx.store.delete(
        namespace,
        name,
        precondition_uid=uid,
        precondition_rv=rv,
        dry_run=dry_run,
        graceful=graceful,
        grace_period_seconds=seconds,
    )


def _success() -> web.Response:
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )
