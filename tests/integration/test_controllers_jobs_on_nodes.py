"""A Job whose pod a node agent runs: the pod ends, stays ended, and the Job completes (issue 14).

The node agent's simulated runtime keeps containers up; ``Cluster.finish_pods`` reports them
exited, as a kubelet would, and the agent must not start a terminal pod again.
"""

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


def test_a_job_pod_run_by_a_node_completes_and_stays_succeeded(
    cluster: Any, kubectl: Kubectl
) -> None:
    kubectl.run("create", "job", "pi", "--image=busybox", "--", "echo", "3.14")
    selector = "batch.kubernetes.io/job-name=pi"

    def running() -> Any:
        items = get_json(kubectl, "pods", "-l", selector)["items"]
        return [p for p in items if (p.get("status") or {}).get("phase") == "Running"] or None

    (pod,) = wait_for(running, "the pod running on node-1")
    assert pod["spec"]["nodeName"] == "node-1"
    assert cluster.finish_pods("default", selector) == [pod["metadata"]["name"]]
    kubectl.run("wait", "--for=condition=complete", "job/pi", "--timeout=60s")
    (after,) = get_json(kubectl, "pods", "-l", selector)["items"]
    assert after["status"]["phase"] == "Succeeded"
    assert not after["metadata"].get("finalizers")
