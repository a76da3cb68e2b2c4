"""The cronjob controller: creates a CronJob's Jobs on its schedule (``pkg/controller/cronjob``,
the v2 controller).

Rules:

 1. A CronJob's Jobs are the Jobs of its namespace whose controller reference is its uid. A
    finished Job (``Complete`` or ``Failed``) in ``status.active`` leaves it
    (``SawCompletedJob``); a succeeded one moves ``lastSuccessfulTime`` to its
    ``completionTime``; an active entry whose Job is gone (confirmed by a GET) leaves it
    (``MissingJob``); an unfinished Job it does not list, even once the CronJob is read again
    from the API server, is reported (``UnexpectedJob``).
 2. A suspended or deleting CronJob schedules nothing. An unknown ``timeZone`` is a Warning
    ``UnknownTimeZone``, an unparseable schedule ``UnparseableSchedule``; neither retries.
 3. The time due is the most recent schedule time not yet run (``cron_times``); more than 100
    missed is a Warning ``TooManyMissedTimes``. Past ``startingDeadlineSeconds`` it is
    skipped (``MissSchedule``). A time already run (its Job is active, or it is
    ``lastScheduleTime``) is not run again.
 4. ``concurrencyPolicy``: ``Forbid`` with an active Job skips the time (``JobAlreadyActive``);
    ``Replace`` deletes the active Jobs first (background propagation, ``SuccessfulDelete``);
    ``Allow`` runs it beside them.
 5. The Job is named ``<cronjob>-<scheduled time in minutes since the epoch>``, carries the
    template's labels and annotations, the ``batch.kubernetes.io/cronjob-scheduled-timestamp``
    annotation (RFC 3339 in the ``timeZone``, else UTC, as upstream's ``LoadLocation("")``) and
    a controller reference; its spec is the
    template's. ``SuccessfulCreate`` ``Created job <name>``; it joins ``status.active`` and
    the time becomes ``lastScheduleTime``. A Job of that name that exists already is not an
    error.
 6. Finished Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit`` are deleted,
    the oldest (by ``startTime``) first, in the background.
 7. The CronJob is looked at again 100 ms after its next schedule time, and whenever the
    injected clock (``clock``) is moved by a test.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import zoneinfo

from kubeward.api import meta as m
from kubeward.api.resources.batch import CRONJOBS, JOBS
from kubeward.api.scheme import ResourceType
from kubeward.api.validation.cron import Schedule, parse_schedule
from kubeward.client.api import APIClient
from kubeward.controllers import cron_times, ownership
from kubeward.controllers.base import Controller
from kubeward.controllers.clock import Clock, RealClock, on_loop
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.informer import Informer
from kubeward.controllers.job_status import COMPLETE, condition_of, is_finished
from kubeward.errors import AlreadyExists, InputError, JobSyncFailed, NotFound, StatusError

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1


def job_name(cronjob: m.JSONObject, scheduled: datetime.datetime) -> str:
    """Rule 5."""
    return f"{m.name_of(cronjob)}-{int(scheduled.timestamp()) // 60}"


def rfc3339(moment: datetime.datetime) -> str:
    """Go's ``time.RFC3339``: ``Z`` for a zero offset, else ``+hh:mm``."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def job_from_template(
    cronjob: m.JSONObject, scheduled: datetime.datetime, zone: datetime.tzinfo
) -> m.JSONObject:
    """Rule 5."""
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = rfc3339(scheduled.astimezone(zone))
    meta: m.JSONObject = {
        "name": job_name(cronjob, scheduled),
        "namespace": m.namespace_of(cronjob),
        "annotations": annotations,
        "ownerReferences": [ownership.new_controller_ref(cronjob, CRONJOBS)],
    }
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _reference(job: m.JSONObject) -> m.JSONObject:
    meta = m.metadata(job)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }


class CronJobController(Controller):
    name = "cronjob"

    def __init__(
        self,
        cronjobs: Informer,
        jobs: Informer,
        client: APIClient,
        *,
        clock: Clock | None = None,
        zone: datetime.tzinfo | None = None,
        workers: int = 5,
    ) -> None:
        super().__init__(cronjobs, workers=workers)
        self.jobs = jobs
        self.client = client
        self.clock: Clock = clock or RealClock()
        self.zone = zone or cron_times.local_zone()
        self.rt: ResourceType = CRONJOBS
        self.events = EventRecorder(client, "cronjob-controller")
        self.depends_on(jobs)
        jobs.add_event_handler(
            self._job_changed, lambda _old, new: self._job_changed(new), self._job_changed
        )

    async def run(self) -> None:
        self.clock.subscribe(on_loop(asyncio.get_running_loop(), self._requeue_all))
        await super().run()

    def _requeue_all(self) -> None:
        for key in list(self.informer.cache):
            self.queue.add(key)

    def _job_changed(self, job: m.JSONObject) -> None:
        ref = ownership.controller_ref(job)
        if ref is not None and ref.get("kind") == "CronJob":
            self.queue.add(f"{m.namespace_of(job)}/{ref.get('name')}")

    def _children(self, cronjob: m.JSONObject) -> list[m.JSONObject]:
        uid = ownership.uid_of(cronjob)
        return [
            job
            for job in self.jobs.in_namespace(m.namespace_of(cronjob))
            if (ownership.controller_ref(job) or {}).get("uid") == uid
        ]

    # --- reconcile --------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None or ownership.is_deleting(cached):
            return None
        cronjob = copy.deepcopy(cached)
        cronjob.setdefault("status", {})
        children = self._children(cronjob)
        if self._unlisted(cronjob, children):
            cronjob = await self._fresh(cronjob)
        changed = await self._follow_children(cronjob, children)
        again, created = await self._schedule(cronjob)
        changed = changed or created
        if changed:
            await self._write_status(cronjob)
        await self._clean_history(cronjob, children)
        return again

    @staticmethod
    def _unlisted(cronjob: m.JSONObject, children: list[m.JSONObject]) -> bool:
        listed = {a.get("uid") for a in cronjob["status"].get("active") or []}
        return any(ownership.uid_of(j) not in listed and not is_finished(j) for j in children)

    async def _fresh(self, cronjob: m.JSONObject) -> m.JSONObject:
        """Rule 1: an unlisted Job may be one whose status write the cache has not seen yet;
        read the CronJob from the API server before calling it unexpected, as upstream."""
        try:
            fresh = await self.client.get(self.rt, m.name_of(cronjob), m.namespace_of(cronjob))
        except NotFound:
            return cronjob
        if ownership.uid_of(fresh) != ownership.uid_of(cronjob):
            return cronjob
        fresh.setdefault("status", {})
        return fresh

    async def _follow_children(self, cronjob: m.JSONObject, children: list[m.JSONObject]) -> bool:
        """Rule 1."""
        status = cronjob["status"]
        active: list[m.JSONObject] = list(status.get("active") or [])
        active_uids = {a.get("uid") for a in active}
        changed = False
        child_uids = set()
        for job in children:
            uid = ownership.uid_of(job)
            child_uids.add(uid)
            finished = is_finished(job)
            if uid not in active_uids and not finished:
                self.events.event(
                    cronjob,
                    self.rt,
                    WARNING,
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {m.name_of(job)}",
                )
            elif uid in active_uids and finished:
                kind = COMPLETE if condition_of(job, COMPLETE) is not None else "Failed"
                active = [a for a in active if a.get("uid") != uid]
                self.events.event(
                    cronjob,
                    self.rt,
                    NORMAL,
                    "SawCompletedJob",
                    f"Saw completed job: {m.name_of(job)}, condition: {kind}",
                )
                changed = True
            elif condition_of(job, COMPLETE) is not None:
                completed = str((job.get("status") or {}).get("completionTime") or "")
                last = m.parse_time(str(status.get("lastSuccessfulTime") or ""))
                moment = m.parse_time(completed)
                if moment is not None and (last is None or moment > last):
                    status["lastSuccessfulTime"] = m.format_time(moment)
                    changed = True
        for ref in list(active):
            if ref.get("uid") in child_uids:
                continue
            try:
                await self.client.get(JOBS, str(ref.get("name")), m.namespace_of(cronjob))
            except NotFound:
                active = [a for a in active if a.get("uid") != ref.get("uid")]
                self.events.event(
                    cronjob,
                    self.rt,
                    NORMAL,
                    "MissingJob",
                    f"Active job went missing: {ref.get('name')}",
                )
                changed = True
        _set_active(status, active)
        return changed

    def _zone_and_schedule(self, cronjob: m.JSONObject) -> tuple[datetime.tzinfo, Schedule] | None:
        """Rule 2."""
        spec = cronjob.get("spec") or {}
        zone = self.zone
        name = spec.get("timeZone")
        if name:
            try:
                zone = datetime.UTC if name == "UTC" else zoneinfo.ZoneInfo(str(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
                self.events.event(
                    cronjob,
                    self.rt,
                    WARNING,
                    "UnknownTimeZone",
                    f'invalid timeZone: "{name}": unknown time zone {name}',
                )
                return None
        text = str(spec.get("schedule") or "")
        try:
            schedule = parse_schedule(text)
        except InputError as exc:
            self.events.event(
                cronjob,
                self.rt,
                WARNING,
                "UnparseableSchedule",
                f'unparseable schedule: "{text}" : {exc}',
            )
            return None
        return zone, schedule

    async def _schedule(self, cronjob: m.JSONObject) -> tuple[float | None, bool]:
        """Rules 2-5: when to look again, and whether the status changed."""
        spec = cronjob.get("spec") or {}
        status = cronjob["status"]
        if spec.get("suspend"):
            return None, False
        found = self._zone_and_schedule(cronjob)
        if found is None:
            return None, False
        zone, schedule = found
        now = self.clock.now()
        earliest = m.parse_time(str(status.get("lastScheduleTime") or "")) or m.parse_time(
            str(m.metadata(cronjob).get("creationTimestamp") or "")
        )
        if earliest is None:
            earliest = now
        deadline = spec.get("startingDeadlineSeconds")
        missed = cron_times.most_recent(
            schedule, earliest, now, zone, int(deadline) if deadline is not None else None
        )
        if missed.too_many:
            self.events.event(
                cronjob,
                self.rt,
                WARNING,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds"
                " or check clock skew",
            )
        again = self._next_delay(schedule, missed, now, zone)
        scheduled = missed.most_recent
        if scheduled is None:
            return again, False
        if deadline is not None and scheduled + datetime.timedelta(seconds=int(deadline)) < now:
            self.events.event(
                cronjob,
                self.rt,
                WARNING,
                "MissSchedule",
                "Missed scheduled time to start a job: "
                + scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            )
            return again, False
        name = job_name(cronjob, scheduled)
        active: list[m.JSONObject] = status.get("active") or []
        if any(a.get("name") == name for a in active) or status.get(
            "lastScheduleTime"
        ) == m.format_time(scheduled):
            return again, False
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self.events.event(
                cronjob,
                self.rt,
                NORMAL,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is"
                " Forbid",
            )
            return again, False
        if policy == "Replace":
            for ref in list(active):
                await self._delete_job(cronjob, str(ref.get("name")))
                active = [a for a in active if a.get("uid") != ref.get("uid")]
            _set_active(status, active)
        stamp_zone = zone if spec.get("timeZone") else datetime.UTC
        job = job_from_template(cronjob, scheduled, stamp_zone)
        try:
            created = await self.client.create(JOBS, job, m.namespace_of(cronjob))
        except AlreadyExists:
            return again, False
        except StatusError as exc:
            self.events.event(
                cronjob, self.rt, WARNING, "FailedCreate", f"Error creating job: {exc.message}"
            )
            raise JobSyncFailed(f"creating job {name}: {exc.message}") from exc
        self.events.event(cronjob, self.rt, NORMAL, "SuccessfulCreate", f"Created job {name}")
        status["active"] = [*active, _reference(created)]
        status["lastScheduleTime"] = m.format_time(scheduled)
        return again, True

    def _next_delay(
        self,
        schedule: Schedule,
        missed: cron_times.Missed,
        now: datetime.datetime,
        zone: datetime.tzinfo,
    ) -> float | None:
        """Rule 7."""
        base = missed.most_recent or missed.earliest
        upcoming = cron_times.next_time(schedule, max(base, now), zone)
        if upcoming is None:
            return None
        return max(0.0, (upcoming - now).total_seconds()) + NEXT_SCHEDULE_DELTA

    async def _write_status(self, cronjob: m.JSONObject) -> None:
        try:
            await self.client.update(
                self.rt, cronjob, namespace=m.namespace_of(cronjob), subresource="status"
            )
        except NotFound:
            return

    async def _delete_job(self, cronjob: m.JSONObject, name: str) -> None:
        try:
            await self.client.delete(
                JOBS, name, m.namespace_of(cronjob), propagation_policy="Background"
            )
        except NotFound:
            return
        self.events.event(cronjob, self.rt, NORMAL, "SuccessfulDelete", f"Deleted job {name}")

    async def _clean_history(self, cronjob: m.JSONObject, children: list[m.JSONObject]) -> None:
        """Rule 6."""
        spec = cronjob.get("spec") or {}
        succeeded = [j for j in children if condition_of(j, COMPLETE) is not None]
        failed = [j for j in children if condition_of(j, "Failed") is not None]
        for jobs, limit in (
            (succeeded, spec.get("successfulJobsHistoryLimit")),
            (failed, spec.get("failedJobsHistoryLimit")),
        ):
            if limit is None or len(jobs) <= int(limit):
                continue
            ordered = sorted(jobs, key=_start_order)
            for job in ordered[: len(jobs) - int(limit)]:
                if not ownership.is_deleting(job):
                    await self._delete_job(cronjob, m.name_of(job))


def _start_order(job: m.JSONObject) -> tuple[int, float, str]:
    started = m.parse_time(str((job.get("status") or {}).get("startTime") or ""))
    if started is None:
        return (1, 0.0, m.name_of(job))
    return (0, started.timestamp(), m.name_of(job))


def _set_active(status: m.JSONObject, active: list[m.JSONObject]) -> None:
    if active:
        status["active"] = active
    else:
        status.pop("active", None)
