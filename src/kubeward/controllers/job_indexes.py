"""``backoffLimitPerIndex`` for Indexed Jobs: each index retries on its own, and a failed
index does not fail the others (``indexed_job_utils.go`` and ``backoff_utils.go``).

Rules:

 1. Each pod of an index carries ``batch.kubernetes.io/job-index-failure-count`` (and, when
    a pod failure policy ignored failures, ``batch.kubernetes.io/job-index-ignored-failure-count``):
    the failures of the pods it replaces. A replacement gets the replaced pod's counts, plus
    one for its failure (ignored or counted, as the policy says).
 2. An index has failed when a pod of it failed with a ``FailIndex`` rule, or failed (and was
    counted) with a failure count already at ``backoffLimitPerIndex``. Failed indexes are
    written to ``status.failedIndexes`` (intervals) and never started again.
 3. More failed indexes than ``maxFailedIndexes`` fail the Job (``MaxFailedIndexesExceeded``);
    once every index has succeeded or failed and some failed, the Job fails
    (``FailedIndexes``).
 4. The last failed pod of an index that is neither done nor running keeps its finalizer
    until its replacement exists, so that the replacement can inherit its counts; the
    replacement waits ``10s * 2**(failures-1)`` (at most ten minutes) from that pod's end
    (the latest container ``finishedAt``, else when the controller saw it).
"""

from __future__ import annotations

import datetime

from kubeward.api import meta as m
from kubeward.controllers import job_pods as jp
from kubeward.controllers import ownership

INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0
_MAX_INT32 = 2**31 - 1


def has_backoff_limit_per_index(job: m.JSONObject) -> bool:
    spec = jp.spec_of(job)
    return jp.is_indexed(job) and spec.get("backoffLimitPerIndex") is not None


def _annotation_count(pod: m.JSONObject, key: str) -> int:
    raw = (m.metadata(pod).get("annotations") or {}).get(key)
    try:
        value = int(str(raw))
    except ValueError:
        return 0
    return value if 0 <= value <= _MAX_INT32 else 0


def failure_count(pod: m.JSONObject) -> int:
    """Rule 1."""
    return _annotation_count(pod, INDEX_FAILURE_COUNT)


def absolute_failure_count(pod: m.JSONObject) -> int:
    return failure_count(pod) + _annotation_count(pod, INDEX_IGNORED_FAILURE_COUNT)


def is_index_failed(job: m.JSONObject, pod: m.JSONObject) -> bool:
    """Rule 2."""
    if not jp.is_failed(pod, job):
        return False
    policy = jp.spec_of(job).get("podFailurePolicy")
    counted = True
    if policy:
        _, counted, action = jp.match_failure_policy(policy, pod)
        if action == "FailIndex":
            return True
    limit = int(jp.spec_of(job).get("backoffLimitPerIndex") or 0)
    return counted and failure_count(pod) >= limit


def failed_indexes(job: m.JSONObject, pods: list[m.JSONObject], completions: int) -> set[int]:
    """Rule 2: ``status.failedIndexes`` and the indexes that failed since."""
    found = jp.parse_intervals(str(jp.status_of(job).get("failedIndexes") or ""), completions)
    for pod in pods:
        index = jp.completion_index(pod)
        if (
            index is not None
            and index < completions
            and jp.has_tracking_finalizer(pod)
            and is_index_failed(job, pod)
        ):
            found.add(index)
    return found


def failure_reason(
    job: m.JSONObject, failed: set[int], succeeded: set[int]
) -> tuple[str, str] | None:
    """Rule 3: the (reason, message) the Job fails with, if any."""
    spec = jp.spec_of(job)
    most = spec.get("maxFailedIndexes")
    if most is not None and len(failed) > int(most):
        return (
            "MaxFailedIndexesExceeded",
            "Job has exceeded the specified maximal number of failed indexes",
        )
    if failed and len(failed) + len(succeeded) >= int(spec.get("completions") or 0):
        return "FailedIndexes", "Job has failed indexes"
    return None


def finished_time(pod: m.JSONObject, now: datetime.datetime) -> datetime.datetime:
    """Rule 4: when the pod ended."""
    latest: datetime.datetime | None = None
    status = jp.status_of(pod)
    for kind in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(kind) or []:
            terminated = (container.get("state") or {}).get("terminated") or {}
            moment = m.parse_time(str(terminated.get("finishedAt") or ""))
            if moment is not None and (latest is None or moment > latest):
                latest = moment
    if latest is None:
        latest = m.parse_time(str(m.metadata(pod).get("deletionTimestamp") or ""))
    return latest or now


def delayed_deletions(
    job: m.JSONObject,
    pods: list[m.JSONObject],
    active: list[m.JSONObject],
    done: set[int],
    expected_rm: set[str],
    now: datetime.datetime,
) -> dict[int, m.JSONObject]:
    """Rule 4: per pending index, the failed pod whose finalizer waits for its replacement."""
    completions = int(jp.spec_of(job).get("completions") or 0)
    running = {i for p in active if (i := jp.completion_index(p)) is not None}
    chosen: dict[int, m.JSONObject] = {}
    for pod in pods:
        if not jp.has_tracking_finalizer(pod) or ownership.uid_of(pod) in expected_rm:
            continue
        index = jp.completion_index(pod)
        if index is None or index >= completions or not jp.is_failed(pod, job):
            continue
        if index in done or index in running:
            continue
        last = chosen.get(index)
        if last is None or (
            absolute_failure_count(last) <= absolute_failure_count(pod)
            and finished_time(pod, now) >= finished_time(last, now)
        ):
            chosen[index] = pod
    return chosen


def replacement_counts(job: m.JSONObject, replaced: m.JSONObject | None) -> dict[str, str]:
    """Rule 1: the annotations of the pod that replaces ``replaced``."""
    if replaced is None:
        return {INDEX_FAILURE_COUNT: "0"}
    counted = failure_count(replaced)
    ignored = _annotation_count(replaced, INDEX_IGNORED_FAILURE_COUNT)
    policy = jp.spec_of(job).get("podFailurePolicy")
    if policy and not jp.match_failure_policy(policy, replaced)[1]:
        ignored += 1
    else:
        counted += 1
    found = {INDEX_FAILURE_COUNT: str(counted)}
    if ignored:
        found[INDEX_IGNORED_FAILURE_COUNT] = str(ignored)
    return found


def seconds_until_replacement(replaced: m.JSONObject | None, now: datetime.datetime) -> float:
    """Rule 4."""
    if replaced is None:
        return 0.0
    failures = absolute_failure_count(replaced) + 1
    delay = min(MAX_POD_FAILURE_BACKOFF, POD_FAILURE_BACKOFF * 2.0 ** (failures - 1))
    waited = (now - finished_time(replaced, now)).total_seconds()
    return max(0.0, delay - waited)


def pending_templates(
    job: m.JSONObject,
    taken: set[int],
    failed: set[int] | None,
    delayed: dict[int, m.JSONObject],
    count: int,
    now: datetime.datetime,
) -> tuple[list[tuple[m.JSONObject, str]], float | None]:
    """The pod templates of the lowest ``count`` indexes neither taken nor failed (rule 2),
    with their inherited counts, whose backoff is over; else how long until one's is (rule 4)."""
    spec = jp.spec_of(job)
    completions = int(spec.get("completions") or 0)
    skip = taken | (failed or set())
    pending = [i for i in range(completions) if i not in skip][:count]
    per_index = has_backoff_limit_per_index(job)
    if per_index:
        waits = {i: seconds_until_replacement(delayed.get(i), now) for i in pending}
        ready = [i for i in pending if waits[i] <= 0]
        if pending and not ready:
            return [], min(waits.values())
        pending = ready
    made: list[tuple[m.JSONObject, str]] = []
    for index in pending:
        template, generate_name = jp.with_index(spec.get("template") or {}, m.name_of(job), index)
        if per_index:
            annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
            annotations.update(replacement_counts(job, delayed.get(index)))
        made.append((template, generate_name))
    return made, None
