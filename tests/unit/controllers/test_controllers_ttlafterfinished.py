"""The ttl-after-finished controller and the injectable clock."""

from __future__ import annotations

import asyncio
import copy
import datetime
import threading
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.batch import JOBS
from kubeward.api.scheme import ResourceType
from kubeward.controllers.clock import FakeClock, RealClock
from kubeward.controllers.ttlafterfinished import TTLAfterFinishedController, seconds_left

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def finished_job(ttl: int | None, finished_seconds_ago: int, kind: str = "Complete") -> Any:
    at = (NOW - datetime.timedelta(seconds=finished_seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec: dict[str, Any] = {}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "done", "namespace": "ns", "uid": "job-uid"},
        "spec": spec,
        "status": {"conditions": [{"type": kind, "status": "True", "lastTransitionTime": at}]},
    }


class LiveClient(RecordingClient):
    """Answers GETs with the given object (the fresh read before deleting)."""

    def __init__(self, live: Any) -> None:
        super().__init__()
        self.live = live

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> Any:
        self.calls.append(("get", f"{rt.resource}/{name}", None))
        return copy.deepcopy(self.live)


def reconcile(job: Any, live: Any) -> tuple[LiveClient, float | None]:
    client = LiveClient(live)

    async def scenario() -> float | None:
        controller = TTLAfterFinishedController(
            await seeded(JOBS, [job]), client.as_client(), clock=FakeClock(NOW)
        )
        return await controller.reconcile("ns/done")

    return client, asyncio.run(scenario())


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (finished_job(100, 40), 60.0),
        (finished_job(100, 140, "Failed"), -40.0),
        (finished_job(None, 40), None),
        (finished_job(100, 40, "Suspended"), None),
    ],
    ids=["complete", "failed-expired", "no-ttl", "not-finished"],
)
def test_seconds_left(job: Any, expected: float | None) -> None:
    assert seconds_left(job, NOW) == expected


def test_an_unexpired_job_is_looked_at_when_it_expires() -> None:
    client, again = reconcile(finished_job(100, 40), finished_job(100, 40))
    assert (client.calls, again) == ([], 60.0)


def test_an_expired_job_is_deleted_in_the_foreground_with_its_uid() -> None:
    client, again = reconcile(finished_job(100, 101), finished_job(100, 101))
    assert again is None
    assert client.calls == [
        ("get", "jobs/done", None),
        ("delete", "jobs/done", {"uid": "job-uid", "propagation_policy": "Foreground"}),
    ]


def test_a_ttl_raised_meanwhile_is_read_fresh_before_deleting() -> None:
    client, again = reconcile(finished_job(100, 101), finished_job(1000, 101))
    assert [c[0] for c in client.calls] == ["get"]
    assert again == 899.0


def test_fake_clock_moves_only_when_told_and_tells_subscribers() -> None:
    clock = FakeClock(NOW)
    calls: list[datetime.datetime] = []
    clock.subscribe(lambda: calls.append(clock.now()))
    assert clock.now() == NOW
    thread = threading.Thread(target=clock.step, args=(30,))
    thread.start()
    thread.join()
    assert calls == [NOW + datetime.timedelta(seconds=30)]
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime.datetime(2026, 1, 1))
    assert RealClock().now().tzinfo is datetime.UTC
