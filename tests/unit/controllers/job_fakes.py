"""Job and pod factories for the job controller's unit tests, and one reconcile against a
recording client, seeded informers and a fake clock."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.batch import JOBS
from kubeward.api.resources.core import PODS
from kubeward.controllers import job_pods as jp
from kubeward.controllers.clock import FakeClock
from kubeward.controllers.job import JobController

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
UID = "job-uid"
SELECTOR = {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
LABELS = {"batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "work"}


def stamp(seconds_before: float = 0) -> str:
    return (NOW - datetime.timedelta(seconds=seconds_before)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    full = {
        "parallelism": 1,
        "completions": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": SELECTOR,
        "template": {
            "metadata": {"labels": dict(LABELS)},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
        },
    }
    full.update(spec)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": "ns", "uid": UID, "resourceVersion": "3"},
        "spec": full,
        "status": status if status is not None else {},
    }


def pod(
    name: str,
    phase: str = "Running",
    *,
    finalizer: bool = True,
    exit_code: int | None = None,
    index: int | None = None,
    ready: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "labels": dict(LABELS),
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": "work",
                "uid": UID,
                "controller": True,
            }
        ],
    }
    if finalizer:
        meta["finalizers"] = [jp.JOB_TRACKING_FINALIZER]
    if index is not None:
        meta["annotations"] = {jp.COMPLETION_INDEX_KEY: str(index)}
    status: dict[str, Any] = {"phase": phase}
    if exit_code is not None:
        status["containerStatuses"] = [
            {"name": "c", "state": {"terminated": {"exitCode": exit_code}}}
        ]
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True"}]
    return {"metadata": meta, "spec": {}, "status": status}


def reconcile(
    the_job: dict[str, Any],
    pods: list[dict[str, Any]],
    client: RecordingClient,
    clock: FakeClock | None = None,
    times: int = 1,
) -> tuple[JobController, float | None]:
    async def scenario() -> tuple[JobController, float | None]:
        controller = JobController(
            await seeded(JOBS, [the_job]),
            await seeded(PODS, pods),
            client.as_client(),
            clock=clock or FakeClock(NOW),
        )
        again = None
        for _ in range(times):
            again = await controller.reconcile("ns/work")
        await asyncio.sleep(0)
        return controller, again

    return asyncio.run(scenario())


def statuses(client: RecordingClient) -> list[dict[str, Any]]:
    return [call[2]["status"] for call in client.of("update/status")]
