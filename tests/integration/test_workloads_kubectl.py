"""The workload, policy, networking, storage and scheduling kinds with the real kubectl 1.32:
its generators (sent as protobuf), its tables, scale, discovery and the refusals it prints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import wait_for

MANIFESTS = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {nodeSelector: {kubernetes.io/os: linux}, containers: [{name: a, image: busybox}]}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/fast
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
"""


@pytest.fixture(scope="module")
def created(kubectl: Kubectl) -> Kubectl:
    kubectl.run("create", "job", "pi", "--image=perl:5.34")
    kubectl.run("create", "cronjob", "tick", "--image=busybox", "--schedule=@hourly")
    kubectl.run(
        "create", "poddisruptionbudget", "web-pdb", "--selector=app=web", "--min-available=1"
    )
    kubectl.run("create", "priorityclass", "high", "--value=1000", "--description=important")
    kubectl.run("create", "ingress", "ing", "--class=nginx", "--rule=foo.example/bar=web:80,tls=c")
    kubectl.run("apply", "-f", "-", input=MANIFESTS)
    return kubectl


def _lines(kubectl: Kubectl, *args: str) -> list[list[str]]:
    out = kubectl.run("get", *args).stdout
    return [line.split() for line in out.strip().splitlines()]


def test_job_is_defaulted_and_gets_its_selector(created: Kubectl) -> None:
    job = json.loads(created.run("get", "job", "pi", "-o", "json").stdout)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["controller-uid"] == uid and labels["batch.kubernetes.io/job-name"] == "pi"
    assert (job["spec"]["backoffLimit"], job["spec"]["completions"]) == (6, 1)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    header, row = _lines(created, "job", "pi")
    assert header == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert row[:3] == ["pi", "Running", "0/1"]


def test_cronjob_table_and_bad_schedule(created: Kubectl) -> None:
    header, row = _lines(created, "cronjob", "tick")
    assert header[:6] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST"]
    assert row[:6] == ["tick", "@hourly", "<none>", "False", "0", "<none>"]
    refused = created.run(
        "create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *", check=False
    )
    assert refused.returncode != 0
    assert refused.stderr.strip() == (
        'error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: Invalid '
        'value: "61 * * * *": end of range (61) above maximum (59): 61'
    )
    cronjob = json.loads(created.run("get", "cj", "tick", "-o", "json").stdout)
    assert cronjob["spec"]["concurrencyPolicy"] == "Allow"
    assert cronjob["spec"]["successfulJobsHistoryLimit"] == 3


def test_pdb_priorityclass_ingress_tables(created: Kubectl) -> None:
    assert _lines(created, "pdb", "web-pdb")[1][:4] == ["web-pdb", "1", "N/A", "0"]
    assert _lines(created, "pc", "high")[1][:3] == ["high", "1000", "false"]
    names = {row[0]: row[1] for row in _lines(created, "priorityclass")[1:]}
    assert names["system-node-critical"] == "2000001000"
    assert names["system-cluster-critical"] == "2000000000"
    assert _lines(created, "ing", "ing")[1][:5] == ["ing", "nginx", "foo.example", "80,", "443"]
    assert _lines(created, "sc")[1][:3] == ["fast", "(default)", "example.com/fast"]
    assert _lines(created, "ingressclass")[1][:3] == ["nginx", "k8s.io/ingress-nginx", "<none>"]


def test_statefulset_scales_and_daemonset_prints(created: Kubectl) -> None:
    created.run("scale", "statefulset", "web", "--replicas=3")
    assert _lines(created, "sts", "web")[1][:2] == ["web", "0/3"]
    assert _lines(created, "ds", "agent")[1][:7] == [
        "agent",
        "0",
        "0",
        "0",
        "0",
        "0",
        "kubernetes.io/os=linux",
    ]


def test_refusals_are_worded_as_upstream(created: Kubectl) -> None:
    too_high = created.run("create", "priorityclass", "top", "--value=2000000000", check=False)
    assert too_high.stderr.strip() == (
        'error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "top" is invalid: '
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
    )
    system = created.run("delete", "priorityclass", "system-node-critical", check=False)
    assert system.stderr.strip() == (
        'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" '
        "is forbidden: this is a system priority class and cannot be deleted"
    )
    assert created.run("get", "pc", "system-node-critical").returncode == 0


def test_discovery_names_short_names_and_categories(created: Kubectl) -> None:
    resources = created.run("api-resources", "-o", "wide").stdout
    rows = {line.split()[0]: line.split() for line in resources.splitlines()[1:]}
    for name, short in (
        ("cronjobs", "cj"),
        ("statefulsets", "sts"),
        ("daemonsets", "ds"),
        ("poddisruptionbudgets", "pdb"),
        ("priorityclasses", "pc"),
        ("storageclasses", "sc"),
        ("ingresses", "ing"),
        ("horizontalpodautoscalers", "hpa"),
    ):
        assert rows[name][1] == short, rows[name]
    everything = created.run("get", "all", "-o", "name").stdout.split()
    assert {
        "job.batch/pi",
        "cronjob.batch/tick",
        "statefulset.apps/web",
        "daemonset.apps/agent",
    } <= set(everything)


def test_core_events_are_listed_through_events_k8s_io(created: Kubectl) -> None:
    created.run(
        "create",
        "-f",
        "-",
        input=(
            '{"apiVersion":"v1","kind":"Event","metadata":{"name":"pi.started"},'
            '"involvedObject":{"kind":"Pod","name":"pi","namespace":"default"},'
            '"reason":"Started","message":"started container","type":"Normal"}'
        ),
    )
    view = json.loads(created.run("get", "events.events.k8s.io", "pi.started", "-o", "json").stdout)
    assert view["apiVersion"] == "events.k8s.io/v1"
    assert (view["note"], view["regarding"]["name"]) == ("started container", "pi")
    rows = _lines(created, "events.v1.events.k8s.io")
    assert rows[0][:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any(row[-2:] == ["started", "container"] for row in rows[1:])


def test_kubectl_autoscale_writes_v1_and_reads_back_as_v2(created: Kubectl) -> None:
    created.run("create", "deployment", "api", "--image=nginx")
    created.run("autoscale", "deployment", "api", "--max=5", "--cpu-percent=70")
    row = _lines(created, "hpa", "api")[1]
    assert row[:6] == ["api", "Deployment/api", "cpu:", "<unknown>/70%", "1", "5"]
    assert row[6] in ("0", "1")  # REPLICAS: 0 until the HPA controller's first sync writes 1
    v2 = json.loads(created.run("get", "hpa", "api", "-o", "json").stdout)
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    created.run("patch", "hpa", "api", "--type=merge", "-p", '{"spec":{"maxReplicas":8}}')
    v1 = json.loads(
        created.run("get", "horizontalpodautoscalers.v1.autoscaling", "api", "-o", "json").stdout
    )
    assert v1["apiVersion"] == "autoscaling/v1"
    assert (v1["spec"]["targetCPUUtilizationPercentage"], v1["spec"]["maxReplicas"]) == (70, 8)


DRAIN_OBJECTS = """
apiVersion: v1
kind: Node
metadata: {name: drain-node}
---
apiVersion: v1
kind: Pod
metadata: {name: guarded, labels: {app: guarded}}
spec: {nodeName: drain-node, containers: [{name: c, image: nginx}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec: {minAvailable: 1, selector: {matchLabels: {app: guarded}}}
"""


def _budget_status(kubectl: Kubectl, allowed: int) -> Any:
    """Wait for the disruption controller to compute ``allowed`` disruptions."""

    def computed() -> Any:
        budget = json.loads(kubectl.run("get", "pdb", "guarded", "-o", "json").stdout)
        status = budget.get("status") or {}
        current = status.get("observedGeneration") == budget["metadata"]["generation"]
        return status if current and status.get("disruptionsAllowed") == allowed else None

    return wait_for(computed, f"the budget to allow {allowed} disruption(s)")


def test_kubectl_drain_evicts_through_the_budget(created: Kubectl) -> None:
    created.run("apply", "-f", "-", input=DRAIN_OBJECTS)
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    created.run(
        "patch", "pod", "guarded", "--subresource=status", "--type=merge", "-p", json.dumps(ready)
    )
    # The disruption controller counts the one healthy pod: minAvailable 1 allows nothing.
    status = _budget_status(created, 0)
    assert (status["currentHealthy"], status["desiredHealthy"]) == (1, 1)
    blocked = created.run("drain", "drain-node", "--force", "--timeout=1s", check=False)
    assert blocked.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in blocked.stderr
    assert created.run("get", "pod", "guarded").returncode == 0
    created.run("patch", "pdb", "guarded", "--type=merge", "-p", '{"spec":{"minAvailable":0}}')
    _budget_status(created, 1)
    drained = created.run("drain", "drain-node", "--force", "--grace-period=0", "--timeout=30s")
    assert "pod/guarded evicted" in drained.stdout
    gone = created.run("get", "pod", "guarded", check=False)
    assert 'pods "guarded" not found' in gone.stderr
    _budget_status(created, 0)


def test_the_course_storage_admin_role(created: Kubectl) -> None:
    created.run(
        "create",
        "clusterrole",
        "storage-admin",
        "--verb=*",
        "--resource=persistentvolumes,storageclasses",
    )
    role = json.loads(created.run("get", "clusterrole", "storage-admin", "-o", "json").stdout)
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["*"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["*"]},
    ]
