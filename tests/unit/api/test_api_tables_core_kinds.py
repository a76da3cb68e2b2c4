"""Columns and cells of Endpoints, EndpointSlice, ReplicationController, PodTemplate, PV, PVC,
ResourceQuota and LimitRange, as Kubernetes' printers.go prints them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeward.api.tables import KindKey, printer_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
CREATED = (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(name: str = "x", **fields: Any) -> dict[str, Any]:
    metadata = {"name": name, "creationTimestamp": CREATED, **fields.pop("metadata", {})}
    return {"metadata": metadata, **fields}


def cells(kind_key: KindKey, item: dict[str, Any]) -> tuple[Any, ...]:
    return printer_for(kind_key).print_row(item, NOW).cells


COLUMNS: dict[KindKey, list[tuple[str, str, int]]] = {
    ("", "Endpoints"): [("Name", "string", 0), ("Endpoints", "string", 0), ("Age", "string", 0)],
    ("discovery.k8s.io", "EndpointSlice"): [
        ("Name", "string", 0),
        ("AddressType", "string", 0),
        ("Ports", "string", 0),
        ("Endpoints", "string", 0),
        ("Age", "string", 0),
    ],
    ("", "ReplicationController"): [
        ("Name", "string", 0),
        ("Desired", "integer", 0),
        ("Current", "integer", 0),
        ("Ready", "integer", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ],
    ("", "PodTemplate"): [
        ("Name", "string", 0),
        ("Containers", "string", 0),
        ("Images", "string", 0),
        ("Pod Labels", "string", 0),
    ],
    ("", "PersistentVolume"): [
        ("Name", "string", 0),
        ("Capacity", "string", 0),
        ("Access Modes", "string", 0),
        ("Reclaim Policy", "string", 0),
        ("Status", "string", 0),
        ("Claim", "string", 0),
        ("StorageClass", "string", 0),
        ("VolumeAttributesClass", "string", 0),
        ("Reason", "string", 0),
        ("Age", "string", 0),
        ("VolumeMode", "string", 1),
    ],
    ("", "PersistentVolumeClaim"): [
        ("Name", "string", 0),
        ("Status", "string", 0),
        ("Volume", "string", 0),
        ("Capacity", "string", 0),
        ("Access Modes", "string", 0),
        ("StorageClass", "string", 0),
        ("VolumeAttributesClass", "string", 0),
        ("Age", "string", 0),
        ("VolumeMode", "string", 1),
    ],
    ("", "ResourceQuota"): [
        ("Name", "string", 0),
        ("Age", "string", 0),
        ("Request", "string", 0),
        ("Limit", "string", 0),
    ],
    ("", "LimitRange"): [("Name", "string", 0), ("Created At", "date", 0)],
}


@pytest.mark.parametrize("kind_key", list(COLUMNS), ids=lambda k: k[1])
def test_columns(kind_key):
    columns = [(c.name, c.type, c.priority) for c in printer_for(kind_key).columns]
    assert columns == COLUMNS[kind_key]


def addresses(n: int) -> list[dict[str, str]]:
    return [{"ip": f"192.0.2.{i}"} for i in range(1, n + 1)]


CELLS = [
    ("endpoints-none", ("", "Endpoints"), obj(), ("x", "<none>", "5h")),
    (
        "endpoints-ports",
        ("", "Endpoints"),
        obj(subsets=[{"addresses": addresses(2), "ports": [{"port": 80}]}]),
        ("x", "192.0.2.1:80,192.0.2.2:80", "5h"),
    ),
    (
        "endpoints-more",
        ("", "Endpoints"),
        obj(subsets=[{"addresses": addresses(5), "ports": [{"port": 80}]}]),
        ("x", "192.0.2.1:80,192.0.2.2:80,192.0.2.3:80 + 2 more...", "5h"),
    ),
    (
        "endpoints-no-ports",
        ("", "Endpoints"),
        obj(subsets=[{"addresses": addresses(1)}]),
        ("x", "192.0.2.1", "5h"),
    ),
    (
        "slice",
        ("discovery.k8s.io", "EndpointSlice"),
        obj(
            addressType="IPv4",
            ports=[{"port": 80}, {"name": "metrics"}],
            endpoints=[{"addresses": ["10.1.0.1"]}, {"addresses": ["10.1.0.2"]}],
        ),
        ("x", "IPv4", "80,metrics", "10.1.0.1,10.1.0.2", "5h"),
    ),
    (
        "slice-empty",
        ("discovery.k8s.io", "EndpointSlice"),
        obj(addressType="IPv4"),
        ("x", "IPv4", "<unset>", "<unset>", "5h"),
    ),
    (
        "rc",
        ("", "ReplicationController"),
        obj(
            spec={
                "replicas": 3,
                "selector": {"app": "web"},
                "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}},
            },
            status={"replicas": 2, "readyReplicas": 1},
        ),
        ("x", 3, 2, 1, "5h", "c", "nginx", "app=web"),
    ),
    (
        "pod-template",
        ("", "PodTemplate"),
        obj(
            template={
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            }
        ),
        ("x", "c", "nginx", "a=b"),
    ),
    (
        "pv-bound",
        ("", "PersistentVolume"),
        obj(
            spec={
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "claimRef": {"namespace": "default", "name": "data"},
                "storageClassName": "fast",
                "volumeMode": "Filesystem",
            },
            status={"phase": "Bound"},
        ),
        (
            "x",
            "1Gi",
            "RWO,RWX",
            "Retain",
            "Bound",
            "default/data",
            "fast",
            "<unset>",
            "",
            "5h",
            "Filesystem",
        ),
    ),
    (
        "pv-terminating",
        ("", "PersistentVolume"),
        obj(metadata={"deletionTimestamp": CREATED}, spec={}, status={"phase": "Bound"}),
        ("x", "", "", "", "Terminating", "", "", "<unset>", "", "5h", "<unset>"),
    ),
    (
        "pvc-pending",
        ("", "PersistentVolumeClaim"),
        obj(spec={"accessModes": ["ReadWriteOnce"]}, status={"phase": "Pending"}),
        ("x", "Pending", "", "", "", "", "<unset>", "5h", "<unset>"),
    ),
    (
        "pvc-bound",
        ("", "PersistentVolumeClaim"),
        obj(
            spec={"volumeName": "pv1", "volumeMode": "Block", "storageClassName": "fast"},
            status={
                "phase": "Bound",
                "accessModes": ["ReadOnlyMany"],
                "capacity": {"storage": "5Gi"},
            },
        ),
        ("x", "Bound", "pv1", "5Gi", "ROX", "fast", "<unset>", "5h", "Block"),
    ),
    (
        "quota",
        ("", "ResourceQuota"),
        obj(
            spec={"hard": {"pods": "10", "limits.cpu": "4", "requests.memory": "1Gi"}},
            status={"hard": {"pods": "10", "limits.cpu": "4"}, "used": {"pods": "3"}},
        ),
        ("x", "5h", "pods: 3/10, requests.memory: 0/0", "limits.cpu: 0/4"),
    ),
]


@pytest.mark.parametrize(
    ("kind_key", "item", "expected"), [c[1:] for c in CELLS], ids=[c[0] for c in CELLS]
)
def test_cells(kind_key, item, expected):
    assert cells(kind_key, item) == expected
