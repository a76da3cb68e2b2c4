"""The cronjob controller and its schedule arithmetic, with a fake clock."""

from __future__ import annotations

import asyncio
import datetime
import zoneinfo
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.batch import CRONJOBS, JOBS
from kubeward.api.validation.cron import parse_schedule
from kubeward.controllers import cron_times
from kubeward.controllers.clock import FakeClock
from kubeward.controllers.cronjob import CronJobController, job_name

UTC = datetime.UTC
CREATED = datetime.datetime(2026, 3, 2, 9, 58, tzinfo=UTC)  # a Monday
UID = "cj-uid"


def at(hour: int, minute: int, day: int = 2) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("*/15 * * * *", at(10, 7), at(10, 15)),
        ("*/15 * * * *", at(10, 15), at(10, 30)),
        ("0 9 * * 1", at(10, 0), at(9, 0, day=9)),
        ("0 0 13 * 5", at(10, 0), at(0, 0, day=6)),  # day 13 OR a Friday: Friday the 6th
        ("@hourly", at(10, 0), at(11, 0)),
        ("30 23 * * *", at(23, 45), at(23, 30, day=3)),
        ("@every 90s", at(10, 0), at(10, 0) + datetime.timedelta(seconds=90)),
    ],
    ids=["step", "strictly-after", "weekday", "dom-or-dow", "hourly", "next-day", "every"],
)
def test_next_time(schedule: str, after: datetime.datetime, expected: datetime.datetime) -> None:
    assert cron_times.next_time(parse_schedule(schedule), after, UTC) == expected


def test_next_time_reads_the_wall_clock_of_the_zone() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")  # UTC+1 in March before the change
    assert cron_times.next_time(parse_schedule("0 12 * * *"), at(10, 0), berlin) == at(11, 0)
    tz_prefixed = parse_schedule("CRON_TZ=Asia/Tokyo 0 21 * * *")
    assert cron_times.next_time(tz_prefixed, at(10, 0), UTC) == at(12, 0)


def test_most_recent_missed_time_and_too_many() -> None:
    every_minute = parse_schedule("* * * * *")
    missed = cron_times.most_recent(every_minute, at(10, 0), at(10, 3), UTC)
    assert (missed.most_recent, missed.too_many) == (at(10, 3), False)
    long_gap = cron_times.most_recent(every_minute, at(10, 0, day=1), at(10, 0, day=2), UTC)
    assert (long_gap.most_recent, long_gap.too_many) == (at(10, 0, day=2), True)
    deadline = cron_times.most_recent(every_minute, at(0, 0), at(10, 0), UTC, 90)
    assert (deadline.earliest, deadline.most_recent) == (
        at(9, 58, 30) if False else at(10, 0) - datetime.timedelta(seconds=90),
        at(10, 0),
    )


def cronjob(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    full: dict[str, Any] = {
        "schedule": "*/5 * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {
            "metadata": {"labels": {"app": "tick"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
        },
    }
    full.update(spec)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "tick",
            "namespace": "ns",
            "uid": UID,
            "creationTimestamp": "2026-03-02T09:58:00Z",
        },
        "spec": full,
        "status": status or {},
    }


def child(name: str, *, finished: str = "", start: str = "2026-03-02T10:00:00Z") -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": start}
    if finished:
        status["conditions"] = [
            {"type": finished, "status": "True", "lastTransitionTime": "2026-03-02T10:01:00Z"}
        ]
        if finished == "Complete":
            status["completionTime"] = "2026-03-02T10:01:00Z"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "ownerReferences": [
                {"kind": "CronJob", "name": "tick", "uid": UID, "controller": True}
            ],
        },
        "status": status,
    }


def reconcile(
    cj: dict[str, Any], jobs: list[dict[str, Any]], now: datetime.datetime, **kw: Any
) -> tuple[RecordingClient, float | None]:
    client = RecordingClient()

    async def scenario() -> float | None:
        controller = CronJobController(
            await seeded(CRONJOBS, [cj]),
            await seeded(JOBS, jobs),
            client.as_client(),
            clock=FakeClock(now),
            zone=kw.get("zone", UTC),
        )
        again = await controller.reconcile("ns/tick")
        await asyncio.sleep(0)
        return again

    return client, asyncio.run(scenario())


def test_a_cronjob_creates_jobs_on_schedule() -> None:
    client, again = reconcile(cronjob(), [], at(10, 2))
    (created,) = [c[2] for c in client.of("create")]
    scheduled = at(10, 0)
    assert created["metadata"]["name"] == f"tick-{int(scheduled.timestamp()) // 60}"
    assert created["metadata"]["name"] == job_name(cronjob(), scheduled)
    assert created["metadata"]["labels"] == {"app": "tick"}
    assert created["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-03-02T10:00:00Z"
    }
    assert created["metadata"]["ownerReferences"][0]["uid"] == UID
    (status,) = [c[2]["status"] for c in client.of("update/status")]
    assert status["lastScheduleTime"] == "2026-03-02T10:00:00Z"
    assert [a["name"] for a in status["active"]] == [created["metadata"]["name"]]
    assert [e["reason"] for e in client.events] == ["SuccessfulCreate"]
    assert again == pytest.approx(3 * 60 + 0.1)


def test_nothing_is_due_before_the_first_schedule_time() -> None:
    client, again = reconcile(cronjob(), [], at(9, 59))
    assert not client.calls
    assert again == pytest.approx(60 + 0.1)


def test_the_scheduled_timestamp_is_in_the_cronjobs_time_zone() -> None:
    client, _ = reconcile(cronjob(timeZone="Asia/Tokyo"), [], at(10, 2))
    (created,) = [c[2] for c in client.of("create")]
    stamp = created["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == "2026-03-02T19:00:00+09:00"


def test_without_a_time_zone_the_schedule_is_local_and_the_timestamp_utc() -> None:
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")  # the controller's own zone
    client, _ = reconcile(cronjob(schedule="0 19 * * *"), [], at(10, 2), zone=tokyo)
    (created,) = [c[2] for c in client.of("create")]
    stamp = created["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == "2026-03-02T10:00:00Z"


def test_forbid_skips_a_time_while_a_job_is_active() -> None:
    active = [{"name": "tick-1", "uid": "uid-tick-1"}]
    status = {"active": active, "lastScheduleTime": "2026-03-02T09:55:00Z"}
    client, _ = reconcile(cronjob(status, concurrencyPolicy="Forbid"), [child("tick-1")], at(10, 2))
    assert not client.of("create")
    assert [e["reason"] for e in client.events] == ["JobAlreadyActive"]


def test_replace_deletes_the_active_job_first() -> None:
    active = [{"name": "tick-1", "uid": "uid-tick-1"}]
    status = {"active": active, "lastScheduleTime": "2026-03-02T09:55:00Z"}
    client, _ = reconcile(
        cronjob(status, concurrencyPolicy="Replace"), [child("tick-1")], at(10, 2)
    )
    assert [c[0] for c in client.calls] == ["delete", "create", "update/status"]
    assert client.of("delete")[0][2] == {"propagation_policy": "Background"}
    assert [e["reason"] for e in client.events] == ["SuccessfulDelete", "SuccessfulCreate"]


def test_a_time_past_the_starting_deadline_is_skipped() -> None:
    # Upstream looks for due times only from now - startingDeadlineSeconds: 10:00 is not one.
    client, again = reconcile(cronjob(startingDeadlineSeconds=200), [], at(10, 4))
    assert not client.calls
    assert again == pytest.approx(60 + 0.1)
    client, _ = reconcile(cronjob(startingDeadlineSeconds=300), [], at(10, 4))
    assert len(client.of("create")) == 1


def test_a_suspended_cronjob_creates_nothing() -> None:
    client, again = reconcile(cronjob(suspend=True), [], at(10, 2))
    assert (client.calls, again) == ([], None)


def test_finished_jobs_leave_active_and_old_ones_are_deleted() -> None:
    jobs = [
        child("tick-1", finished="Complete", start="2026-03-02T09:00:00Z"),
        child("tick-2", finished="Complete", start="2026-03-02T09:05:00Z"),
        child("tick-3", finished="Failed", start="2026-03-02T09:10:00Z"),
        child("tick-4", finished="Failed", start="2026-03-02T09:15:00Z"),
    ]
    active = [{"name": "tick-4", "uid": "uid-tick-4"}]
    status = {"active": active, "lastScheduleTime": "2026-03-02T10:00:00Z"}
    cj = cronjob(status, successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1)
    client, _ = reconcile(cj, jobs, at(10, 2))
    (written,) = [c[2]["status"] for c in client.of("update/status")]
    assert "active" not in written
    assert written["lastSuccessfulTime"] == "2026-03-02T10:01:00Z"
    assert [c[1] for c in client.of("delete")] == ["jobs/tick-1", "jobs/tick-3"]
    reasons = [e["reason"] for e in client.events]
    assert reasons[0] == "SawCompletedJob"
    assert client.events[0]["message"] == "Saw completed job: tick-4, condition: Failed"


def test_an_unknown_time_zone_is_a_warning() -> None:
    client, again = reconcile(cronjob(timeZone="Mars/Olympus"), [], at(10, 2))
    assert [e["reason"] for e in client.events] == ["UnknownTimeZone"]
    assert client.events[0]["message"] == (
        'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus'
    )
    assert again is None


class FreshClient(RecordingClient):
    def __init__(self, live: dict[str, Any]) -> None:
        super().__init__()
        self.live = live

    async def get(self, rt: Any, name: str, namespace: str = "") -> Any:
        return dict(self.live)


def test_a_job_missing_from_a_stale_cache_is_read_fresh_not_called_unexpected() -> None:
    listed = {"active": [{"name": "tick-1", "uid": "uid-tick-1"}]}
    listed["lastScheduleTime"] = "2026-03-02T10:00:00Z"
    client = FreshClient(cronjob(listed))

    async def scenario() -> None:
        controller = CronJobController(
            await seeded(CRONJOBS, [cronjob()]),
            await seeded(JOBS, [child("tick-1")]),
            client.as_client(),
            clock=FakeClock(at(10, 2)),
            zone=UTC,
        )
        await controller.reconcile("ns/tick")
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert client.events == []
    assert client.calls == []  # 10:00 ran already: nothing to create or write


def test_a_job_the_cronjob_never_listed_is_unexpected() -> None:
    client, _ = reconcile(
        cronjob({"lastScheduleTime": "2026-03-02T10:00:00Z"}), [child("x")], at(10, 2)
    )
    assert [e["reason"] for e in client.events] == ["UnexpectedJob"]
    assert client.events[0]["message"] == (
        "Saw a job that the controller did not create or forgot: x"
    )
