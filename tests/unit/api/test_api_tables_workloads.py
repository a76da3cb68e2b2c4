"""Columns and cells of the workload, policy, networking, storage and scheduling kinds, as
Kubernetes' printers.go prints them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeward.api.tables import KindKey, printer_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: int) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(name: str = "x", created: int = 3600, **fields: Any) -> dict[str, Any]:
    metadata = {"name": name, "creationTimestamp": ago(created), **fields.pop("metadata", {})}
    return {"metadata": metadata, **fields}


def cells(kind_key: KindKey, item: dict[str, Any]) -> tuple[Any, ...]:
    return printer_for(kind_key).print_row(item, NOW).cells


def headers(kind_key: KindKey) -> list[tuple[str, str, int]]:
    return [(c.name, c.type, c.priority) for c in printer_for(kind_key).columns]


def template(*containers: tuple[str, str], **spec: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": n, "image": i} for n, i in containers], **spec}}


COLUMNS: dict[KindKey, list[str]] = {
    ("batch", "Job"): [
        "Name",
        "Status",
        "Completions",
        "Duration",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ],
    ("batch", "CronJob"): [
        "Name",
        "Schedule",
        "Timezone",
        "Suspend",
        "Active",
        "Last Schedule",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ],
    ("apps", "StatefulSet"): ["Name", "Ready", "Age", "Containers", "Images"],
    ("apps", "DaemonSet"): [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ],
    ("apps", "ControllerRevision"): ["Name", "Controller", "Revision", "Age"],
    ("autoscaling", "HorizontalPodAutoscaler"): [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ],
    ("policy", "PodDisruptionBudget"): [
        "Name",
        "Min Available",
        "Max Unavailable",
        "Allowed Disruptions",
        "Age",
    ],
    ("networking.k8s.io", "Ingress"): ["Name", "Class", "Hosts", "Address", "Ports", "Age"],
    ("networking.k8s.io", "IngressClass"): ["Name", "Controller", "Parameters", "Age"],
    ("storage.k8s.io", "StorageClass"): [
        "Name",
        "Provisioner",
        "ReclaimPolicy",
        "VolumeBindingMode",
        "AllowVolumeExpansion",
        "Age",
    ],
    ("storage.k8s.io", "CSIDriver"): [
        "Name",
        "AttachRequired",
        "PodInfoOnMount",
        "StorageCapacity",
        "TokenRequests",
        "RequiresRepublish",
        "Modes",
        "Age",
    ],
    ("storage.k8s.io", "CSINode"): ["Name", "Drivers", "Age"],
    ("storage.k8s.io", "VolumeAttachment"): ["Name", "Attacher", "PV", "Node", "Attached", "Age"],
    ("scheduling.k8s.io", "PriorityClass"): [
        "Name",
        "Value",
        "Global-Default",
        "Age",
        "PreemptionPolicy",
    ],
}


@pytest.mark.parametrize("kind_key", list(COLUMNS), ids=lambda k: k[1])
def test_column_names(kind_key: KindKey) -> None:
    assert [name for name, _, _ in headers(kind_key)] == COLUMNS[kind_key]


def test_wide_columns() -> None:
    assert [n for n, _, p in headers(("batch", "Job")) if p == 1] == [
        "Containers",
        "Images",
        "Selector",
    ]
    assert [n for n, _, p in headers(("apps", "StatefulSet")) if p == 1] == ["Containers", "Images"]


def _job(**status: Any) -> dict[str, Any]:
    return obj(
        "pi",
        spec={
            "completions": 3,
            "selector": {"matchLabels": {"a": "b"}},
            "template": template(("pi", "perl")),
        },
        status=status,
    )


@pytest.mark.parametrize(
    ("status", "metadata", "expected"),
    [
        ({}, {}, "Running"),
        ({"conditions": [{"type": "Complete", "status": "True"}]}, {}, "Complete"),
        ({"conditions": [{"type": "Failed", "status": "True"}]}, {}, "Failed"),
        ({"conditions": [{"type": "Suspended", "status": "True"}]}, {}, "Suspended"),
        ({"conditions": [{"type": "Suspended", "status": "False"}]}, {}, "Running"),
        (
            {"conditions": [{"type": "Suspended", "status": "True"}]},
            {"deletionTimestamp": ago(1)},
            "Terminating",
        ),
    ],
)
def test_job_status(status: dict[str, Any], metadata: dict[str, Any], expected: str) -> None:
    job = _job(**status)
    job["metadata"].update(metadata)
    assert cells(("batch", "Job"), job)[1] == expected


def test_job_row() -> None:
    job = _job(succeeded=1, startTime=ago(125), completionTime=ago(5))
    assert cells(("batch", "Job"), job) == (
        "pi",
        "Running",
        "1/3",
        "2m",
        "60m",
        "pi",
        "perl",
        "a=b",
    )
    parallel = obj(spec={"parallelism": 4}, status={"succeeded": 2})
    assert cells(("batch", "Job"), parallel)[2] == "2/1 of 4"
    assert cells(("batch", "Job"), obj(spec={}, status={}))[2:4] == ("0/1", "")


def test_cronjob_row() -> None:
    cronjob = obj(
        "hello",
        spec={
            "schedule": "*/1 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": template(("hello", "busybox"))}},
        },
        status={"active": [{"name": "hello-1"}], "lastScheduleTime": ago(30)},
    )
    assert cells(("batch", "CronJob"), cronjob) == (
        "hello",
        "*/1 * * * *",
        "<none>",
        "False",
        1,
        "30s",
        "60m",
        "hello",
        "busybox",
        "<none>",
    )
    never = obj(spec={"schedule": "@hourly", "timeZone": "Etc/UTC"}, status={})
    assert cells(("batch", "CronJob"), never)[2:6] == ("Etc/UTC", "<unset>", 0, "<none>")


def test_statefulset_and_daemonset_rows() -> None:
    sts = obj(
        "web",
        spec={"replicas": 3, "template": template(("nginx", "nginx:1"))},
        status={"readyReplicas": 2},
    )
    assert cells(("apps", "StatefulSet"), sts) == ("web", "2/3", "60m", "nginx", "nginx:1")
    ds = obj(
        "agent",
        spec={
            "selector": {"matchLabels": {"app": "agent"}},
            "template": template(("a", "busybox"), nodeSelector={"os": "linux", "arch": "x"}),
        },
        status={
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 2,
            "numberReady": 1,
            "updatedNumberScheduled": 2,
            "numberAvailable": 1,
        },
    )
    assert cells(("apps", "DaemonSet"), ds) == (
        "agent",
        3,
        2,
        1,
        2,
        1,
        "arch=x,os=linux",
        "60m",
        "a",
        "busybox",
        "app=agent",
    )
    bare = obj(spec={"template": template()}, status={})
    assert cells(("apps", "DaemonSet"), bare)[6] == "<none>"


def test_controller_revision_row() -> None:
    owned = obj(
        "web-5d8",
        revision=2,
        metadata={
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}
            ]
        },
    )
    assert cells(("apps", "ControllerRevision"), owned) == (
        "web-5d8",
        "statefulset.apps/web",
        2,
        "60m",
    )
    assert cells(("apps", "ControllerRevision"), obj(revision=1))[1] == "<none>"


def test_hpa_and_pdb_rows() -> None:
    hpa = obj(
        "web",
        spec={
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
        },
        status={
            "currentReplicas": 2,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 20}},
                }
            ],
        },
    )
    assert cells(("autoscaling", "HorizontalPodAutoscaler"), hpa) == (
        "web",
        "Deployment/web",
        "cpu: 20%/50%",
        "1",
        5,
        2,
        "60m",
    )
    pdb = obj("p", spec={"minAvailable": "50%"}, status={"disruptionsAllowed": 1})
    assert cells(("policy", "PodDisruptionBudget"), pdb) == ("p", "50%", "N/A", 1, "60m")


def test_ingress_rows() -> None:
    ingress = obj(
        "ing",
        spec={
            "ingressClassName": "nginx",
            "rules": [{"host": "a.com"}, {"host": "b.com"}, {}],
            "tls": [{"hosts": ["a.com"]}],
        },
        status={"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"hostname": "lb.example"}]}},
    )
    assert cells(("networking.k8s.io", "Ingress"), ingress) == (
        "ing",
        "nginx",
        "a.com,b.com",
        "10.0.0.1,lb.example",
        "80, 443",
        "60m",
    )
    assert cells(("networking.k8s.io", "Ingress"), obj(spec={}, status={}))[1:5] == (
        "<none>",
        "*",
        "",
        "80",
    )
    klass = obj(
        "nginx",
        spec={
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"},
        },
    )
    assert cells(("networking.k8s.io", "IngressClass"), klass) == (
        "nginx",
        "k8s.io/ingress-nginx",
        "IngressParameters.k8s.example.com/p",
        "60m",
    )


def test_storage_and_scheduling_rows() -> None:
    default = obj(
        "fast",
        metadata={"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        provisioner="example.com/fast",
        reclaimPolicy="Retain",
        volumeBindingMode="WaitForFirstConsumer",
        allowVolumeExpansion=True,
    )
    assert cells(("storage.k8s.io", "StorageClass"), default) == (
        "fast (default)",
        "example.com/fast",
        "Retain",
        "WaitForFirstConsumer",
        True,
        "60m",
    )
    plain = obj("slow", provisioner="example.com/slow")
    assert cells(("storage.k8s.io", "StorageClass"), plain)[:5] == (
        "slow",
        "example.com/slow",
        "Delete",
        "Immediate",
        False,
    )
    driver = obj(
        "csi.example.com",
        spec={
            "attachRequired": True,
            "podInfoOnMount": False,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
            "tokenRequests": [{"audience": "vault"}],
        },
    )
    assert cells(("storage.k8s.io", "CSIDriver"), driver) == (
        "csi.example.com",
        True,
        False,
        False,
        "vault",
        False,
        "Persistent,Ephemeral",
        "60m",
    )
    node = obj("n1", spec={"drivers": [{"name": "a"}, {"name": "b"}]})
    assert cells(("storage.k8s.io", "CSINode"), node) == ("n1", 2, "60m")
    attachment = obj(
        "va",
        spec={
            "attacher": "csi.example.com",
            "nodeName": "n1",
            "source": {"persistentVolumeName": "pv1"},
        },
        status={"attached": True},
    )
    assert cells(("storage.k8s.io", "VolumeAttachment"), attachment) == (
        "va",
        "csi.example.com",
        "pv1",
        "n1",
        True,
        "60m",
    )
    pc = obj("high", value=1000, globalDefault=True, preemptionPolicy="Never")
    assert cells(("scheduling.k8s.io", "PriorityClass"), pc) == ("high", 1000, True, "60m", "Never")
