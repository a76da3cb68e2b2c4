"""JSON Patch (RFC 6902) as Kubernetes applies it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubeward.api.patch.jsonpatch import MAX_OPERATIONS, apply_json_patch
from kubeward.errors import BadRequest, Invalid, JSONPatchError, RequestEntityTooLarge

DOC: dict[str, Any] = {
    "metadata": {"name": "cm", "labels": {"a": "1"}},
    "data": {"x": "1", "list": [1, 2, 3], "flag": True, "none": None},
}


def _patch(*operations: dict[str, Any]) -> bytes:
    return json.dumps(list(operations)).encode()


APPLIED = [
    (
        "add-member",
        _patch({"op": "add", "path": "/data/y", "value": "2"}),
        {"data": {"x": "1", "list": [1, 2, 3], "flag": True, "none": None, "y": "2"}},
    ),
    (
        "add-replaces-existing-member",
        _patch({"op": "add", "path": "/data/x", "value": {"deep": [1]}}),
        {"data": {"x": {"deep": [1]}, "list": [1, 2, 3], "flag": True, "none": None}},
    ),
    (
        "add-array-insert",
        _patch({"op": "add", "path": "/data/list/1", "value": 9}),
        {"data": {"x": "1", "list": [1, 9, 2, 3], "flag": True, "none": None}},
    ),
    (
        "add-array-append-dash",
        _patch({"op": "add", "path": "/data/list/-", "value": 4}),
        {"data": {"x": "1", "list": [1, 2, 3, 4], "flag": True, "none": None}},
    ),
    (
        "add-array-at-length",
        _patch({"op": "add", "path": "/data/list/3", "value": 4}),
        {"data": {"x": "1", "list": [1, 2, 3, 4], "flag": True, "none": None}},
    ),
    (
        "add-array-negative-index",
        _patch({"op": "add", "path": "/data/list/-1", "value": 4}),
        {"data": {"x": "1", "list": [1, 2, 3, 4], "flag": True, "none": None}},
    ),
    (
        "remove-member",
        _patch({"op": "remove", "path": "/metadata/labels/a"}),
        {"metadata": {"name": "cm", "labels": {}}},
    ),
    (
        "remove-array-item",
        _patch({"op": "remove", "path": "/data/list/0"}),
        {"data": {"x": "1", "list": [2, 3], "flag": True, "none": None}},
    ),
    (
        "remove-last-array-item-negative",
        _patch({"op": "remove", "path": "/data/list/-1"}),
        {"data": {"x": "1", "list": [1, 2], "flag": True, "none": None}},
    ),
    (
        "replace-member",
        _patch({"op": "replace", "path": "/metadata/name", "value": "other"}),
        {"metadata": {"name": "other", "labels": {"a": "1"}}},
    ),
    (
        "replace-array-item",
        _patch({"op": "replace", "path": "/data/list/2", "value": "three"}),
        {"data": {"x": "1", "list": [1, 2, "three"], "flag": True, "none": None}},
    ),
    (
        "move",
        _patch({"op": "move", "from": "/data/x", "path": "/metadata/labels/x"}),
        {
            "metadata": {"name": "cm", "labels": {"a": "1", "x": "1"}},
            "data": {"list": [1, 2, 3], "flag": True, "none": None},
        },
    ),
    (
        "move-within-array",
        _patch({"op": "move", "from": "/data/list/0", "path": "/data/list/-"}),
        {"data": {"x": "1", "list": [2, 3, 1], "flag": True, "none": None}},
    ),
    (
        "copy",
        _patch({"op": "copy", "from": "/metadata/labels", "path": "/data/labels"}),
        {
            "data": {
                "x": "1",
                "list": [1, 2, 3],
                "flag": True,
                "none": None,
                "labels": {"a": "1"},
            }
        },
    ),
    (
        "escaped-pointer",
        _patch({"op": "add", "path": "/metadata/labels/a~1b~0c", "value": "v"}),
        {"metadata": {"name": "cm", "labels": {"a": "1", "a/b~c": "v"}}},
    ),
    (
        "tests-that-hold",
        _patch(
            {"op": "test", "path": "/data/x", "value": "1"},
            {"op": "test", "path": "/data/list", "value": [1, 2, 3.0]},
            {"op": "test", "path": "/data/flag", "value": True},
            {"op": "test", "path": "/data/none", "value": None},
            {"op": "test", "path": "/data/missing", "value": None},
            {"op": "test", "path": "/metadata", "value": {"labels": {"a": "1"}, "name": "cm"}},
        ),
        {},
    ),
    (
        "replace-whole-document",
        _patch({"op": "replace", "path": "", "value": {"kind": "Other"}}),
        None,
    ),
]


@pytest.mark.parametrize(
    ("patch", "changes"), [(p, c) for _, p, c in APPLIED], ids=[a[0] for a in APPLIED]
)
def test_operations_apply(patch: bytes, changes: dict[str, Any] | None) -> None:
    result = apply_json_patch(DOC, patch)
    if changes is None:
        assert result == {"kind": "Other"}
    else:
        assert result == {**copy.deepcopy(DOC), **changes}


def test_operations_apply_in_order() -> None:
    patch = _patch(
        {"op": "add", "path": "/data/y", "value": "2"},
        {"op": "test", "path": "/data/y", "value": "2"},
        {"op": "move", "from": "/data/y", "path": "/data/z"},
        {"op": "remove", "path": "/data/z"},
    )
    assert apply_json_patch(DOC, patch) == DOC


def test_input_is_not_mutated_and_values_are_not_shared() -> None:
    original = copy.deepcopy(DOC)
    result = apply_json_patch(DOC, _patch({"op": "copy", "from": "/data/list", "path": "/copy"}))
    result["copy"].append(99)
    assert original == DOC
    assert result["data"]["list"] == [1, 2, 3]


FAILING = [
    ("test-value-differs", {"op": "test", "path": "/data/x", "value": "2"}, "testing value"),
    ("test-bool-is-not-number", {"op": "test", "path": "/data/flag", "value": 1}, "testing"),
    ("test-missing-non-null", {"op": "test", "path": "/data/nope", "value": "x"}, "testing"),
    ("remove-missing", {"op": "remove", "path": "/data/nope"}, "nonexistent key: nope"),
    ("replace-missing", {"op": "replace", "path": "/data/nope", "value": 1}, "missing key"),
    ("add-missing-parent", {"op": "add", "path": "/nope/x", "value": 1}, "missing path"),
    ("add-index-past-end", {"op": "add", "path": "/data/list/4", "value": 1}, "invalid index"),
    ("remove-index-past-end", {"op": "remove", "path": "/data/list/3"}, "invalid index"),
    ("negative-index-too-far", {"op": "remove", "path": "/data/list/-4"}, "invalid index"),
    ("index-not-a-number", {"op": "add", "path": "/data/list/one", "value": 1}, "array index"),
    ("path-into-scalar", {"op": "add", "path": "/data/x/y", "value": 1}, "missing path"),
    ("path-not-a-pointer", {"op": "add", "path": "data/x", "value": 1}, "JSON pointer"),
    ("missing-path", {"op": "add", "value": 1}, "missing path field"),
    ("missing-value", {"op": "add", "path": "/data/y"}, "missing value field"),
    ("missing-from", {"op": "copy", "path": "/data/y"}, "missing from field"),
    ("unknown-op", {"op": "merge", "path": "/data"}, "Unexpected kind: merge"),
    ("missing-op", {"path": "/data"}, "Unexpected kind: unknown"),
    ("move-into-own-child", {"op": "move", "from": "/data", "path": "/data/x/y"}, "children"),
    ("remove-root", {"op": "remove", "path": ""}, "whole document"),
]


@pytest.mark.parametrize(
    ("operation", "reason"), [(o, r) for _, o, r in FAILING], ids=[f[0] for f in FAILING]
)
def test_failing_operation_is_kubernetes_422(operation: dict[str, Any], reason: str) -> None:
    patch = _patch({"op": "add", "path": "/data/first", "value": 1}, operation)
    with pytest.raises(Invalid) as caught:
        apply_json_patch(DOC, patch)
    status = caught.value.to_status()
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == "the server rejected our request due to an error in our request"
    assert status["details"] == {}
    cause = caught.value.__cause__
    assert isinstance(cause, JSONPatchError)
    assert reason in str(cause)
    assert str(cause).startswith("operation 1 ")


MALFORMED = [
    ("not-json", b"[{", "error decoding patch"),
    ("object-not-array", b'{"op": "add"}', "must be an array of operations"),
    ("operation-not-object", b'["add"]', "operation 0 is not an object"),
    ("op-not-string", b'[{"op": 1, "path": "/a"}]', '"op" must be a string'),
    ("path-not-string", b'[{"op": "add", "path": 5, "value": 1}]', '"path" must be a string'),
    ("from-not-string", b'[{"op": "copy", "from": [], "path": "/a"}]', '"from" must be'),
    ("nan-is-not-json", b'[{"op": "add", "path": "/a", "value": NaN}]', "error decoding patch"),
]


@pytest.mark.parametrize(
    ("body", "message"), [(b, m) for _, b, m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_patch_is_bad_request(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_json_patch(DOC, body)
    assert message in caught.value.message


def test_too_many_operations_is_413() -> None:
    patch = _patch(*[{"op": "test", "path": "/data/x", "value": "1"}] * (MAX_OPERATIONS + 1))
    with pytest.raises(RequestEntityTooLarge) as caught:
        apply_json_patch(DOC, patch)
    assert caught.value.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )


def test_exactly_the_maximum_is_allowed() -> None:
    patch = _patch(*[{"op": "test", "path": "/data/x", "value": "1"}] * MAX_OPERATIONS)
    assert apply_json_patch(DOC, patch) == DOC
