"""Jobs, CronJobs and the ttl-after-finished controller, driven by the real kubectl and the
official client (issue 14).

Pods end through ``Cluster.finish_pods`` (as a kubelet reports exited containers); time moves
through the ``FakeClock`` the cluster's controllers read, so schedules fall due and deadlines
pass without waiting.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

from kubeward.controllers.clock import FakeClock

NS = "batch"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, clock: FakeClock) -> Iterator[Any]:
    from kubeward.testing import running_cluster

    with running_cluster(data_dir=tmp_path_factory.mktemp("cluster"), clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
def ns(kubectl: Kubectl) -> str:
    kubectl.run("create", "namespace", NS)
    return NS


def pods_of(kubectl: Kubectl, job: str) -> list[Any]:
    selector = f"batch.kubernetes.io/job-name={job}"
    return list(get_json(kubectl, "pods", "-n", NS, "-l", selector)["items"])


def condition(job: Any, kind: str) -> Any:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind and cond["status"] == "True":
            return cond
    return None


def job_with(kubectl: Kubectl, name: str, kind: str) -> Any:
    def check() -> Any:
        job = get_json(kubectl, "job", name, "-n", NS)
        return job if condition(job, kind) else None

    return wait_for(check, f"job {name} to be {kind}")


def apply(kubectl: Kubectl, doc: dict[str, Any]) -> None:
    kubectl.run("create", "-f", "-", input=json.dumps(doc))


def job_doc(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    template = {
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
        }
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"template": template, **spec},
    }


def test_kubectl_create_job_runs_to_completion(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    kubectl.run("create", "job", "pi", "--image=busybox", "-n", ns, "--", "echo", "3.14")
    (pod,) = wait_for(lambda: pods_of(kubectl, "pi") or None, "the job's pod")
    job = get_json(kubectl, "job", "pi", "-n", ns)
    meta = pod["metadata"]
    assert meta["generateName"] == "pi-"
    assert meta["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    assert meta["labels"]["batch.kubernetes.io/controller-uid"] == job["metadata"]["uid"]
    (ref,) = meta["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (
        "Job",
        "pi",
        job["metadata"]["uid"],
        True,
    )
    wait_for(
        lambda: get_json(kubectl, "job", "pi", "-n", ns)["status"].get("active") == 1,
        "status.active 1",
    )
    assert cluster.finish_pods(ns, "batch.kubernetes.io/job-name=pi") == [meta["name"]]
    out = kubectl.run(
        "wait", "--for=condition=complete", "job/pi", "-n", ns, "--timeout=60s"
    ).stdout
    assert "job.batch/pi condition met" in out
    job = get_json(kubectl, "job", "pi", "-n", ns)
    status = job["status"]
    assert status["succeeded"] == 1
    assert status.get("failed", 0) == 0
    assert status["uncountedTerminatedPods"] == {}
    assert status["startTime"] <= status["completionTime"]
    kinds = [(c["type"], c.get("reason")) for c in status["conditions"]]
    assert kinds == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    # The finalizer was removed once the pod was counted.
    wait_for(lambda: not pods_of(kubectl, "pi")[0]["metadata"].get("finalizers"), "finalizer gone")
    table = kubectl.run("get", "job", "pi", "-n", ns).stdout.splitlines()
    assert table[1].split()[:3] == ["pi", "Complete", "1/1"]
    events = kubectl.run("get", "events", "-n", ns, "--field-selector=involvedObject.name=pi")
    assert "SuccessfulCreate" in events.stdout
    described = kubectl.run("describe", "job", "pi", "-n", ns).stdout
    assert "0 Active (0 Ready) / 1 Succeeded / 0 Failed" in described
    assert "Completed" in described


def test_backoff_limit_fails_the_job(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, job_doc("flaky", {"backoffLimit": 0}))
    wait_for(lambda: pods_of(kubectl, "flaky") or None, "the job's pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=flaky", "Failed")
    kubectl.run("wait", "--for=condition=failed", "job/flaky", "-n", ns, "--timeout=60s")
    job = get_json(kubectl, "job", "flaky", "-n", ns)
    failed = condition(job, "Failed")
    assert (failed["reason"], failed["message"]) == (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert condition(job, "FailureTarget")["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 1
    assert "completionTime" not in job["status"]


def test_failed_pod_is_replaced_after_the_backoff_delay(
    cluster: Any, clock: FakeClock, kubectl: Kubectl, ns: str
) -> None:
    apply(kubectl, job_doc("retry", {"backoffLimit": 3}))
    (first,) = wait_for(lambda: pods_of(kubectl, "retry") or None, "the first pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=retry", "Failed")
    wait_for(
        lambda: get_json(kubectl, "job", "retry", "-n", ns)["status"].get("failed") == 1,
        "the failure counted",
    )
    assert len(pods_of(kubectl, "retry")) == 1  # the replacement waits for the 10s backoff
    clock.step(11)
    wait_for(lambda: len(pods_of(kubectl, "retry")) == 2 or None, "the replacement pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=retry", "Succeeded")
    job = job_with(kubectl, "retry", "Complete")
    assert (job["status"]["succeeded"], job["status"]["failed"]) == (1, 1)
    assert first["metadata"]["name"] in {p["metadata"]["name"] for p in pods_of(kubectl, "retry")}


def test_pod_failure_policy_fail_job_on_exit_code(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    policy = {
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
        ]
    }
    apply(kubectl, job_doc("fatal", {"backoffLimit": 6, "podFailurePolicy": policy}))
    (pod,) = wait_for(lambda: pods_of(kubectl, "fatal") or None, "the job's pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=fatal", "Failed", exit_code=42)
    job = job_with(kubectl, "fatal", "Failed")
    failed = condition(job, "Failed")
    assert failed["reason"] == "PodFailurePolicy"
    assert failed["message"] == (
        f"Container main for pod {ns}/{pod['metadata']['name']} failed with exit code 42"
        " matching FailJob rule at index 1"
    )


def test_indexed_job_counts_completed_indexes(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    spec = {"completionMode": "Indexed", "completions": 3, "parallelism": 3}
    apply(kubectl, job_doc("indexed", spec))
    pods = wait_for(
        lambda: len(pods_of(kubectl, "indexed")) == 3 and pods_of(kubectl, "indexed"), "3 pods"
    )
    indexes = sorted(
        p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in pods
    )
    assert indexes == ["0", "1", "2"]
    for pod in pods:
        index = pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"]
        assert pod["spec"]["hostname"] == f"indexed-{index}"
        assert pod["metadata"]["generateName"] == f"indexed-{index}-"
        env = pod["spec"]["containers"][0]["env"]
        assert env[0]["name"] == "JOB_COMPLETION_INDEX"
    cluster.finish_pods(ns, "batch.kubernetes.io/job-completion-index=1")
    wait_for(
        lambda: (
            get_json(kubectl, "job", "indexed", "-n", ns)["status"].get("completedIndexes") == "1"
        ),
        "index 1 completed",
    )
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=indexed")
    job = job_with(kubectl, "indexed", "Complete")
    assert (job["status"]["completedIndexes"], job["status"]["succeeded"]) == ("0-2", 3)


def test_backoff_limit_per_index_fails_one_index_then_the_job(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    spec = {
        "completionMode": "Indexed",
        "completions": 2,
        "parallelism": 2,
        "backoffLimitPerIndex": 0,
    }
    apply(kubectl, job_doc("perindex", spec))
    wait_for(lambda: len(pods_of(kubectl, "perindex")) == 2 or None, "2 pods")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-completion-index=0", "Failed")
    wait_for(
        lambda: (
            get_json(kubectl, "job", "perindex", "-n", ns)["status"].get("failedIndexes") == "0"
        ),
        "index 0 failed",
    )
    assert not condition(get_json(kubectl, "job", "perindex", "-n", ns), "Failed")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-completion-index=1")
    job = job_with(kubectl, "perindex", "Failed")
    assert condition(job, "Failed")["reason"] == "FailedIndexes"
    assert (job["status"]["completedIndexes"], job["status"]["failed"]) == ("1", 1)


def test_active_deadline_fails_the_job_when_the_clock_passes_it(
    cluster: Any, clock: FakeClock, kubectl: Kubectl, ns: str
) -> None:
    apply(kubectl, job_doc("slow", {"activeDeadlineSeconds": 30}))
    wait_for(lambda: pods_of(kubectl, "slow") or None, "the job's pod")
    clock.step(31)
    job = job_with(kubectl, "slow", "Failed")
    assert condition(job, "Failed")["reason"] == "DeadlineExceeded"
    assert condition(job, "Failed")["message"] == "Job was active longer than specified deadline"
    wait_for(lambda: not pods_of(kubectl, "slow") or None, "the active pod deleted")


def test_suspended_job_runs_no_pod_until_resumed(cluster: Any, kubectl: Kubectl, ns: str) -> None:
    apply(kubectl, job_doc("later", {"suspend": True}))
    job = job_with(kubectl, "later", "Suspended")
    assert condition(job, "Suspended")["reason"] == "JobSuspended"
    assert not pods_of(kubectl, "later")
    assert "startTime" not in job["status"]
    kubectl.run("patch", "job", "later", "-n", ns, "-p", '{"spec":{"suspend":false}}')
    wait_for(lambda: pods_of(kubectl, "later") or None, "the pod after resuming")
    job = get_json(kubectl, "job", "later", "-n", ns)
    (suspended,) = [c for c in job["status"]["conditions"] if c["type"] == "Suspended"]
    assert (suspended["status"], suspended["reason"]) == ("False", "JobResumed")
    assert job["status"]["startTime"]


def test_kubectl_create_cronjob_creates_jobs_on_schedule(
    cluster: Any, clock: FakeClock, kubectl: Kubectl, ns: str
) -> None:
    # The controllers' time is set just before the CronJob's creation: no schedule time lies
    # between its creation and the controllers' now until the test moves the clock.
    real = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    clock.set(real - datetime.timedelta(seconds=1))  # creationTimestamp has whole seconds
    kubectl.run(
        "create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "-n", ns,
        "--", "date",
    )  # fmt: skip
    cj = get_json(kubectl, "cronjob", "tick", "-n", ns)
    names = [j["metadata"]["name"] for j in get_json(kubectl, "jobs", "-n", ns)["items"]]
    assert not [n for n in names if n.startswith("tick-")]  # nothing before the clock moves
    # Five minutes past the CronJob's creation: one */5 time falls due.
    created = datetime.datetime.fromisoformat(cj["metadata"]["creationTimestamp"])
    clock.set(created + datetime.timedelta(seconds=5 * 60 + 1))

    def spawned() -> Any:
        jobs = [
            j
            for j in get_json(kubectl, "jobs", "-n", ns)["items"]
            if j["metadata"]["name"].startswith("tick-")
        ]
        return jobs or None

    (job,) = wait_for(spawned, "the cronjob's job")
    minutes = int(job["metadata"]["name"].removeprefix("tick-"))
    assert minutes % 5 == 0
    (ref,) = job["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"]) == ("CronJob", "tick", cj["metadata"]["uid"])
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp
    cj = wait_for(
        lambda: (c := get_json(kubectl, "cronjob", "tick", "-n", ns))["status"].get("active") and c,
        "status.active",
    )
    assert cj["status"]["active"][0]["name"] == job["metadata"]["name"]
    assert cj["status"]["lastScheduleTime"]
    name = job["metadata"]["name"]
    wait_for(lambda: pods_of(kubectl, name) or None, "the job's pod")
    cluster.finish_pods(ns, f"batch.kubernetes.io/job-name={name}")
    job_with(kubectl, name, "Complete")
    cj = wait_for(
        lambda: (
            (c := get_json(kubectl, "cronjob", "tick", "-n", ns))["status"].get(
                "lastSuccessfulTime"
            )
            and c
        ),
        "lastSuccessfulTime",
    )
    assert not cj["status"].get("active")


def test_kubectl_create_job_from_a_cronjob_runs_it_now(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    kubectl.run("create", "job", "manual", "--from=cronjob/tick", "-n", ns)
    job = get_json(kubectl, "job", "manual", "-n", ns)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"

    def warned() -> Any:
        text = kubectl.run("get", "events", "-n", ns, "--field-selector=involvedObject.name=tick")
        return "UnexpectedJob" in text.stdout or None

    wait_for(warned, "the cronjob controller's UnexpectedJob warning, as upstream")
    wait_for(lambda: pods_of(kubectl, "manual") or None, "the job's pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=manual")
    job_with(kubectl, "manual", "Complete")


def test_ttl_after_finished_deletes_the_job_when_the_clock_passes_it(
    cluster: Any, clock: FakeClock, kubectl: Kubectl, ns: str
) -> None:
    apply(kubectl, job_doc("brief", {"ttlSecondsAfterFinished": 100}))
    wait_for(lambda: pods_of(kubectl, "brief") or None, "the job's pod")
    cluster.finish_pods(ns, "batch.kubernetes.io/job-name=brief")
    job_with(kubectl, "brief", "Complete")
    assert kubectl.run("get", "job", "brief", "-n", ns).returncode == 0
    clock.step(101)
    wait_for(
        lambda: kubectl.run("get", "job", "brief", "-n", ns, check=False).returncode != 0,
        "the job deleted",
    )
    wait_for(lambda: not pods_of(kubectl, "brief") or None, "its pod deleted")


def test_deleting_a_running_job_releases_and_removes_its_pods(
    cluster: Any, kubectl: Kubectl, ns: str
) -> None:
    apply(kubectl, job_doc("dropped", {"parallelism": 2, "completions": 4}))
    wait_for(lambda: len(pods_of(kubectl, "dropped")) == 2 or None, "two pods")
    kubectl.run("delete", "job", "dropped", "-n", ns)
    # The garbage collector deletes the pods; the job controller removes the finalizer of
    # pods whose Job is gone, so they do not linger.
    wait_for(lambda: not pods_of(kubectl, "dropped") or None, "the pods gone")


def test_official_client_create_namespaced_job(cluster: Any, ns: str) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config(str(cluster.admin_kubeconfig))
    batch = client.BatchV1Api(api_client)
    body = client.V1Job(
        metadata=client.V1ObjectMeta(name="from-client"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="c", image="busybox")],
                )
            ),
            backoff_limit=2,
        ),
    )
    created = batch.create_namespaced_job(ns, body)
    assert created.spec.completions == 1
    selector = "batch.kubernetes.io/job-name=from-client"
    core = client.CoreV1Api(api_client)
    wait_for(lambda: core.list_namespaced_pod(ns, label_selector=selector).items or None, "pod")
    cluster.finish_pods(ns, selector)

    def done() -> Any:
        job = batch.read_namespaced_job_status("from-client", ns)
        return job if job.status.completion_time else None

    job = wait_for(done, "the job complete")
    assert job.status.succeeded == 1
    assert [c.type for c in job.status.conditions] == ["SuccessCriteriaMet", "Complete"]


@pytest.mark.parametrize(
    ("account", "verb", "resource", "group", "allowed"),
    [
        ("job-controller", "create", "pods", "", True),
        ("job-controller", "update", "jobs/status", "batch", True),
        ("job-controller", "create", "jobs", "batch", False),
        ("cronjob-controller", "create", "jobs", "batch", True),
        ("cronjob-controller", "create", "pods", "", False),
        ("ttl-after-finished-controller", "delete", "jobs", "batch", True),
        ("ttl-after-finished-controller", "delete", "pods", "", False),
    ],
    ids=lambda v: str(v),
)
def test_each_batch_controller_has_only_its_bootstrap_role(
    cluster: Any, account: str, verb: str, resource: str, group: str, allowed: bool
) -> None:
    resource, _, subresource = resource.partition("/")
    user = f"system:serviceaccount:kube-system:{account}"
    assert (
        cluster.can(user, verb, resource, api_group=group, namespace=NS, subresource=subresource)
        is allowed
    )
