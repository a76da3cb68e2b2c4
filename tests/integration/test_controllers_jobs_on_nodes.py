"""A Job whose pod a node agent runs: the simulated runtime runs its command to the end, the
pod ends and stays ended, and the Job completes (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kubeward.testing import running_cluster

    with running_cluster(data_dir=tmp_path_factory.mktemp("cluster"), nodes=1) as running:
        yield running


def test_kubectl_create_job_runs_to_completion_on_a_node(cluster: Any, kubectl: Kubectl) -> None:
    # The node's simulated runtime runs `echo` to its end: nothing stands in for the kubelet.
    kubectl.run("create", "job", "pi", "--image=busybox", "--", "echo", "3.14")
    out = kubectl.run("wait", "--for=condition=complete", "job/pi", "--timeout=60s").stdout
    assert "job.batch/pi condition met" in out
    (pod,) = get_json(kubectl, "pods", "-l", "batch.kubernetes.io/job-name=pi")["items"]
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["status"]["phase"] == "Succeeded"
    wait_for(
        lambda: not get_json(kubectl, "pod", pod["metadata"]["name"])["metadata"].get("finalizers"),
        "the tracking finalizer removed",
    )
    job = get_json(kubectl, "job", "pi")
    assert (job["status"]["succeeded"], job["status"].get("failed", 0)) == (1, 0)
    # A terminal pod is never started again by its node.
    assert cluster.finish_pods("default", "batch.kubernetes.io/job-name=pi") == []
    assert get_json(kubectl, "pod", pod["metadata"]["name"])["status"]["phase"] == "Succeeded"
