"""Probes with the real kubectl on a one-node cluster (issue 16: "probes evaluated on a
simulated schedule"): readiness keeps a pod out of its Service's EndpointSlice until it
passes, a failed liveness probe restarts the container with the kubelet's Events, and the
kubelet's log options (``--previous``, ``--tail``, ``--timestamps``, ``--since``)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

NS = "probes"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=1) as cluster:
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        admin.run("create", "namespace", NS)
        yield admin


def get_json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl.run("get", *args, "-n", NS, "-o", "json").stdout)


def container_status(kubectl: Kubectl, pod: str) -> dict[str, Any]:
    statuses = get_json(kubectl, "pod", pod).get("status", {}).get("containerStatuses") or [{}]
    return statuses[0]  # type: ignore[no-any-return]


def apply(kubectl: Kubectl, manifest: dict[str, Any]) -> None:
    kubectl.run("apply", "-n", NS, "-f", "-", input=json.dumps(manifest))


def pod_manifest(name: str, command: str, **probes: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox",
                    "command": ["sh", "-c", command],
                    "ports": [{"containerPort": 8080}],
                    **probes,
                }
            ]
        },
    }


def test_readiness_keeps_the_pod_out_of_its_service_until_it_passes(kubectl: Kubectl) -> None:
    probe = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    apply(kubectl, pod_manifest("gated", "echo up; sleep 3600", readinessProbe=probe))
    kubectl.run("expose", "pod", "gated", "--port=80", "--target-port=8080", "-n", NS)

    def endpoint_ready() -> list[bool]:
        listed = get_json(kubectl, "endpointslices", "-l", "kubernetes.io/service-name=gated")
        return [
            bool(e.get("conditions", {}).get("ready"))
            for s in listed["items"]
            for e in s.get("endpoints") or []
        ]

    wait_for(lambda: endpoint_ready() == [False], "a not-ready endpoint")
    row = kubectl.run("get", "pod", "gated", "-n", NS).stdout.splitlines()[1].split()
    assert row[1:3] == ["0/1", "Running"]
    conditions = {
        c["type"]: c["status"] for c in get_json(kubectl, "pod", "gated")["status"]["conditions"]
    }
    assert conditions["Ready"] == conditions["ContainersReady"] == "False"
    described = kubectl.run("describe", "pod", "gated", "-n", NS).stdout
    assert "Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory" in (
        described
    )

    # The exec'd process shares the container's filesystem: the probe sees the file.
    kubectl.run("exec", "gated", "-n", NS, "--", "touch", "/tmp/ready")
    wait_for(lambda: endpoint_ready() == [True], "the endpoint ready")
    assert kubectl.run("get", "pod", "gated", "-n", NS).stdout.splitlines()[1].split()[1] == "1/1"

    kubectl.run("exec", "gated", "-n", NS, "--", "rm", "/tmp/ready")
    wait_for(lambda: endpoint_ready() == [False], "the endpoint not ready again")
    assert container_status(kubectl, "gated")["restartCount"] == 0  # readiness never restarts


def test_a_failed_liveness_probe_restarts_the_container_and_keeps_its_log(
    kubectl: Kubectl,
) -> None:
    probe = {
        "exec": {"command": ["cat", "/tmp/healthy"]},
        "periodSeconds": 1,
        "failureThreshold": 2,
        "terminationGracePeriodSeconds": 1,
    }
    command = "echo starting; touch /tmp/healthy; sleep 2; rm -f /tmp/healthy; echo gone; sleep 600"
    apply(kubectl, pod_manifest("unhealthy", command, livenessProbe=probe))

    no_previous = kubectl.run("logs", "unhealthy", "-n", NS, "--previous", check=False)
    assert no_previous.returncode != 0
    assert 'previous terminated container "app" in pod "unhealthy" not found' in (
        no_previous.stderr
    )

    restarted = wait_for(
        lambda: (s := container_status(kubectl, "unhealthy")).get("restartCount", 0) >= 1 and s,
        "a restart",
    )
    terminated = restarted["lastState"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("Error", 137)

    described = kubectl.run("describe", "pod", "unhealthy", "-n", NS).stdout
    assert re.search(
        r"Warning\s+Unhealthy\s+.*kubelet\s+Liveness probe failed: "
        r"cat: can't open '/tmp/healthy': No such file or directory",
        described,
    )
    assert re.search(
        r"Normal\s+Killing\s+.*kubelet\s+Container app failed liveness probe, will be restarted",
        described,
    )
    assert re.search(
        r"Liveness:\s+exec \[cat /tmp/healthy\] delay=0s timeout=1s period=1s #success=1 #failure=2",
        described,
    )

    previous = kubectl.run("logs", "unhealthy", "-n", NS, "--previous").stdout
    assert previous == "starting\ngone\n"
    assert kubectl.run("logs", "unhealthy", "-n", NS, "--previous", "--tail=1").stdout == "gone\n"
    stamped = kubectl.run("logs", "unhealthy", "-n", NS, "--previous", "--timestamps").stdout
    assert re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (starting|gone)\n){2}", stamped)
    assert kubectl.run("logs", "unhealthy", "-n", NS, "--since=1h").stdout.startswith("starting\n")
    assert kubectl.run("logs", "unhealthy", "-n", NS, "--limit-bytes=4").stdout == "star"


def test_exec_sleeps_take_their_time_and_chains_run_in_order(kubectl: Kubectl) -> None:
    apply(kubectl, pod_manifest("chain", "sleep 3600"))
    wait_for(lambda: container_status(kubectl, "chain").get("ready"), "chain ready")
    out = kubectl.run(
        "exec",
        "chain",
        "-n",
        NS,
        "--",
        "sh",
        "-c",
        "mkdir -p /data/x && touch /data/x/f; sleep 1; ls /data/x; rm -r /data; ls /data || echo gone",
    )
    assert out.stdout == "f\ngone\n"
    assert "ls: /data: No such file or directory" in out.stderr
