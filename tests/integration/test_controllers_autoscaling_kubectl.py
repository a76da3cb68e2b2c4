"""ReplicationControllers and HorizontalPodAutoscalers on a cluster whose node runs the pods,
driven by the real kubectl (issue 14).

The autoscaler reads the pods' usage through ``metrics.k8s.io`` from the node's
``/stats/summary``: a container running ``sh -c 'while true; do :; done'`` uses one core,
capped by its CPU limit, as a cgroup would cap it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

from kubeward.testing import running_cluster

# The default sync period (15 s) and metric window (10 s) bound how long a decision takes.
AUTOSCALE_TIMEOUT = 120.0

RC = """
apiVersion: v1
kind: ReplicationController
metadata:
  name: frontend
spec:
  replicas: 3
  selector:
    app: frontend
  template:
    metadata:
      labels:
        app: frontend
    spec:
      containers:
      - name: web
        image: nginx
"""


def busy_deployment(name: str, replicas: int, command: str) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "busybox",
                                "command": ["sh", "-c", command],
                                "resources": {
                                    "requests": {"cpu": "100m"},
                                    "limits": {"cpu": "200m"},
                                },
                            }
                        ]
                    },
                },
            },
        }
    )


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(nodes=1) as running:
        yield Kubectl(running.admin_kubeconfig, tmp_path_factory.mktemp("home"))


def running_pods(kubectl: Kubectl, selector: str) -> list[Any]:
    items = get_json(kubectl, "pods", "-l", selector)["items"]
    return [
        p
        for p in items
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def test_replication_controller_runs_scales_and_deletes_its_pods(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", input=RC)
    wait_for(lambda: len(running_pods(kubectl, "app=frontend")) == 3 or None, "3 running pods")
    rc = wait_for(
        lambda: (
            (r := get_json(kubectl, "rc", "frontend")).get("status", {}).get("readyReplicas") == 3
            and r
        ),
        "the RC's status",
    )
    assert rc["status"]["replicas"] == 3
    assert rc["status"]["fullyLabeledReplicas"] == 3
    assert rc["status"]["availableReplicas"] == 3
    assert rc["status"]["observedGeneration"] == rc["metadata"]["generation"]
    for pod in running_pods(kubectl, "app=frontend"):
        (ref,) = pod["metadata"]["ownerReferences"]
        assert (ref["apiVersion"], ref["kind"], ref["uid"], ref["controller"]) == (
            "v1",
            "ReplicationController",
            rc["metadata"]["uid"],
            True,
        )
    table = kubectl.run("get", "rc", "frontend").stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table[1].split()[:4] == ["frontend", "3", "3", "3"]

    out = kubectl.run("scale", "rc", "frontend", "--replicas=1").stdout
    assert out.strip() == "replicationcontroller/frontend scaled"
    wait_for(
        lambda: len(get_json(kubectl, "pods", "-l", "app=frontend")["items"]) == 1 or None,
        "the RC scaled to one pod",
    )
    events = get_json(kubectl, "events", "--field-selector", "involvedObject.name=frontend")
    reasons = {e["reason"] for e in events["items"]}
    assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons
    assert {e["source"].get("component") for e in events["items"]} == {"replication-controller"}

    kubectl.run("delete", "rc", "frontend")
    wait_for(
        lambda: not get_json(kubectl, "pods", "-l", "app=frontend")["items"] or None,
        "the RC's pods deleted with it",
    )


def test_kubectl_autoscale_scales_a_busy_deployment_up(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", input=busy_deployment("busy", 1, "while true; do :; done"))
    wait_for(lambda: running_pods(kubectl, "app=busy") or None, "the busy pod running")
    out = kubectl.run(
        "autoscale", "deployment", "busy", "--cpu-percent=50", "--min=1", "--max=5"
    ).stdout
    assert out.strip() == "horizontalpodautoscaler.autoscaling/busy autoscaled"

    # One busy loop capped at its 200m limit is 200% of its 100m request: four times the
    # 50% target, so 4 replicas; once the new pods have been ready for a metric window, 4 × 4
    # is asked and held to --max=5.
    def replicas(wanted: int) -> Any:
        d = get_json(kubectl, "deployment", "busy")
        return d if d["spec"]["replicas"] == wanted else None

    wait_for(lambda: replicas(4), "the deployment scaled to 4", AUTOSCALE_TIMEOUT)
    wait_for(lambda: replicas(5), "the deployment scaled to 5", AUTOSCALE_TIMEOUT)
    hpa = wait_for(
        lambda: (
            (h := get_json(kubectl, "hpa.v2.autoscaling", "busy"))["status"].get("desiredReplicas")
            == 5
            and h
        ),
        "the HPA's status",
    )
    status = hpa["status"]
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {"averageUtilization": 200, "averageValue": "200m"},
            },
        }
    ]
    assert status["lastScaleTime"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {
        "AbleToScale": ("True", "SucceededRescale"),
        "ScalingActive": ("True", "ValidMetricFound"),
        "ScalingLimited": ("True", "TooManyReplicas"),
    }

    table = kubectl.run("get", "hpa", "busy").stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    row = table[1].split()
    assert row[:2] == ["busy", "Deployment/busy"]
    assert " ".join(row[2:4]) == "cpu: 200%/50%"
    events = get_json(
        kubectl, "events", "--field-selector", "involvedObject.name=busy,reason=SuccessfulRescale"
    )["items"]
    reason = "cpu resource utilization (percentage of request) above target"
    assert {e["message"] for e in events} == {
        f"New size: 4; reason: {reason}",
        f"New size: 5; reason: {reason}",
    }
    assert {e["source"]["component"] for e in events} == {"horizontal-pod-autoscaler"}
    described = kubectl.run("describe", "hpa", "busy").stdout
    assert re.search(r"ScalingLimited\s+True\s+TooManyReplicas", described)
    assert re.search(
        r"SuccessfulRescale\s.*New size: 5; reason: cpu resource utilization", described
    )


HPA_SCALE_DOWN = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: idle
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: idle
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
"""


def test_an_idle_deployment_scales_down_to_min_replicas(kubectl: Kubectl) -> None:
    """1m of a 100m request is 1%: one pod would do, but minReplicas is 2."""
    kubectl.run("apply", "-f", "-", input=busy_deployment("idle", 3, "sleep 3600"))
    wait_for(lambda: len(running_pods(kubectl, "app=idle")) == 3 or None, "three idle pods")
    kubectl.run("apply", "-f", "-", input=HPA_SCALE_DOWN)

    def scaled_down() -> Any:
        d = get_json(kubectl, "deployment", "idle")
        return d if d["spec"]["replicas"] == 2 else None

    wait_for(scaled_down, "the deployment scaled down to two", AUTOSCALE_TIMEOUT)
    hpa = wait_for(
        lambda: (
            (h := get_json(kubectl, "hpa.v2.autoscaling", "idle"))["status"].get("desiredReplicas")
            == 2
            and h
        ),
        "the HPA's status",
    )
    conditions = {c["type"]: c["reason"] for c in hpa["status"]["conditions"]}
    assert conditions["ScalingLimited"] == "TooFewReplicas"
    events = get_json(
        kubectl, "events", "--field-selector", "involvedObject.name=idle,reason=SuccessfulRescale"
    )["items"]
    assert [e["message"] for e in events] == ["New size: 2; reason: All metrics below target"]
    table = kubectl.run("get", "hpa", "idle").stdout.splitlines()
    assert " ".join(table[1].split()[2:4]) == "cpu: 1%/50%"
