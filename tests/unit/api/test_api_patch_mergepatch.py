"""JSON merge patch (RFC 7386), including the RFC's appendix A examples."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubeward.api.patch.mergepatch import apply_merge_patch, merge
from kubeward.errors import BadRequest

# RFC 7386 appendix A: (target, patch, result).
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(
    ("target", "patch", "result"), RFC_EXAMPLES, ids=[f"A.{i + 1}" for i in range(15)]
)
def test_rfc_7386_examples(target: Any, patch: Any, result: Any) -> None:
    assert merge(copy.deepcopy(target), patch) == result


OBJECT = {
    "metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}},
    "data": {"k": "v"},
}

APPLIED = [
    (
        "kubectl-label",
        {"metadata": {"labels": {"c": "3"}}},
        {
            "metadata": {
                "name": "cm",
                "labels": {"a": "1", "b": "2", "c": "3"},
                "annotations": {"x": "y"},
            }
        },
    ),
    (
        "kubectl-label-remove",
        {"metadata": {"labels": {"a": None}}},
        {"metadata": {"name": "cm", "labels": {"b": "2"}, "annotations": {"x": "y"}}},
    ),
    (
        "kubectl-annotate-overwrite",
        {"metadata": {"annotations": {"x": "z"}}},
        {"metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}, "annotations": {"x": "z"}}},
    ),
    (
        "null-for-missing-key-is-nothing",
        {"metadata": {"labels": {"nope": None}}},
        {},
    ),
    (
        "whole-section-removed",
        {"data": None},
        None,
    ),
]


@pytest.mark.parametrize(
    ("patch", "changes"), [(p, c) for _, p, c in APPLIED], ids=[a[0] for a in APPLIED]
)
def test_object_patches(patch: dict[str, Any], changes: dict[str, Any] | None) -> None:
    result = apply_merge_patch(OBJECT, json.dumps(patch).encode())
    if changes is None:
        assert result == {"metadata": OBJECT["metadata"]}
    else:
        assert result == {**OBJECT, **changes}


def test_input_is_not_mutated() -> None:
    original = copy.deepcopy(OBJECT)
    result = apply_merge_patch(OBJECT, b'{"metadata": {"labels": {"a": null, "n": "1"}}}')
    assert original == OBJECT
    result["data"]["k"] = "changed"
    assert OBJECT["data"]["k"] == "v"


BAD = [
    ("not-json", b"{", "error decoding patch"),
    ("null", b"null", "Invalid JSON Patch"),
    ("array", b"[]", "must be a JSON object, not an array"),
    ("string", b'"x"', "not a string"),
    ("number", b"5", "not a number"),
    ("boolean", b"true", "not a boolean"),
]


@pytest.mark.parametrize(("body", "message"), [(b, m) for _, b, m in BAD], ids=[b[0] for b in BAD])
def test_non_object_patch_is_bad_request(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_merge_patch(OBJECT, body)
    assert message in caught.value.message
