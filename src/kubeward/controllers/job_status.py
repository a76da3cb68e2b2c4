"""What the job controller decides from a Job and its pods, without I/O (the rules are
``job``'s; this module holds the status arithmetic of ``pkg/controller/job``).

Rules (numbered as ``job``'s):

 3. After a counted failure new pods wait ``10s * 2**(failures-1)`` (at most ten minutes) from
    the moment the controller counted it; a success resets the count.
 4. A finished pod's uid is written into ``status.uncountedTerminatedPods`` before its
    finalizer is removed, and moves into ``succeeded``/``failed`` only once the finalizer is
    gone; at most ``MAX_UNCOUNTED_PODS`` are in flight.
 5. A Job finishes, in this order of precedence, with ``SuccessCriteriaMet`` already met, a
    ``FailureTarget`` already recorded, a pod failure policy's ``FailJob``
    (``PodFailurePolicy``), more failures than ``backoffLimit`` or, with ``restartPolicy:
    OnFailure``, as many container restarts (``BackoffLimitExceeded``), or its active deadline
    passed (``DeadlineExceeded``). The interim condition (``FailureTarget``,
    ``SuccessCriteriaMet``) is written first; the final one (``Failed``, ``Complete`` with ``completionTime``) once no pod is uncounted or
    terminating.
 6. The ``Suspended`` condition says ``JobSuspended``/``JobResumed``; resuming resets
    ``startTime``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from kubeward.api import meta as m
from kubeward.controllers import job_pods as jp
from kubeward.controllers import ownership

MAX_UNCOUNTED_PODS = 500
POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0
COMPLETE, FAILED = "Complete", "Failed"
FAILURE_TARGET, SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")


def condition_of(job: m.JSONObject, kind: str) -> m.JSONObject | None:
    for cond in jp.status_of(job).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return dict(cond)
    return None


def is_finished(job: m.JSONObject) -> bool:
    """A Job with a ``Complete`` or ``Failed`` condition that is True."""
    return condition_of(job, COMPLETE) is not None or condition_of(job, FAILED) is not None


def new_condition(kind: str, reason: str, message: str, now: datetime.datetime) -> m.JSONObject:
    stamp = m.format_time(now)
    cond: m.JSONObject = {
        "type": kind,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


@dataclass
class Backoff:
    """Rule 3."""

    failures: int = 0
    last_failure: datetime.datetime | None = None


@dataclass
class JobPass:
    """What one reconcile of a Job has found so far (upstream's ``syncJobCtx``)."""

    job: m.JSONObject
    pods: list[m.JSONObject]
    active: list[m.JSONObject]
    expected_rm: set[str]
    succeeded: int = 0
    failed: int = 0
    terminating: int = 0
    ready: int = 0
    finished: m.JSONObject | None = None
    succeeded_indexes: set[int] = field(default_factory=set)
    backoff: Backoff = field(default_factory=Backoff)
    failed_indexes: set[int] | None = None  # with backoffLimitPerIndex only
    delayed: dict[int, m.JSONObject] = field(default_factory=dict)


def new_finished(
    ctx: JobPass, unc_succeeded: set[str], unc_failed: set[str]
) -> tuple[list[m.JSONObject], list[m.JSONObject]]:
    succeeded: list[m.JSONObject] = []
    failed: list[m.JSONObject] = []
    completions = jp.spec_of(ctx.job).get("completions")
    for pod in ctx.pods:
        uid = ownership.uid_of(pod)
        if not jp.has_tracking_finalizer(pod) or uid in ctx.expected_rm:
            continue
        if jp.is_indexed(ctx.job):
            index = jp.completion_index(pod)
            if index is None or index >= int(completions or 0):
                continue
        if jp.phase_of(pod) == "Succeeded" and uid not in unc_succeeded:
            succeeded.append(pod)
        elif jp.is_failed(pod, ctx.job) and uid not in unc_failed:
            failed.append(pod)
    return succeeded, failed


def succeeded_indexes(job: m.JSONObject, pods: list[m.JSONObject], completions: int) -> set[int]:
    found = jp.parse_intervals(str(jp.status_of(job).get("completedIndexes") or ""), completions)
    for pod in pods:
        index = jp.completion_index(pod)
        if jp.phase_of(pod) == "Succeeded" and index is not None and index < completions:
            found.add(index)
    return found


def fail_job_message(job: m.JSONObject, pods: list[m.JSONObject]) -> str | None:
    policy = jp.spec_of(job).get("podFailurePolicy")
    if not policy:
        return None
    for pod in pods:
        if jp.is_failed(pod, job):
            message = jp.match_failure_policy(policy, pod)[0]
            if message is not None:
                return message
    return None


def match_success_policy(job: m.JSONObject, succeeded: set[int]) -> str | None:
    """Rule 5: the message of the first ``successPolicy`` rule the succeeded indexes meet.

    A rule with ``succeededIndexes`` needs all of them (or ``succeededCount`` of them); a rule
    with only ``succeededCount`` needs that many succeeded indexes.
    """
    spec = jp.spec_of(job)
    policy = spec.get("successPolicy")
    if not isinstance(policy, dict) or not succeeded:
        return None
    completions = int(spec.get("completions") or 0)
    for index, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        wanted = rule.get("succeededIndexes")
        if wanted is not None:
            required = jp.parse_intervals(str(wanted), completions)
            if not required:
                continue
            met = len(required & succeeded)
            if (count is None and met == len(required)) or (count is not None and met >= count):
                return f"Matched rules at index {index}"
        elif count is not None and len(succeeded) >= int(count):
            return f"Matched rules at index {index}"
    return None


def decide_failure(
    ctx: JobPass, now: datetime.datetime
) -> tuple[m.JSONObject | None, float | None]:
    """Rule 5: the condition the Job is finishing with (None: not finishing), and when to look
    again for its active deadline."""
    job, pods = ctx.job, ctx.pods
    met = condition_of(job, SUCCESS_CRITERIA_MET)
    if met is not None:
        return met, None
    target = condition_of(job, FAILURE_TARGET)
    if target is not None:
        reason, message = target.get("reason", ""), target.get("message", "")
        return new_condition(FAILED, reason, message, now), None
    message = fail_job_message(job, pods)
    if message is not None:
        return new_condition(FAILURE_TARGET, "PodFailurePolicy", message, now), None
    raw_limit = jp.spec_of(job).get("backoffLimit")
    limit = 6 if raw_limit is None else int(raw_limit)
    if ctx.failed > limit or past_backoff_limit_on_failure(job, pods, limit):
        text = "Job has reached the specified backoff limit"
        return new_condition(FAILURE_TARGET, "BackoffLimitExceeded", text, now), None
    left = deadline_left(job, now)
    if left is not None and left <= 0:
        text = "Job was active longer than specified deadline"
        return new_condition(FAILURE_TARGET, "DeadlineExceeded", text, now), None
    return None, left


@dataclass
class Tracking:
    """The outcome of :func:`plan_tracking`."""

    to_release: list[m.JSONObject]
    needs_flush: bool
    reached_max: bool
    with_finalizer: set[str]


def plan_tracking(ctx: JobPass, needs_flush: bool, now: datetime.datetime) -> Tracking:
    """Rules 4 and 5: record the finished pods as uncounted and the interim condition in the
    status; say which pods lose the finalizer and whether the status must be written."""
    job = ctx.job
    status = job["status"]
    indexed = jp.is_indexed(job)
    completions = int(jp.spec_of(job).get("completions") or 0)
    policy = jp.spec_of(job).get("podFailurePolicy")
    recorded = status.setdefault("uncountedTerminatedPods", {})
    unc_succeeded: list[str] = list(recorded.get("succeeded") or [])
    unc_failed: list[str] = list(recorded.get("failed") or [])
    with_finalizer = {
        ownership.uid_of(p)
        for p in ctx.pods
        if jp.has_tracking_finalizer(p) and ownership.uid_of(p) not in ctx.expected_rm
    }
    needs_flush = clean_uncounted(status, unc_succeeded, unc_failed, with_finalizer) or needs_flush
    unc_succeeded = list(status["uncountedTerminatedPods"].get("succeeded") or [])
    unc_failed = list(status["uncountedTerminatedPods"].get("failed") or [])
    to_release: list[m.JSONObject] = []
    new_indexes: set[int] = set()
    reached_max = False
    finishing = ctx.finished is not None and ctx.finished["type"] != SUCCESS_CRITERIA_MET
    for pod in ctx.pods:
        uid = ownership.uid_of(pod)
        if not jp.has_tracking_finalizer(pod) or uid in ctx.expected_rm:
            continue
        failed_now = jp.is_failed(pod, job)
        succeeded_now = jp.phase_of(pod) == "Succeeded"
        if not (ownership.is_deleting(job) or ctx.finished or succeeded_now or failed_now):
            continue
        index = jp.completion_index(pod)
        settled = ownership.is_deleting(job) or ctx.finished or succeeded_now
        if not settled and index is not None and ctx.delayed.get(index) is pod:
            continue  # rule 4 of job_indexes: its replacement inherits its counts first
        to_release.append(pod)
        if succeeded_now and uid not in unc_failed:
            if indexed:
                if index is not None and index < completions:
                    new_indexes.add(index)
            elif uid not in unc_succeeded:
                unc_succeeded.append(uid)
                needs_flush = True
        elif (
            (failed_now or finishing)
            and uid not in unc_failed
            and (not indexed or (index is not None and index < completions))
            and jp.match_failure_policy(policy, pod)[1]
        ):
            unc_failed.append(uid)
            needs_flush = True
        if len(new_indexes) + len(unc_succeeded) + len(unc_failed) >= MAX_UNCOUNTED_PODS:
            reached_max = True
            break
    status["uncountedTerminatedPods"] = uncounted(unc_succeeded, unc_failed)
    if indexed:
        text = jp.format_intervals(ctx.succeeded_indexes | new_indexes)
        if text != (status.get("completedIndexes") or ""):
            needs_flush = True
        status["completedIndexes"] = text
        status["succeeded"] = len(ctx.succeeded_indexes | new_indexes)
    if ctx.failed_indexes is not None:
        failed_text = jp.format_intervals(ctx.failed_indexes)
        if failed_text != status.get("failedIndexes"):
            needs_flush = True
        status["failedIndexes"] = failed_text
    if ctx.finished is not None and ctx.finished["type"] == FAILURE_TARGET:
        status.setdefault("conditions", []).append(ctx.finished)
        needs_flush = True
        ctx.finished = new_condition(
            FAILED, ctx.finished.get("reason", ""), ctx.finished.get("message", ""), now
        )
    elif ctx.finished is not None and ctx.finished["type"] == SUCCESS_CRITERIA_MET:
        if condition_of(job, SUCCESS_CRITERIA_MET) is None:
            status.setdefault("conditions", []).append(ctx.finished)
            needs_flush = True
        ctx.finished = new_condition(
            COMPLETE, ctx.finished.get("reason", ""), ctx.finished.get("message", ""), now
        )
    return Tracking(to_release, needs_flush, reached_max, with_finalizer)


def enact_finished(ctx: JobPass, status: m.JSONObject) -> bool:
    """Rule 5: the final condition, once nothing is uncounted or terminating."""
    cond = ctx.finished
    if cond is None:
        return False
    unc = status.get("uncountedTerminatedPods") or {}
    if unc.get("succeeded") or unc.get("failed") or ctx.terminating > 0:
        return False
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]]
    status["conditions"] = [*conditions, cond]
    if cond["type"] == COMPLETE:
        status["completionTime"] = cond["lastTransitionTime"]
    return True


def next_backoff(
    old: Backoff,
    succeeded: list[m.JSONObject],
    failed: list[m.JSONObject],
    now: datetime.datetime,
) -> Backoff:
    if succeeded and not failed:
        return Backoff()
    if failed:
        return Backoff(old.failures + len(failed), now)
    return Backoff(old.failures, old.last_failure)


def suspend_condition(job: m.JSONObject, suspended: bool, now: datetime.datetime) -> str | None:
    """Rule 6: update the ``Suspended`` condition; the event reason when it changed."""
    status = job["status"]
    conditions: list[m.JSONObject] = status.setdefault("conditions", [])
    existing = next((c for c in conditions if c.get("type") == "Suspended"), None)
    if suspended:
        wanted = ("True", "JobSuspended", "Job suspended")
    else:
        wanted = ("False", "JobResumed", "Job resumed")
    if existing is None and not suspended:
        return None
    if (
        existing is not None
        and (
            existing.get("status"),
            existing.get("reason"),
            existing.get("message"),
        )
        == wanted
    ):
        return None
    cond = new_condition("Suspended", wanted[1], wanted[2], now)
    cond["status"] = wanted[0]
    if existing is not None:
        conditions[conditions.index(existing)] = cond
    else:
        conditions.append(cond)
    if suspended:
        return "Suspended"
    status["startTime"] = m.format_time(now)
    return "Resumed"


def uncounted(succeeded: list[str], failed: list[str]) -> m.JSONObject:
    found: m.JSONObject = {}
    if succeeded:
        found["succeeded"] = succeeded
    if failed:
        found["failed"] = failed
    return found


def clean_uncounted(
    status: m.JSONObject, succeeded: list[str], failed: list[str], with_finalizer: set[str]
) -> bool:
    """Rule 4: uncounted uids whose finalizer is gone move into the counters."""
    kept_succeeded = [u for u in succeeded if u in with_finalizer]
    kept_failed = [u for u in failed if u in with_finalizer]
    changed = len(kept_succeeded) != len(succeeded) or len(kept_failed) != len(failed)
    status["succeeded"] = int(status.get("succeeded") or 0) + len(succeeded) - len(kept_succeeded)
    status["failed"] = int(status.get("failed") or 0) + len(failed) - len(kept_failed)
    status["uncountedTerminatedPods"] = uncounted(kept_succeeded, kept_failed)
    return changed


def past_backoff_limit_on_failure(job: m.JSONObject, pods: list[m.JSONObject], limit: int) -> bool:
    template_spec = (jp.spec_of(job).get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if jp.phase_of(pod) in ("Running", "Pending"):
            status = jp.status_of(pod)
            for kind in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(int(s.get("restartCount") or 0) for s in status.get(kind) or [])
    return restarts > 0 if limit == 0 else restarts >= limit


def deadline_left(job: m.JSONObject, now: datetime.datetime) -> float | None:
    """Seconds until ``activeDeadlineSeconds`` runs out (None: no deadline applies)."""
    deadline = jp.spec_of(job).get("activeDeadlineSeconds")
    started = m.parse_time(str(jp.status_of(job).get("startTime") or ""))
    if deadline is None or started is None or jp.spec_of(job).get("suspend"):
        return None
    return float(deadline) - (now - started).total_seconds()


def backoff_left(backoff: Backoff, now: datetime.datetime) -> float:
    """Rule 3."""
    if backoff.failures <= 0 or backoff.last_failure is None:
        return 0.0
    delay = min(MAX_POD_FAILURE_BACKOFF, POD_FAILURE_BACKOFF * 2.0 ** (backoff.failures - 1))
    return max(0.0, delay - (now - backoff.last_failure).total_seconds())
