"""storage.k8s.io/v1 kinds: defaults and validation as upstream's (pkg/apis/storage/validation)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.validation import storage


def _class(**fields: Any) -> dict[str, Any]:
    obj = {"metadata": {"name": "fast"}, "provisioner": "kubernetes.io/aws-ebs", **fields}
    storage.default_storage_class(obj)
    return obj


def test_storage_class_defaults() -> None:
    obj = _class()
    assert obj["reclaimPolicy"] == "Delete"
    assert obj["volumeBindingMode"] == "Immediate"
    assert storage.validate_storage_class(obj) == []


STORAGE_CLASS_CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("no provisioner", {"provisioner": ""}, [("provisioner", "Required value")]),
    (
        "bad provisioner",
        {"provisioner": "-bad-"},
        [
            (
                "provisioner",
                'Invalid value: "-bad-": name part must consist of alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            )
        ],
    ),
    (
        "reclaim policy",
        {"reclaimPolicy": "Recycle"},
        [("reclaimPolicy", 'Unsupported value: "Recycle": supported values: "Delete", "Retain"')],
    ),
    (
        "binding mode",
        {"volumeBindingMode": "Later"},
        [
            (
                "volumeBindingMode",
                'Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
            )
        ],
    ),
    (
        "empty parameter key",
        {"parameters": {"": "x"}},
        [("parameters", 'Invalid value: "": field can not be empty.')],
    ),
]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [c[1:] for c in STORAGE_CLASS_CASES],
    ids=[c[0] for c in STORAGE_CLASS_CASES],
)
def test_storage_class_validation(fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    causes = storage.validate_storage_class(_class(**fields))
    assert [(c.field, c.message) for c in causes] == expected


def test_storage_class_update() -> None:
    old = _class(parameters={"type": "gp2"})
    new = {
        **old,
        "parameters": {"type": "io1"},
        "provisioner": "other.io/x",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert [(c.field, c.message) for c in storage.validate_storage_class_update(new, old)] == [
        ("parameters", "Forbidden: updates to parameters are forbidden."),
        ("provisioner", "Forbidden: updates to provisioner are forbidden."),
        ("reclaimPolicy", "Forbidden: updates to reclaimPolicy are forbidden."),
        ("volumeBindingMode", 'Invalid value: "WaitForFirstConsumer": field is immutable'),
    ]
    assert storage.validate_storage_class_update({**old, "allowVolumeExpansion": True}, old) == []


def test_csi_driver() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "csi.example.com"}}
    storage.default_csi_driver(obj)
    assert obj["spec"] == {
        "attachRequired": True,
        "podInfoOnMount": False,
        "storageCapacity": False,
        "requiresRepublish": False,
        "fsGroupPolicy": "ReadWriteOnceWithFSType",
        "volumeLifecycleModes": ["Persistent"],
    }
    assert storage.validate_csi_driver(obj) == []
    obj["spec"]["fsGroupPolicy"] = "Always"
    assert [c.field for c in storage.validate_csi_driver(obj)] == ["spec.fsGroupPolicy"]
    new = {"spec": {**obj["spec"], "attachRequired": False}}
    assert [c.field for c in storage.validate_csi_driver_update(new, obj)] == [
        "spec.attachRequired"
    ]


def test_csi_node_and_volume_attachment() -> None:
    node = {"spec": {"drivers": [{"name": "d", "nodeID": "n1"}, {"name": "d"}]}}
    assert [(c.field, c.message) for c in storage.validate_csi_node(node)] == [
        ("spec.drivers[1].name", 'Duplicate value: "d"'),
        ("spec.drivers[1].nodeID", "Required value"),
    ]
    attachment = {
        "spec": {
            "attacher": "csi.example.com",
            "nodeName": "n1",
            "source": {"persistentVolumeName": "pv1"},
        }
    }
    assert storage.validate_volume_attachment(attachment) == []
    assert [c.field for c in storage.validate_volume_attachment({"spec": {}})] == [
        "spec.attacher",
        "spec.nodeName",
        "spec.source",
    ]
    moved = {"spec": {**attachment["spec"], "nodeName": "n2"}}
    assert [c.field for c in storage.validate_volume_attachment_update(moved, attachment)] == [
        "spec"
    ]
