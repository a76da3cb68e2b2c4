"""The scale subresource's view of a workload and its checks on a new Scale."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.resources import build_scheme
from kubeward.api.scheme import ScalePaths
from kubeward.errors import BadRequest, Invalid
from kubeward.server.endpoints.scale import _check_scale, _conform, scale_of, selector_string

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "uid": "u-1",
        "resourceVersion": "7",
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "labels": {"app": "web"},
        "generation": 2,
    },
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
    "status": {"replicas": 2},
}


def test_scale_of_a_deployment() -> None:
    assert scale_of(DEPLOYMENT, ScalePaths()) == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u-1",
            "resourceVersion": "7",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"replicas": 3},
        "status": {"replicas": 2, "selector": "app=web"},
    }


def test_missing_counts_are_zero_and_custom_paths_are_read() -> None:
    obj = {"metadata": {"name": "c"}, "spec": {"size": 4}, "status": {"sel": "a=b"}}
    paths = ScalePaths("spec.size", "status.count", "status.sel")
    scale = scale_of(obj, paths)
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 0, "selector": "a=b"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"tier": "fe", "app": "web"}}, "app=web,tier=fe"),
        (
            {
                "matchLabels": {"z": "1"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "gone", "operator": "DoesNotExist"},
                ],
            },
            "env in (dev,prod),!gone,z=1",
        ),
        ({}, ""),
        ("already=string", "already=string"),
    ],
    ids=["labels-sorted", "expressions", "empty", "string"],
)
def test_selector_string(selector: Any, expected: str) -> None:
    assert selector_string(selector) == expected


@pytest.mark.parametrize(
    ("scale", "error", "message"),
    [
        (
            {"spec": {"replicas": -1}},
            Invalid,
            'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
            "must be greater than or equal to 0",
        ),
        (
            {"spec": {"replicas": "3"}},
            Invalid,
            'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: "3": '
            "must be an integer",
        ),
        (
            {"kind": "Deployment", "spec": {"replicas": 1}},
            BadRequest,
            "the kind in the data (Deployment) does not match the expected kind (Scale)",
        ),
        (
            {"metadata": {"name": "other"}, "spec": {"replicas": 1}},
            BadRequest,
            "the name of the object (other) does not match the name on the URL (web)",
        ),
    ],
    ids=["negative", "not-integer", "wrong-kind", "wrong-name"],
)
def test_check_scale_refuses(scale: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        _check_scale(scale, "web")
    assert str(caught.value) == message


def test_check_scale_accepts() -> None:
    assert _check_scale({"apiVersion": "autoscaling/v1", "spec": {"replicas": 0}}, "web") == 0
    assert _check_scale({}, "web") == 0


def test_deployments_declare_their_scale_paths() -> None:
    scheme, _ = build_scheme()
    deployments = scheme.lookup("apps", "v1", "deployments")
    assert deployments is not None
    sub = deployments.subresource("scale")
    assert sub is not None and sub.scale == ScalePaths()
    assert (sub.group, sub.version, sub.kind) == ("autoscaling", "v1", "Scale")


@pytest.mark.parametrize(
    ("scale", "patching", "error"),
    [
        ({"metadata": [{"a": 1}], "spec": {"replicas": 2}}, False, BadRequest),
        ({"metadata": [1]}, True, Invalid),
        ({"spec": "three"}, False, BadRequest),
    ],
    ids=["metadata-list", "metadata-list-patched", "spec-string"],
)
def test_a_scale_of_the_wrong_types_is_refused_before_use(
    scale: Any, patching: bool, error: type[Exception]
) -> None:
    """Found by the fuzzer: a list where metadata belongs was a 500."""
    with pytest.raises(error):
        _conform(scale, patching=patching)
