"""apps/v1 Deployment and ReplicaSet validation, cases from ``pkg/apis/apps/validation``."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.resources.apps import (
    DEPLOYMENTS,
    REPLICA_SETS,
    DeploymentStrategy,
    ReplicaSetStrategy,
)

VALID: dict[str, Any] = {
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
    },
}


def changed(path: str, value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        target = target[part]
    if value is None:
        target.pop(last)
    else:
        target[last] = value
    return obj


CASES = [
    (
        "negative-replicas",
        changed("spec.replicas", -1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative-min-ready",
        changed("spec.minReadySeconds", -5),
        "spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0",
    ),
    ("no-selector", changed("spec.selector", None), "spec.selector: Required value"),
    (
        "empty-selector",
        changed("spec.selector", {"matchLabels": {}}),
        "empty selector is invalid for deployment",
    ),
    (
        "selector-mismatch",
        changed("spec.template.metadata", {"labels": {"app": "other"}}),
        "spec.template.metadata.labels: Invalid value: ",
    ),
    (
        "restart-never",
        changed(
            "spec.template.spec",
            {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
        ),
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ),
]


@pytest.mark.parametrize(
    ("strategy_type", "rt"),
    [(DeploymentStrategy, DEPLOYMENTS), (ReplicaSetStrategy, REPLICA_SETS)],
    ids=["deployment", "replicaset"],
)
@pytest.mark.parametrize(("obj", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_specs(strategy_type: Any, rt: Any, obj: dict[str, Any], message: str) -> None:
    strategy = strategy_type(rt)
    obj = copy.deepcopy(obj)
    strategy.default(obj)
    texts = [f"{c.field}: {c.message}" for c in strategy.validate(obj)]
    assert any(message in t for t in texts), texts


@pytest.mark.parametrize(
    ("strategy_type", "rt"), [(DeploymentStrategy, DEPLOYMENTS), (ReplicaSetStrategy, REPLICA_SETS)]
)
def test_valid_and_the_selector_is_immutable(strategy_type: Any, rt: Any) -> None:
    strategy = strategy_type(rt)
    obj = copy.deepcopy(VALID)
    strategy.default(obj)
    assert strategy.validate(obj) == []
    other = copy.deepcopy(obj)
    other["spec"]["selector"] = {"matchLabels": {"app": "web", "x": "y"}}
    [cause] = strategy.validate_update(other, obj)
    assert (cause.field, "field is immutable" in cause.message) == ("spec.selector", True)
