"""The Table body: metadata, column definitions, includeObject modes, watch headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from kubeward.api.tables import PRINTERS, build_table, include_object_policy
from kubeward.errors import BadRequest, NotAcceptable

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
POD_KEY = ("", "Pod")


def pod(name: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "41",
            "creationTimestamp": "2024-06-01T11:59:55Z",
            "labels": {"app": "web"},
            "annotations": {"note": "kept"},
        },
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": phase},
    }


def test_list_table_shape() -> None:
    table = build_table(
        POD_KEY,
        [pod("a"), pod("b", "Succeeded")],
        now=NOW,
        include_object="Metadata",
        resource_version="109",
        continue_token="eyJ2IjoibWV0YSJ9",
        remaining=3,
    )
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {
        "resourceVersion": "109",
        "continue": "eyJ2IjoibWV0YSJ9",
        "remainingItemCount": 3,
    }
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert table["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": table["columnDefinitions"][0]["description"],
        "priority": 0,
    }
    assert table["rows"][0]["cells"] == [
        "a",
        "0/1",
        "Running",
        "0",
        "5s",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]
    assert "conditions" not in table["rows"][0]
    assert table["rows"][1]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_metadata_leaves_out_what_is_unset() -> None:
    table = build_table(POD_KEY, [], now=NOW, include_object="Metadata", resource_version="")
    assert table["metadata"] == {}
    assert table["rows"] == []
    assert table["columnDefinitions"]


def test_remaining_item_count_zero_is_sent() -> None:
    table = build_table(
        POD_KEY, [], now=NOW, include_object="None", resource_version="7", remaining=0
    )
    assert table["metadata"] == {"resourceVersion": "7", "remainingItemCount": 0}


@pytest.mark.parametrize("include", ["Metadata", ""], ids=["metadata", "empty-means-metadata"])
def test_include_metadata_sends_partial_object_metadata(include: str) -> None:
    source = pod("a")
    row = build_table(POD_KEY, [source], now=NOW, include_object=include, resource_version="1")[
        "rows"
    ][0]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": source["metadata"],
    }


def test_include_object_sends_the_object() -> None:
    source = pod("a")
    row = build_table(POD_KEY, [source], now=NOW, include_object="Object", resource_version="1")[
        "rows"
    ][0]
    assert row["object"] == source


def test_include_none_sends_null_object() -> None:
    row = build_table(POD_KEY, [pod("a")], now=NOW, include_object="None", resource_version="1")[
        "rows"
    ][0]
    assert "object" in row
    assert row["object"] is None


def test_unknown_include_object_is_bad_request() -> None:
    with pytest.raises(BadRequest) as caught:
        build_table(POD_KEY, [pod("a")], now=NOW, include_object="metadata", resource_version="1")
    assert caught.value.to_status()["message"] == 'unrecognized includeObject value: "metadata"'
    assert caught.value.to_status()["code"] == 400


@pytest.mark.parametrize(
    ("value", "policy"),
    [("", "Metadata"), ("Metadata", "Metadata"), ("Object", "Object"), ("None", "None")],
    ids=["empty", "metadata", "object", "none"],
)
def test_include_object_policy(value: str, policy: str) -> None:
    assert include_object_policy(value) == policy


def test_v1beta1_table_and_partial_metadata() -> None:
    table = build_table(
        POD_KEY,
        [pod("a")],
        now=NOW,
        include_object="Metadata",
        resource_version="1",
        api_version="meta.k8s.io/v1beta1",
    )
    assert table["apiVersion"] == "meta.k8s.io/v1beta1"
    assert table["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"


def test_table_in_other_group_version_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable) as caught:
        build_table(
            POD_KEY,
            [pod("a")],
            now=NOW,
            include_object="Metadata",
            resource_version="1",
            api_version="meta.k8s.io/v2",
        )
    assert caught.value.message == "no Table exists in group version meta.k8s.io/v2"


def test_watch_event_after_the_first_has_null_column_definitions() -> None:
    first = build_table(
        POD_KEY, [pod("a")], now=NOW, include_object="Metadata", resource_version="41"
    )
    later = build_table(
        POD_KEY,
        [pod("a", "Succeeded")],
        now=NOW,
        include_object="Metadata",
        resource_version="42",
        with_headers=False,
    )
    assert len(first["columnDefinitions"]) == 9
    assert later["columnDefinitions"] is None
    assert len(later["rows"]) == 1
    assert later["rows"][0]["cells"][2] == "Succeeded"
    assert later["metadata"] == {"resourceVersion": "42"}


def test_unregistered_kind_uses_default_columns() -> None:
    role = {
        "kind": "Role",
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "pod-reader", "creationTimestamp": "2024-06-01T10:00:00Z"},
    }
    table = build_table(
        ("rbac.authorization.k8s.io", "Role"),
        [role],
        now=NOW,
        include_object="Metadata",
        resource_version="5",
    )
    assert [(c["name"], c["type"], c["format"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Created At", "date", ""),
    ]
    assert table["rows"][0]["cells"] == ["pod-reader", "2024-06-01T10:00:00Z"]


@pytest.mark.parametrize(
    "kind_key", sorted(PRINTERS), ids=lambda key: f"{key[0] or 'core'}/{key[1]}"
)
def test_every_table_is_json_and_round_trips(kind_key: tuple[str, str]) -> None:
    item = {
        "kind": kind_key[1],
        "metadata": {"name": "x", "creationTimestamp": "2024-06-01T11:00:00Z"},
    }
    table = build_table(
        kind_key, [item, {}], now=NOW, include_object="Object", resource_version="3"
    )
    encoded = orjson.dumps(table)
    assert json.loads(encoded) == table
    for row in table["rows"]:
        assert len(row["cells"]) == len(table["columnDefinitions"])
        # Go prints strings, integers and (CSIDriver, PriorityClass, StorageClass) booleans.
        assert all(type(cell) in (str, int, bool) for cell in row["cells"])
