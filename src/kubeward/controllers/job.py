"""The job controller: runs a Job's pods to completion (``pkg/controller/job``).

Rules (the pod-level ones are in ``job_pods``):

 1. A Job's pods are those of its namespace it claims (``ownership``), terminated ones too.
    While expectations are pending for it, or it is being deleted, it creates and deletes
    nothing (its cache has not seen its last writes yet).
 2. Active pods wanted: ``parallelism``, or fewer when fewer completions remain (``completions``
    unset: none once one pod has succeeded); suspended: none. Surplus pods are deleted
    (indexed: duplicate and out-of-range indexes first), then missing ones created in
    slow-start batches, at most ``MAX_POD_CREATE_DELETE_PER_SYNC`` a pass; an Indexed Job
    creates its lowest pending indexes. With ``podReplacementPolicy: Failed`` terminating pods
    are not replaced until they have failed.
 3. After a counted failure, new pods wait ``10s * 2**(failures-1)`` (at most ten minutes)
    from the moment the controller counted it; a success resets the count.
 4. Counting (the ``job-tracking`` finalizer): a finished pod's uid goes into
    ``status.uncountedTerminatedPods`` (written first), then its finalizer is removed, then it
    moves into ``succeeded``/``failed``. Failures a pod failure policy ``Ignore``\\ s are not
    counted. Indexed Jobs count ``completedIndexes`` instead of uids.
 5. The Job fails (``FailureTarget`` first, then ``Failed`` once no pod is uncounted or
    terminating, as 1.32 with JobPodReplacementPolicy does) when a pod failure policy says
    ``FailJob`` (reason ``PodFailurePolicy``), when more than ``backoffLimit`` pods failed (or,
    with ``restartPolicy: OnFailure``, container restarts reach it) (``BackoffLimitExceeded``),
    or when it has been active ``activeDeadlineSeconds`` (``DeadlineExceeded``); with
    ``backoffLimitPerIndex``, when its failed indexes say so (``job_indexes``). Its active pods
    are then deleted. It completes (``SuccessCriteriaMet``, then ``Complete``, reason
    ``CompletionsReached``, with ``completionTime``) when enough pods succeeded and none is
    active, or when an Indexed Job's ``successPolicy`` matches (reason ``SuccessPolicy``,
    ``Matched rules at index N``; its remaining pods are deleted).
 6. ``startTime`` is set when the Job first runs unsuspended and reset on resume; the
    ``Suspended`` condition says ``JobSuspended``/``JobResumed``. ``active``, ``ready`` and
    ``terminating`` are written each pass that changes them.
 7. Events as upstream: ``SuccessfulCreate``/``SuccessfulDelete``/``FailedCreate`` for pods,
    ``Completed``, the failure reason as a Warning, ``Suspended``, ``Resumed``.
 8. Times come from the injected clock (``clock``); a moved fake clock makes every Job be
    looked at again. Pods with the finalizer whose Job is gone have it removed.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.batch import JOBS
from kubeward.api.resources.core import PODS
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import job_indexes as ji
from kubeward.controllers import job_pods as jp
from kubeward.controllers import job_status as js
from kubeward.controllers import ownership, podstate
from kubeward.controllers.base import Controller
from kubeward.controllers.clock import Clock, RealClock, on_loop
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.expectations import Expectations
from kubeward.controllers.informer import Informer, key_of
from kubeward.errors import BadRequest, JobSyncFailed, KubewardError, NotFound

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
MAX_POD_CREATE_DELETE_PER_SYNC = 500
ORPHAN_PREFIX = "orphan-pod:"


class JobController(Controller):
    name = "job"

    def __init__(
        self,
        jobs: Informer,
        pods: Informer,
        client: APIClient,
        *,
        clock: Clock | None = None,
        workers: int = 5,
    ) -> None:
        super().__init__(jobs, workers=workers)
        self.pods = pods
        self.client = client
        self.clock: Clock = clock or RealClock()
        self.rt: ResourceType = JOBS
        self.expectations = Expectations()
        self.finalizer_expectations: dict[str, set[str]] = {}
        self.backoffs: dict[str, js.Backoff] = {}
        self.events = EventRecorder(client, "job-controller")
        self.depends_on(pods)
        pods.add_event_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.clock.subscribe(on_loop(loop, self._requeue_all))
        await super().run()

    def _requeue_all(self) -> None:
        for key in list(self.informer.cache):
            self.queue.add(key)

    # --- pod events -------------------------------------------------------------------------
    def _owner_key(self, pod: m.JSONObject) -> str | None:
        ref = ownership.controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        key = f"{m.namespace_of(pod)}/{ref.get('name')}"
        job = self.informer.get(key)
        if job is None or ownership.uid_of(job) != ref.get("uid"):
            return None
        return key

    def _pod_changed(self, pod: m.JSONObject) -> str | None:
        key = self._owner_key(pod)
        if key is not None:
            if not jp.has_tracking_finalizer(pod):
                self.finalizer_expectations.get(key, set()).discard(ownership.uid_of(pod))
            self.queue.add(key)
        elif jp.has_tracking_finalizer(pod):
            self.queue.add(ORPHAN_PREFIX + key_of(pod))
        return key

    def _pod_added(self, pod: m.JSONObject) -> None:
        if m.metadata(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._pod_changed(pod)
        if key is not None:
            self.expectations.creation_observed(key)

    def _pod_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if new is old:
            return
        if m.metadata(new).get("deletionTimestamp") and not m.metadata(old).get(
            "deletionTimestamp"
        ):
            key = self._owner_key(new)
            if key is not None:
                self.expectations.deletion_observed(key, key_of(new))
        self._pod_changed(new)

    def _pod_deleted(self, pod: m.JSONObject) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, key_of(pod))
            self.finalizer_expectations.get(key, set()).discard(ownership.uid_of(pod))
            self.queue.add(key)

    # --- reconcile --------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        if key.startswith(ORPHAN_PREFIX):
            await self._release_orphan(key[len(ORPHAN_PREFIX) :])
            return None
        job = self.cached(key)
        if job is None:
            self.expectations.forget(key)
            self.finalizer_expectations.pop(key, None)
            self.backoffs.pop(key, None)
            return None
        try:
            selector = LabelSelector.from_dict(jp.spec_of(job).get("selector"))
        except BadRequest:
            return None
        candidates = list(self.pods.in_namespace(m.namespace_of(job)))
        pods = await ownership.claim(job, self.rt, selector, candidates, self._merge_patch_pod)
        if js.is_finished(job):
            pending = self.finalizer_expectations.get(key, set())
            left = [
                p
                for p in pods
                if jp.has_tracking_finalizer(p) and ownership.uid_of(p) not in pending
            ]
            await self._remove_finalizers(key, left)
            return None
        return await self._sync(key, job, pods)

    async def _sync(self, key: str, job: m.JSONObject, pods: list[m.JSONObject]) -> float | None:
        satisfied = self.expectations.satisfied(key)
        now = self.clock.now()
        job = copy.deepcopy(job)
        status = job.setdefault("status", {})
        spec = jp.spec_of(job)
        expected_rm = set(self.finalizer_expectations.get(key, set()))
        ctx = js.JobPass(
            job, pods, [p for p in pods if podstate.is_active(p)], expected_rm, backoff=js.Backoff()
        )
        ctx.terminating = sum(1 for p in pods if _terminating(p))
        ctx.ready = sum(1 for p in ctx.active if podstate.is_ready(p))
        uncounted = status.get("uncountedTerminatedPods") or {}
        unc_succeeded = set(uncounted.get("succeeded") or [])
        unc_failed = set(uncounted.get("failed") or [])
        new_succeeded, new_failed = js.new_finished(ctx, unc_succeeded, unc_failed)
        policy = spec.get("podFailurePolicy")
        counted_failed = [p for p in new_failed if jp.match_failure_policy(policy, p)[1]]
        ctx.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(unc_succeeded)
        ctx.failed = int(status.get("failed") or 0) + len(counted_failed) + len(unc_failed)
        suspended = bool(spec.get("suspend"))
        if not status.get("startTime") and not suspended:
            status["startTime"] = m.format_time(now)
        ctx.backoff = js.next_backoff(
            self.backoffs.get(key, js.Backoff()), new_succeeded, counted_failed, now
        )
        ctx.finished, again = js.decide_failure(ctx, now)
        completions = spec.get("completions")
        if jp.is_indexed(job) and completions is not None:
            ctx.succeeded_indexes = js.succeeded_indexes(job, pods, int(completions))
            ctx.succeeded = len(ctx.succeeded_indexes)
            if ji.has_backoff_limit_per_index(job):
                ctx.failed_indexes = ji.failed_indexes(job, pods, int(completions))
                failing = ji.failure_reason(job, ctx.failed_indexes, ctx.succeeded_indexes)
                if ctx.finished is None and failing is not None:
                    ctx.finished = js.new_condition(js.FAILURE_TARGET, *failing, now)
                done = ctx.succeeded_indexes | ctx.failed_indexes
                ctx.delayed = ji.delayed_deletions(job, pods, ctx.active, done, expected_rm, now)
            matched = js.match_success_policy(job, ctx.succeeded_indexes)
            if ctx.finished is None and matched is not None:
                ctx.finished = js.new_condition(
                    js.SUCCESS_CRITERIA_MET, "SuccessPolicy", matched, now
                )

        active = len(ctx.active)
        suspend_changed = False
        failure: Exception | None = None
        if ctx.finished is not None:
            deleted, deleted_ready, failure = await self._delete_pods(job, ctx.active, False)
            if deleted != active or not satisfied:
                ctx.finished = None
            active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            managed = False
            if satisfied and not ownership.is_deleting(job):
                active, failure, wait = await self._manage(key, job, ctx)
                if wait is not None:
                    again = wait if again is None else min(again, wait)
                managed = True
            if completions is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= int(completions) and active == 0
            if complete:
                ctx.finished = js.new_condition(
                    js.SUCCESS_CRITERIA_MET, *js.COMPLETIONS_REACHED, now
                )
            elif managed:
                event = js.suspend_condition(job, suspended, now)
                if event is not None:
                    suspend_changed = True
                    message = "Job suspended" if event == "Suspended" else "Job resumed"
                    self.events.event(job, self.rt, NORMAL, event, message)

        changed = suspend_changed or (
            active != status.get("active", 0)
            or ctx.ready != status.get("ready")
            or ctx.terminating != status.get("terminating")
        )
        status["active"] = active
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        await self._track_status(key, ctx, changed, now)
        if failure is not None:
            raise JobSyncFailed(str(failure))
        return again

    # --- counting (rule 4) ------------------------------------------------------------------
    async def _track_status(
        self, key: str, ctx: js.JobPass, needs_flush: bool, now: datetime.datetime
    ) -> None:
        """Rules 4 and 5: write the uncounted pods, release them, count them, finish."""
        plan = js.plan_tracking(ctx, needs_flush, now)
        job = ctx.job
        status = job["status"]
        needs_flush = plan.needs_flush
        if needs_flush:
            job = await self._write_status(job)
            status = job["status"]
            self.backoffs[key] = ctx.backoff
            needs_flush = False
        with_finalizer = plan.with_finalizer - await self._remove_finalizers(key, plan.to_release)
        unc = status.get("uncountedTerminatedPods") or {}
        if js.clean_uncounted(
            status, list(unc.get("succeeded") or []), list(unc.get("failed") or []), with_finalizer
        ):
            needs_flush = True
        finished = not plan.reached_max and js.enact_finished(ctx, status)
        if finished or needs_flush:
            await self._write_status(job)
            if finished and ctx.finished is not None:
                self._record_finished(job, ctx.finished)

    def _record_finished(self, job: m.JSONObject, cond: m.JSONObject) -> None:
        if cond["type"] == js.COMPLETE:
            completions = jp.spec_of(job).get("completions")
            if completions is not None and int(job["status"].get("succeeded") or 0) > int(
                completions
            ):
                self.events.event(
                    job,
                    self.rt,
                    WARNING,
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.events.event(job, self.rt, NORMAL, "Completed", "Job completed")
        else:
            self.events.event(
                job, self.rt, WARNING, str(cond.get("reason")), str(cond.get("message"))
            )

    async def _write_status(self, job: m.JSONObject) -> m.JSONObject:
        try:
            written = await self.client.update(
                self.rt, job, namespace=m.namespace_of(job), subresource="status"
            )
        except NotFound:
            return job
        written.setdefault("status", {})
        return written

    # --- managing pods (rules 2 and 3) ------------------------------------------------------
    async def _manage(
        self, key: str, job: m.JSONObject, ctx: js.JobPass
    ) -> tuple[int, Exception | None, float | None]:
        spec = jp.spec_of(job)
        active = len(ctx.active)
        if spec.get("suspend"):
            victims = ctx.active
            self.expectations.expect_deletions(key, [key_of(p) for p in victims])
            removed, removed_ready, error = await self._delete_pods(job, victims, True, key)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error, None
        raw_parallelism = spec.get("parallelism")
        parallelism = 1 if raw_parallelism is None else int(raw_parallelism)
        completions = spec.get("completions")
        if completions is None:
            want = active if ctx.succeeded > 0 else parallelism
        else:
            want = max(0, min(int(completions) - ctx.succeeded, parallelism))
        victims = self._surplus(job, ctx.active, max(0, active - want))
        if victims:
            victims = victims[:MAX_POD_CREATE_DELETE_PER_SYNC]
            self.expectations.expect_deletions(key, [key_of(p) for p in victims])
            removed, removed_ready, error = await self._delete_pods(job, victims, True, key)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error, None
        terminating = ctx.terminating if jp.only_replace_failed(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None, None
        now = self.clock.now()
        wait = 0.0 if ji.has_backoff_limit_per_index(job) else js.backoff_left(ctx.backoff, now)
        if wait > 0:
            return active, None, wait
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        if not jp.is_indexed(job):
            templates = [(spec.get("template") or {}, f"{m.name_of(job)}-")] * diff
        else:
            taken = ctx.succeeded_indexes | _indexes(ctx.active)
            if jp.only_replace_failed(job):
                taken |= _indexes([p for p in ctx.pods if _terminating(p)])
            templates, later = ji.pending_templates(
                job, taken, ctx.failed_indexes, ctx.delayed, diff, now
            )
            if later is not None:
                return active, None, later
        created, error = await self._create_pods(key, job, templates)
        return active + created, error, None

    def _surplus(
        self, job: m.JSONObject, active: list[m.JSONObject], count: int
    ) -> list[m.JSONObject]:
        chosen: list[m.JSONObject] = []
        rest = list(active)
        if jp.is_indexed(job):
            completions = int(jp.spec_of(job).get("completions") or 0)
            seen: set[int] = set()
            rest = []
            for pod in sorted(active, key=lambda p: not podstate.is_ready(p)):
                index = jp.completion_index(pod)
                if index is None or index >= completions or index in seen:
                    chosen.append(pod)
                else:
                    seen.add(index)
                    rest.append(pod)
        if len(chosen) < count:
            chosen.extend(podstate.deletion_order(rest, m.now())[: count - len(chosen)])
        return chosen

    async def _create_pods(
        self, key: str, job: m.JSONObject, templates: list[tuple[m.JSONObject, str]]
    ) -> tuple[int, Exception | None]:
        self.expectations.expect_creations(key, len(templates))
        namespace = m.namespace_of(job)
        created = 0
        remaining, batch = list(templates), 1
        while remaining:
            now_batch, remaining = remaining[:batch], remaining[batch:]
            results = await asyncio.gather(
                *(
                    self.client.create(
                        PODS, jp.pod_for_job(job, self.rt, template, generate), namespace
                    )
                    for template, generate in now_batch
                ),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            for error in errors:
                if not isinstance(error, KubewardError | OSError):
                    raise error
            for made in results:
                if isinstance(made, dict):
                    created += 1
                    message = f"Created pod: {m.name_of(made)}"
                    self.events.event(job, self.rt, NORMAL, "SuccessfulCreate", message)
            if errors:
                for _ in range(len(errors) + len(remaining)):
                    self.expectations.creation_observed(key)
                self.events.event(
                    job, self.rt, WARNING, "FailedCreate", f"Error creating: {errors[0]}"
                )
                first = errors[0]
                return created, first if isinstance(first, Exception) else None
            batch *= 2
        return created, None

    async def _delete_pods(
        self, job: m.JSONObject, pods: list[m.JSONObject], release: bool, key: str = ""
    ) -> tuple[int, int, Exception | None]:
        """Delete ``pods`` (first removing the finalizer when ``release``): (deleted, of them
        ready, the first error)."""

        async def delete(pod: m.JSONObject) -> Exception | None:
            try:
                if release and jp.has_tracking_finalizer(pod):
                    await self._strategic_patch_pod(pod, jp.remove_finalizer_patch())
                await self.client.delete(
                    PODS, m.name_of(pod), m.namespace_of(pod), uid=ownership.uid_of(pod)
                )
                message = f"Deleted pod: {m.name_of(pod)}"
                self.events.event(job, self.rt, NORMAL, "SuccessfulDelete", message)
            except NotFound:
                if key:
                    self.expectations.deletion_observed(key, key_of(pod))
            except (KubewardError, OSError) as exc:
                if key:
                    self.expectations.deletion_observed(key, key_of(pod))
                return exc
            return None

        results = await asyncio.gather(*(delete(p) for p in pods))
        errors = [e for e in results if e is not None]
        deleted = len(pods) - len(errors)
        ready = sum(
            1 for p, e in zip(pods, results, strict=True) if e is None and podstate.is_ready(p)
        )
        return deleted, ready, errors[0] if errors else None

    async def _remove_finalizers(self, key: str, pods: list[m.JSONObject]) -> set[str]:
        """Rule 4: the uids whose finalizer is gone (or whose pod is)."""
        if not pods:
            return set()
        expected = self.finalizer_expectations.setdefault(key, set())
        expected.update(ownership.uid_of(p) for p in pods)

        async def release(pod: m.JSONObject) -> str | None:
            uid = ownership.uid_of(pod)
            try:
                await self._strategic_patch_pod(pod, jp.remove_finalizer_patch())
            except NotFound:
                expected.discard(uid)
            except (KubewardError, OSError):
                expected.discard(uid)
                return None
            return uid

        return {uid for uid in await asyncio.gather(*(release(p) for p in pods)) if uid}

    async def _strategic_patch_pod(self, pod: m.JSONObject, body: m.JSONObject) -> Any:
        return await self.client.patch(
            PODS,
            m.name_of(pod),
            body,
            namespace=m.namespace_of(pod),
            content_type=STRATEGIC_MERGE_PATCH,
        )

    async def _merge_patch_pod(self, pod: m.JSONObject, body: m.JSONObject) -> Any:
        try:
            return await self.client.patch(
                PODS, m.name_of(pod), body, namespace=m.namespace_of(pod)
            )
        except NotFound:
            return None

    async def _release_orphan(self, pod_key: str) -> None:
        """Rule 8: a pod with the finalizer whose Job is gone loses it."""
        pod = self.pods.get(pod_key)
        if pod is None or not jp.has_tracking_finalizer(pod) or self._owner_key(pod) is not None:
            return
        try:
            await self._strategic_patch_pod(pod, jp.remove_finalizer_patch())
        except NotFound:
            return


def _indexes(pods: list[m.JSONObject]) -> set[int]:
    return {i for p in pods if (i := jp.completion_index(p)) is not None}


def _terminating(pod: m.JSONObject) -> bool:
    ended = jp.phase_of(pod) in ("Succeeded", "Failed")
    return bool(m.metadata(pod).get("deletionTimestamp")) and not ended
