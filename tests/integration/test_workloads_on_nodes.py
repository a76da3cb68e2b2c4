"""Deployments on real (simulated-runtime) nodes, with nothing faked: the controllers make the
ReplicaSet and pods, the scheduler binds them, the node agents run them and finish them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=2) as cluster:
        yield Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))


def pods(kubectl: Kubectl) -> list[dict[str, object]]:
    return list(
        json.loads(kubectl.run("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]
    )


def test_a_deployment_rolls_out_rolls_back_and_goes(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "web", "--image=nginx:1.26", "--replicas=3")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s", timeout=90)
    running = pods(kubectl)
    assert len(running) == 3
    assert {p["status"]["phase"] for p in running} == {"Running"}  # type: ignore[index]
    assert {p["spec"]["nodeName"] for p in running} <= {"node-1", "node-2"}  # type: ignore[index]

    kubectl.run("set", "image", "deployment/web", "nginx=nginx:1.27")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s", timeout=90)
    images = {
        p["spec"]["containers"][0]["image"]
        for p in pods(kubectl)
        if not p["metadata"].get("deletionTimestamp")
    }  # type: ignore[index]
    assert images == {"nginx:1.27"}

    kubectl.run("rollout", "undo", "deployment/web")
    kubectl.run("rollout", "status", "deployment/web", "--timeout=60s", timeout=90)
    assert (
        "nginx:1.26"
        in kubectl.run(
            "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
        ).stdout
    )

    kubectl.run("delete", "deployment", "web", "--cascade=foreground", "--wait=true", timeout=90)
    kubectl.run("wait", "--for=delete", "pod", "-l", "app=web", "--timeout=60s", timeout=90)
    assert kubectl.run("get", "rs", "-l", "app=web", "-o", "name").stdout.strip() == ""
