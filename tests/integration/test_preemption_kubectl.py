"""Preemption with the real kubectl on a node that runs pods: a pod of higher priority takes the
place of a lower one (marked, evented, deleted), and the reasons when it cannot, as
``kubectl describe pod`` shows them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster


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
    # one node of 4 cpus (kubeward node's default capacity)
    with running_cluster(nodes=1) as cluster:
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
        for name, value in (("low", 10), ("high", 1000)):
            admin.run("create", "priorityclass", name, f"--value={value}")
        admin.run(
            "create", "priorityclass", "high-never", "--value=1000", "--preemption-policy=Never"
        )
        yield admin


def create_pod(kubectl: Kubectl, name: str, cpu: str, priority_class: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "priorityClassName": priority_class,
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}
            ],
        },
    }
    kubectl.run("create", "-f", "-", input=json.dumps(pod))


def get_pod(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    done = kubectl.run("get", "pod", name, "-o", "json", check=False)
    return json.loads(done.stdout) if done.returncode == 0 else None  # type: ignore[no-any-return]


def phase(kubectl: Kubectl, name: str) -> str:
    pod = get_pod(kubectl, name)
    return str(((pod or {}).get("status") or {}).get("phase") or "")


def test_a_higher_priority_pod_preempts_the_lower_one(kubectl: Kubectl) -> None:
    create_pod(kubectl, "low-a", "2500m", "low")
    create_pod(kubectl, "low-b", "1500m", "low")
    for name in ("low-a", "low-b"):
        wait_for(lambda n=name: phase(kubectl, n) == "Running", f"{name} Running")  # type: ignore[misc]

    # The node is full: the high pod needs 2, and removing low-a alone makes room (removing
    # low-b alone frees only 1.5), so low-b is reprieved whichever of the two is older.
    create_pod(kubectl, "high", "2", "high")
    wait_for(lambda: get_pod(kubectl, "low-a") is None, "low-a preempted and gone")
    wait_for(lambda: phase(kubectl, "high") == "Running", "high Running")
    high = get_pod(kubectl, "high")
    assert high is not None
    assert high["spec"]["nodeName"] == "node-1"
    assert high["status"].get("nominatedNodeName") == "node-1"
    assert phase(kubectl, "low-b") == "Running"  # reprieved

    events = json.loads(
        kubectl.run(
            "get", "events", "--field-selector", "involvedObject.name=low-a", "-o", "json"
        ).stdout
    )["items"]
    preempted = [e for e in events if e["reason"] == "Preempted"]
    assert preempted, events
    assert preempted[0]["message"] == f"Preempted by pod {high['metadata']['uid']} on node node-1"
    assert preempted[0]["source"]["component"] == "default-scheduler"

    # The high pod said why it waited before it ran: the node was full.
    described = kubectl.run("describe", "pod", "high").stdout
    assert "0/1 nodes are available: 1 Insufficient cpu." in described


def test_why_preemption_does_not_help(kubectl: Kubectl) -> None:
    # The node now runs high (2, priority 1000) and low-b (1.5, priority 10): 0.5 free.
    create_pod(kubectl, "never", "1", "high-never")
    create_pod(kubectl, "huge", "3", "high")  # only low-b is below it: removing it frees 2

    def message(name: str) -> str:
        pod = get_pod(kubectl, name) or {}
        conditions = (pod.get("status") or {}).get("conditions") or []
        found = [c for c in conditions if c.get("type") == "PodScheduled"]
        return str(found[0].get("message", "")) if found else ""

    never = wait_for(lambda: message("never"), "never's condition")
    assert never == (
        "0/1 nodes are available: 1 Insufficient cpu."
        " preemption: not eligible due to preemptionPolicy=Never.."
    )
    huge = wait_for(lambda: message("huge"), "huge's condition")
    assert huge == (
        "0/1 nodes are available: 1 Insufficient cpu."
        " preemption: 0/1 nodes are available: 1 Insufficient cpu.."
    )
    assert phase(kubectl, "low-b") == "Running"  # no victim when preemption cannot help
    assert (
        "preemption: not eligible due to preemptionPolicy=Never.."
        in kubectl.run("describe", "pod", "never").stdout
    )
    for name in ("never", "huge"):
        assert not ((get_pod(kubectl, name) or {}).get("spec") or {}).get("nodeName")


def test_a_deployment_naming_a_priority_class_runs_its_pods_at_that_priority(
    kubectl: Kubectl,
) -> None:
    # A template is defaulted without priority: the Priority admission plugin gives each pod
    # the class's value (a template defaulted to priority 0 had every pod refused).
    kubectl.run("create", "deployment", "ranked", "--image=nginx")
    kubectl.run(
        "patch",
        "deployment",
        "ranked",
        "--type=merge",
        "-p",
        json.dumps({"spec": {"template": {"spec": {"priorityClassName": "low"}}}}),
    )
    template = kubectl.run(
        "get", "deployment", "ranked", "-o", "jsonpath={.spec.template.spec}"
    ).stdout
    assert "priority" not in json.loads(template)

    def running_pod() -> dict[str, Any] | None:
        pods = json.loads(kubectl.run("get", "pods", "-l", "app=ranked", "-o", "json").stdout)
        ready = [p for p in pods["items"] if p["status"].get("phase") == "Running"]
        return ready[0] if ready else None

    pod = wait_for(running_pod, "a Running pod of the deployment")
    assert pod["spec"]["priority"] == 10
    assert pod["spec"]["priorityClassName"] == "low"
