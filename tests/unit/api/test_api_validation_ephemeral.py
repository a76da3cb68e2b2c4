"""``pods/ephemeralcontainers``: only additions of well-formed ephemeral containers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import PODS
from kubeward.api.validation.core import validate_ephemeral_containers_update

POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "containers": [{"name": "app", "image": "nginx"}],
        "ephemeralContainers": [{"name": "first", "image": "busybox"}],
    },
}


def with_ephemeral(*containers: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(POD)
    pod["spec"]["ephemeralContainers"] = list(containers)
    return pod


FIRST = {"name": "first", "image": "busybox"}


@pytest.mark.parametrize(
    ("new", "message", "path"),
    [
        (
            with_ephemeral(),
            'Forbidden: existing ephemeral containers "first" may not be removed',
            "spec.ephemeralContainers",
        ),
        (
            with_ephemeral({"name": "first", "image": "alpine"}),
            'Forbidden: existing ephemeral containers "first" may not be changed',
            "spec.ephemeralContainers[0]",
        ),
        (
            with_ephemeral(FIRST, {"name": "app", "image": "busybox"}),
            'Duplicate value: "app"',
            "spec.ephemeralContainers[1].name",
        ),
        (
            with_ephemeral(FIRST, {"name": "dbg"}),
            "Required value",
            "spec.ephemeralContainers[1].image",
        ),
        (
            with_ephemeral(FIRST, {"name": "dbg", "image": "b", "targetContainerName": "nope"}),
            'Not found: "nope"',
            "spec.ephemeralContainers[1].targetContainerName",
        ),
        (
            with_ephemeral(FIRST, {"name": "dbg", "image": "b", "ports": [{"containerPort": 80}]}),
            "Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[1].ports",
        ),
    ],
    ids=["removed", "changed", "name-taken", "no-image", "unknown-target", "ports"],
)
def test_refusals(new: dict[str, Any], message: str, path: str) -> None:
    causes = validate_ephemeral_containers_update(new, POD)
    assert [(c.message, c.field) for c in causes] == [(message, path)]


def test_an_addition_is_accepted() -> None:
    new = with_ephemeral(FIRST, {"name": "dbg", "image": "busybox", "targetContainerName": "app"})
    assert validate_ephemeral_containers_update(new, POD) == []


def test_only_ephemeral_containers_change_through_the_subresource() -> None:
    _, strategies = build_scheme()
    strategy = strategies[PODS]
    new = with_ephemeral(FIRST, {"name": "dbg", "image": "busybox"})
    new["spec"]["containers"][0]["image"] = "evil"
    new["metadata"]["labels"] = {"x": "y"}
    merged = strategy.prepare_for_subresource_update(new, POD, "ephemeralcontainers")
    assert merged["spec"]["containers"] == POD["spec"]["containers"]
    assert "labels" not in merged["metadata"]
    assert [c["name"] for c in merged["spec"]["ephemeralContainers"]] == ["first", "dbg"]


def test_a_pod_is_created_without_ephemeral_containers() -> None:
    _, strategies = build_scheme()
    causes = strategies[PODS].validate_create(copy.deepcopy(POD))
    assert [(c.message, c.field) for c in causes] == [
        ("Forbidden: cannot be set on create", "spec.ephemeralContainers")
    ]
