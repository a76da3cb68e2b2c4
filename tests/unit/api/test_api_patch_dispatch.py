"""``apply_patch``: choosing the patch format from the Content-Type, and what each kind accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubeward.api.patch import (
    BUILTIN_PATCH_TYPES,
    CUSTOM_PATCH_TYPES,
    apply_patch,
    patch_types,
    supports_strategic_merge,
)
from kubeward.api.patch.strategies import root_type
from kubeward.errors import BadRequest, Invalid, UnsupportedMediaType

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"a": "1"}},
    "spec": {"containers": [{"name": "c", "image": "x:1"}, {"name": "d", "image": "y:1"}]},
}
WIDGET: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w"},
    "spec": {"items": [{"name": "a"}]},
}
CONTAINER_PATCH = json.dumps({"spec": {"containers": [{"name": "c", "image": "x:2"}]}}).encode()


def pod_patch(content_type: str, body: bytes = CONTAINER_PATCH) -> dict[str, Any]:
    return apply_patch(POD, body, content_type, merge_root=root_type("", "v1", "Pod"))


@pytest.mark.parametrize(
    ("content_type", "images"),
    [
        ("application/strategic-merge-patch+json", ["x:2", "y:1"]),
        ("application/strategic-merge-patch+json; charset=utf-8", ["x:2", "y:1"]),
        ("application/merge-patch+json", ["x:2"]),
    ],
    ids=["strategic", "strategic-with-charset", "merge-replaces-the-list"],
)
def test_content_type_selects_the_format(content_type: str, images: list[str]) -> None:
    result = pod_patch(content_type)
    assert [c["image"] for c in result["spec"]["containers"]] == images


def test_json_patch_content_type() -> None:
    body = b'[{"op": "replace", "path": "/spec/containers/1/image", "value": "y:2"}]'
    result = pod_patch("application/json-patch+json", body)
    assert [c["image"] for c in result["spec"]["containers"]] == ["x:1", "y:2"]


def test_custom_resources_take_json_and_merge_patches() -> None:
    merged = apply_patch(
        WIDGET,
        b'{"spec": {"items": [{"name": "b"}]}}',
        "application/merge-patch+json",
        merge_root=root_type("example.com", "v1", "Widget"),
    )
    assert merged["spec"] == {"items": [{"name": "b"}]}


def test_strategic_merge_patch_is_refused_for_custom_resources() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        apply_patch(
            WIDGET,
            b"{}",
            "application/strategic-merge-patch+json",
            merge_root=root_type("example.com", "v1", "Widget"),
        )
    assert caught.value.code == 415
    assert caught.value.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/yaml", "", "Application/Merge-Patch+JSON", "text/plain"],
)
def test_unknown_patch_types_are_415_listing_what_is_accepted(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        pod_patch(content_type)
    assert caught.value.message.endswith(
        "accepted media types include: application/json-patch+json, "
        "application/merge-patch+json, application/strategic-merge-patch+json, "
        "application/apply-patch+yaml"
    )


def test_server_side_apply_is_not_this_modules_job() -> None:
    with pytest.raises(ValueError, match="field manager"):
        pod_patch("application/apply-patch+yaml")


def test_a_result_that_is_not_an_object_is_422() -> None:
    body = b'[{"op": "replace", "path": "", "value": [1, 2]}]'
    with pytest.raises(Invalid) as caught:
        pod_patch("application/json-patch+json", body)
    status = caught.value.to_status()
    assert status["code"] == 422
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: [1, 2]: must be a JSON object",
            "field": "patch",
        }
    ]


def test_malformed_bodies_are_400_for_every_format() -> None:
    for content_type in (
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ):
        with pytest.raises(BadRequest):
            pod_patch(content_type, b"{not json")


def test_stored_object_is_untouched() -> None:
    before = json.dumps(POD, sort_keys=True)
    for content_type in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
        pod_patch(content_type)
    assert json.dumps(POD, sort_keys=True) == before


@pytest.mark.parametrize(
    ("group", "version", "kind", "types"),
    [
        ("", "v1", "Pod", BUILTIN_PATCH_TYPES),
        ("", "v1", "ConfigMap", BUILTIN_PATCH_TYPES),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole", BUILTIN_PATCH_TYPES),
        ("certificates.k8s.io", "v1", "CertificateSigningRequest", BUILTIN_PATCH_TYPES),
        ("autoscaling", "v1", "Scale", BUILTIN_PATCH_TYPES),
        ("example.com", "v1", "Widget", CUSTOM_PATCH_TYPES),
    ],
)
def test_patch_types_per_kind(group: str, version: str, kind: str, types: tuple[str, ...]) -> None:
    assert patch_types(root_type(group, version, kind)) == types
    assert supports_strategic_merge(root_type(group, version, kind)) == (
        types == BUILTIN_PATCH_TYPES
    )


def test_nesting_too_deep_to_merge_is_400() -> None:
    depth = 900
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    obj = {"metadata": {"name": "w"}, "spec": deep}
    body = ('{"spec": ' + '{"a": ' * depth + "1" + "}" * depth + "}").encode()
    with pytest.raises(BadRequest, match="nested too deeply"):
        apply_patch(
            obj,
            body,
            "application/merge-patch+json",
            merge_root=root_type("example.com", "v1", "W"),
        )
