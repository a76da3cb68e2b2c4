"""autoscaling/v2 HorizontalPodAutoscaler: defaults and validation as upstream's."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.validation.autoscaling import default_hpa, validate_hpa


def _hpa(**spec: Any) -> dict[str, Any]:
    obj = {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            **spec,
        },
    }
    default_hpa(obj)
    return obj


def test_defaults() -> None:
    spec = _hpa()["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        }
    ]
    assert "behavior" not in spec
    behavior = _hpa(behavior={"scaleDown": {"stabilizationWindowSeconds": 60}})["spec"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 60
    assert behavior["scaleDown"]["policies"] == [
        {"type": "Percent", "value": 100, "periodSeconds": 15}
    ]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleUp"]["selectPolicy"] == "Max"
    assert validate_hpa(_hpa()) == []


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "min zero",
        {"minReplicas": 0},
        "spec.minReplicas",
        "Invalid value: 0: must be greater than or equal to 1",
    ),
    (
        "max zero",
        {"maxReplicas": 0},
        "spec.maxReplicas",
        "Invalid value: 0: must be greater than 0",
    ),
    (
        "max below min",
        {"minReplicas": 6},
        "spec.maxReplicas",
        "Invalid value: 5: must be greater than or equal to `minReplicas`",
    ),
    (
        "no target name",
        {"scaleTargetRef": {"kind": "Deployment"}},
        "spec.scaleTargetRef.name",
        "Required value",
    ),
    (
        "metric type",
        {"metrics": [{"type": "Magic"}]},
        "spec.metrics[0].type",
        'Unsupported value: "Magic": supported values: "ContainerResource", "External", "Object", '
        '"Pods", "Resource"',
    ),
    (
        "metric source missing",
        {"metrics": [{"type": "Pods"}]},
        "spec.metrics[0].pods",
        "Required value: must populate information for the given metric source",
    ),
    (
        "policy period",
        {
            "behavior": {
                "scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 4000}]}
            }
        },
        "spec.behavior.scaleUp.policies[0].periodSeconds",
        "Invalid value: 4000: must be less than or equal to 1800",
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hpa_validation(spec: dict[str, Any], path: str, message: str) -> None:
    causes = validate_hpa(_hpa(**spec))
    assert (path, message) in [(c.field, c.message) for c in causes], causes
