"""The job controller against a recording fake client, seeded informers and a fake clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from job_fakes import LABELS, NOW, job, pod, reconcile, stamp, statuses
from workload_fakes import RecordingClient, seeded

from kubeward.api.resources.batch import JOBS
from kubeward.api.resources.core import PODS
from kubeward.controllers import job_pods as jp
from kubeward.controllers.clock import FakeClock
from kubeward.controllers.job import JobController
from kubeward.controllers.job_status import match_success_policy
from kubeward.errors import JobSyncFailed


def test_creates_parallelism_pods_with_the_tracking_finalizer() -> None:
    client = RecordingClient()
    controller, _ = reconcile(job(parallelism=3, completions=5), [], client)
    created = [call[2] for call in client.of("create")]
    assert len(created) == 3
    meta = created[0]["metadata"]
    assert meta["generateName"] == "work-"
    assert meta["finalizers"] == [jp.JOB_TRACKING_FINALIZER]
    assert meta["labels"] == LABELS
    assert meta["ownerReferences"][0]["kind"] == "Job"
    assert [e["reason"] for e in client.events] == ["SuccessfulCreate"] * 3
    assert client.events[0]["source"] == {"component": "job-controller"}
    (status,) = statuses(client)
    assert (status["active"], status["startTime"]) == (3, stamp())
    assert not controller.expectations.satisfied("ns/work")


def test_fewer_pods_when_fewer_completions_remain() -> None:
    client = RecordingClient()
    status = {"succeeded": 4, "startTime": stamp(5)}
    reconcile(job(status, parallelism=3, completions=5), [], client)
    assert len(client.of("create")) == 1


def test_a_succeeded_pod_is_counted_through_uncounted_then_the_job_completes() -> None:
    client = RecordingClient()
    status = {"startTime": stamp(5), "active": 1}
    reconcile(job(status), [pod("a", "Succeeded")], client)
    first, last = statuses(client)
    assert first["uncountedTerminatedPods"] == {"succeeded": ["uid-a"]}
    assert first["succeeded"] == 0
    assert [c["type"] for c in first["conditions"]] == ["SuccessCriteriaMet"]
    (patch,) = client.of("patch")
    assert patch[1:] == (
        "pods/a",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": [jp.JOB_TRACKING_FINALIZER]}},
    )
    assert last["uncountedTerminatedPods"] == {}
    assert (last["succeeded"], last["active"]) == (1, 0)
    complete = last["conditions"][-1]
    assert (complete["type"], complete["reason"], complete["message"]) == (
        "Complete",
        "CompletionsReached",
        "Reached expected number of succeeded pods",
    )
    assert last["completionTime"] == stamp()
    assert [e["reason"] for e in client.events] == ["Completed"]


def test_more_failures_than_the_backoff_limit_fail_the_job() -> None:
    client = RecordingClient()
    status = {"startTime": stamp(5), "failed": 1}
    reconcile(job(status, backoffLimit=1), [pod("b", "Failed")], client)
    first, last = statuses(client)
    assert first["conditions"][0]["type"] == "FailureTarget"
    failed = last["conditions"][-1]
    assert (failed["type"], failed["reason"], failed["message"]) == (
        "Failed",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert last["failed"] == 2
    assert "completionTime" not in last
    assert [(e["type"], e["reason"]) for e in client.events] == [
        ("Warning", "BackoffLimitExceeded")
    ]
    assert not client.of("create")


def test_an_ignored_failure_is_not_counted_and_is_replaced() -> None:
    client = RecordingClient()
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]}
    the_job = job({"startTime": stamp(5)}, backoffLimit=0, podFailurePolicy=policy)
    the_job["spec"]["podReplacementPolicy"] = "Failed"
    reconcile(the_job, [pod("c", "Failed", exit_code=3)], client)
    assert all(s.get("failed", 0) == 0 for s in statuses(client))
    assert len(client.of("create")) == 1


def test_fail_job_rule_fails_at_once_with_upstreams_message() -> None:
    client = RecordingClient()
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    the_job = job({"startTime": stamp(5)}, podFailurePolicy=policy)
    reconcile(the_job, [pod("d", "Failed", exit_code=42)], client)
    failed = statuses(client)[-1]["conditions"][-1]
    assert (failed["type"], failed["reason"]) == ("Failed", "PodFailurePolicy")
    assert failed["message"] == (
        "Container c for pod ns/d failed with exit code 42 matching FailJob rule at index 0"
    )


def test_past_the_active_deadline_the_job_fails_and_its_pods_are_deleted() -> None:
    client = RecordingClient()
    the_job = job({"startTime": stamp(31), "active": 1}, activeDeadlineSeconds=30)
    reconcile(the_job, [pod("e")], client)
    assert [c[1] for c in client.of("delete")] == ["pods/e"]
    conditions = statuses(client)[-1]["conditions"]
    assert conditions[0]["reason"] == "DeadlineExceeded"
    assert conditions[0]["message"] == "Job was active longer than specified deadline"


def test_before_the_deadline_the_job_asks_to_be_looked_at_when_it_passes() -> None:
    client = RecordingClient()
    the_job = job({"startTime": stamp(10), "active": 1}, activeDeadlineSeconds=30)
    _, again = reconcile(the_job, [pod("e")], client)
    assert again == pytest.approx(20.0)


def test_a_failed_pod_is_replaced_only_after_the_backoff_delay() -> None:
    client = RecordingClient()
    clock = FakeClock(NOW)
    the_job = job({"startTime": stamp(5), "active": 1})

    async def scenario() -> tuple[int, int, float | None]:
        controller = JobController(
            await seeded(JOBS, [the_job]),
            await seeded(PODS, [pod("f", "Failed")]),
            client.as_client(),
            clock=clock,
        )
        wait = await controller.reconcile("ns/work")
        before = len(client.of("create"))
        # The counted failure is in the status now; the pod is gone from the cache.
        counted = job({"startTime": stamp(5), "failed": 1})
        controller.informer.cache["ns/work"] = counted
        controller.pods.cache.clear()
        clock.step(10)
        await controller.reconcile("ns/work")
        return before, len(client.of("create")), wait

    before, after, wait = asyncio.run(scenario())
    assert (before, after) == (0, 1)
    assert wait == pytest.approx(10.0)


def test_suspending_deletes_the_active_pods_and_says_so() -> None:
    client = RecordingClient()
    the_job = job({"startTime": stamp(5), "active": 1}, suspend=True)
    reconcile(the_job, [pod("g", ready=True)], client)
    assert [c[1] for c in client.of("patch")] == ["pods/g"]  # the finalizer first
    assert [c[1] for c in client.of("delete")] == ["pods/g"]
    status = statuses(client)[-1]
    suspended = status["conditions"][0]
    assert (suspended["type"], suspended["status"], suspended["reason"]) == (
        "Suspended",
        "True",
        "JobSuspended",
    )
    assert (status["active"], status["ready"], status["terminating"]) == (0, 0, 1)
    assert [e["reason"] for e in client.events] == ["SuccessfulDelete", "Suspended"]


def test_indexed_job_creates_pending_indexes_and_counts_completed_ones() -> None:
    client = RecordingClient()
    the_job = job({"startTime": stamp(5)}, completionMode="Indexed", completions=4, parallelism=2)
    reconcile(the_job, [pod("i0", "Succeeded", index=0), pod("i2", index=2)], client)
    (created,) = [c[2] for c in client.of("create")]
    assert created["metadata"]["generateName"] == "work-1-"
    assert created["metadata"]["labels"][jp.COMPLETION_INDEX_KEY] == "1"
    assert created["spec"]["hostname"] == "work-1"
    assert statuses(client)[0]["completedIndexes"] == "0"


def test_a_refused_pod_creation_is_a_warning_and_a_retry() -> None:
    client = RecordingClient(refuse="pods")
    with pytest.raises(JobSyncFailed, match="forbidden"):
        reconcile(job({"startTime": stamp(5)}), [], client)
    assert [e["reason"] for e in client.events] == ["FailedCreate"]


def test_an_orphan_pod_loses_the_tracking_finalizer() -> None:
    client = RecordingClient()
    orphan = pod("o", "Succeeded")
    orphan["metadata"]["ownerReferences"][0]["uid"] = "gone"

    async def scenario() -> None:
        controller = JobController(
            await seeded(JOBS, []), await seeded(PODS, [orphan]), client.as_client()
        )
        await controller.reconcile("orphan-pod:ns/o")

    asyncio.run(scenario())
    assert [c[1] for c in client.of("patch")] == ["pods/o"]


@pytest.mark.parametrize(
    ("rule", "pod_status", "expected"),
    [
        (
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}},
            {"containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 2}}}]},
            (None, True, "Count"),
        ),
        (
            {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}},
            {"containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0}}}]},
            (None, True, None),
        ),
        (
            {
                "action": "Ignore",
                "onExitCodes": {"containerName": "x", "operator": "In", "values": [1]},
            },
            {"initContainerStatuses": [{"name": "x", "state": {"terminated": {"exitCode": 1}}}]},
            (None, False, "Ignore"),
        ),
        (
            {
                "action": "FailJob",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
            {"conditions": [{"type": "DisruptionTarget", "status": "True"}]},
            (
                "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0",
                True,
                "FailJob",
            ),
        ),
    ],
    ids=["count-not-in", "exit-zero-never-matches", "init-container-by-name", "condition-fail-job"],
)
def test_pod_failure_policy_rules(
    rule: dict[str, Any], pod_status: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    failed = {
        "metadata": {"name": "p", "namespace": "ns"},
        "status": {"phase": "Failed", **pod_status},
    }
    assert jp.match_failure_policy({"rules": [rule]}, failed) == expected


def test_completed_indexes_are_written_as_intervals() -> None:
    assert jp.format_intervals([5, 1, 3, 4, 7, 8]) == "1,3-5,7,8"
    assert jp.format_intervals([0, 1]) == "0,1"
    assert jp.parse_intervals("1,3-5,7,8", 8) == {1, 3, 4, 5, 7}


def test_a_met_success_policy_ends_the_job_and_deletes_the_other_pods() -> None:
    client = RecordingClient()
    policy = {"rules": [{"succeededIndexes": "0-1", "succeededCount": 1}]}
    the_job = job(
        {"startTime": stamp(5), "active": 2},
        completionMode="Indexed",
        completions=3,
        parallelism=3,
        successPolicy=policy,
    )
    pods = [pod("i0", "Succeeded", index=0), pod("i1", index=1), pod("i2", index=2)]
    reconcile(the_job, pods, client)
    assert sorted(c[1] for c in client.of("delete")) == ["pods/i1", "pods/i2"]
    first = statuses(client)[0]
    met = first["conditions"][0]
    assert (met["type"], met["reason"], met["message"]) == (
        "SuccessCriteriaMet",
        "SuccessPolicy",
        "Matched rules at index 0",
    )
    assert first["terminating"] == 2
    # Complete waits for the deleted pods to be gone.
    assert all(c["type"] != "Complete" for s in statuses(client) for c in s["conditions"])


@pytest.mark.parametrize(
    ("rules", "succeeded", "expected"),
    [
        ([{"succeededCount": 2}], {0, 4}, "Matched rules at index 0"),
        ([{"succeededCount": 3}], {0, 4}, None),
        (
            [{"succeededIndexes": "9"}, {"succeededIndexes": "1-2"}],
            {1, 2},
            "Matched rules at index 1",
        ),
        ([{"succeededIndexes": "1-3"}], {1, 2}, None),
    ],
    ids=["count", "count-not-yet", "second-rule-indexes", "indexes-not-all"],
)
def test_success_policy_rules(
    rules: list[dict[str, Any]], succeeded: set[int], expected: str | None
) -> None:
    the_job = job(completionMode="Indexed", completions=5, successPolicy={"rules": rules})
    assert match_success_policy(the_job, succeeded) == expected
