"""backoffLimitPerIndex: per-index retries, failed indexes, and the Job failing on them."""

from __future__ import annotations

from typing import Any

from job_fakes import job, pod, reconcile, stamp, statuses
from workload_fakes import RecordingClient

from kubeward.controllers import job_indexes as ji


def per_index_job(**spec: Any) -> dict[str, Any]:
    return job(
        {"startTime": stamp(60), "active": 1},
        completionMode="Indexed",
        completions=2,
        parallelism=2,
        backoffLimit=2**31 - 1,
        backoffLimitPerIndex=1,
        **spec,
    )


def failed(name: str, index: int, count: int, ended_seconds_ago: int = 0, code: int = 1) -> Any:
    made = pod(name, "Failed", index=index, exit_code=code)
    made["metadata"]["annotations"][ji.INDEX_FAILURE_COUNT] = str(count)
    terminated = made["status"]["containerStatuses"][0]["state"]["terminated"]
    terminated["finishedAt"] = stamp(ended_seconds_ago)
    return made


def test_a_failed_pod_is_replaced_after_its_backoff_and_its_count_is_inherited() -> None:
    client = RecordingClient()
    _, again = reconcile(
        per_index_job(), [failed("a0", 0, 0, ended_seconds_ago=4), pod("a1", index=1)], client
    )
    assert not client.of("create")
    assert again is not None and 5.9 < again <= 6.0
    assert not client.of("patch")  # the finalizer waits for the replacement

    client = RecordingClient()
    reconcile(
        per_index_job(), [failed("a0", 0, 0, ended_seconds_ago=11), pod("a1", index=1)], client
    )
    (created,) = [c[2] for c in client.of("create")]
    annotations = created["metadata"]["annotations"]
    assert annotations[ji.INDEX_FAILURE_COUNT] == "1"
    assert annotations["batch.kubernetes.io/job-completion-index"] == "0"


def test_an_index_past_its_limit_fails_alone() -> None:
    client = RecordingClient()
    reconcile(per_index_job(), [failed("b0", 0, 1), pod("b1", index=1)], client)
    assert not client.of("create")  # a failed index is not started again
    status = statuses(client)[0]
    assert status["failedIndexes"] == "0"
    assert all(c["type"] != "FailureTarget" for c in status.get("conditions") or [])


def test_more_failed_indexes_than_allowed_fail_the_job() -> None:
    client = RecordingClient()
    reconcile(per_index_job(maxFailedIndexes=0), [failed("c0", 0, 1), pod("c1", index=1)], client)
    target = statuses(client)[0]["conditions"][0]
    assert (target["type"], target["reason"], target["message"]) == (
        "FailureTarget",
        "MaxFailedIndexesExceeded",
        "Job has exceeded the specified maximal number of failed indexes",
    )


def test_every_index_done_with_one_failed_fails_the_job() -> None:
    client = RecordingClient()
    pods = [failed("d0", 0, 1), pod("d1", "Succeeded", index=1)]
    reconcile(per_index_job(), pods, client)
    last = statuses(client)[-1]
    assert (last["failedIndexes"], last["completedIndexes"]) == ("0", "1")
    assert last["conditions"][-1]["reason"] == "FailedIndexes"
    assert last["conditions"][-1]["type"] == "Failed"


def test_a_fail_index_rule_fails_the_index_at_once() -> None:
    policy = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [7]}}]}
    the_job = per_index_job(podFailurePolicy=policy)
    the_job["spec"]["podReplacementPolicy"] = "Failed"
    client = RecordingClient()
    reconcile(the_job, [failed("e0", 0, 0, code=7), pod("e1", index=1)], client)
    assert statuses(client)[0]["failedIndexes"] == "0"
