"""autoscaling/v1 HorizontalPodAutoscaler as a view of the stored v2 one (api.autoscaling_v1),
and one object through both stores."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kubeward.api.autoscaling_v1 import (
    BEHAVIOR_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    METRICS_ANNOTATION,
    to_v1,
    to_v2,
)
from kubeward.api.registry.store import Store
from kubeward.api.resources.autoscaling import (
    HORIZONTAL_POD_AUTOSCALERS,
    HORIZONTAL_POD_AUTOSCALERS_V1,
    HorizontalPodAutoscalerStrategy,
    HorizontalPodAutoscalerV1Strategy,
)
from kubeward.storage.memory import MemoryBackend

REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
CPU_50 = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}
PODS = {
    "type": "Pods",
    "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
}


def _v1(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 5, **spec},
    }


def test_cpu_target_is_the_cpu_metric() -> None:
    v2 = to_v2(_v1(targetCPUUtilizationPercentage=50))
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [CPU_50]
    assert to_v1(v2) == _v1(targetCPUUtilizationPercentage=50)


def test_no_cpu_target_means_the_default() -> None:
    v2 = to_v2(_v1())
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    assert to_v1(v2)["spec"]["targetCPUUtilizationPercentage"] == 80


def test_what_v1_cannot_hold_rides_in_annotations_and_comes_back() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    current = [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 30}}}
    ]
    v2 = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {"team": "a"}},
        "spec": {
            "scaleTargetRef": REF,
            "maxReplicas": 5,
            "metrics": [CPU_50, PODS],
            "behavior": behavior,
        },
        "status": {
            "currentReplicas": 2,
            "desiredReplicas": 3,
            "currentMetrics": current,
            "conditions": [{"type": "AbleToScale", "status": "True"}],
        },
    }
    v1 = to_v1(v2)
    annotations = v1["metadata"]["annotations"]
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert json.loads(annotations[METRICS_ANNOTATION]) == [PODS]
    assert json.loads(annotations[BEHAVIOR_ANNOTATION]) == behavior
    assert json.loads(annotations[CURRENT_METRICS_ANNOTATION]) == current
    assert v1["status"] == {
        "currentReplicas": 2,
        "desiredReplicas": 3,
        "currentCPUUtilizationPercentage": 30,
    }
    assert to_v2(v1) == v2


def test_one_object_through_both_versions() -> None:
    async def scenario() -> None:
        backend = MemoryBackend()
        await backend.start()
        v2_store = Store(
            HORIZONTAL_POD_AUTOSCALERS,
            HorizontalPodAutoscalerStrategy(HORIZONTAL_POD_AUTOSCALERS),
            backend,
        )
        v1_store = Store(
            HORIZONTAL_POD_AUTOSCALERS_V1,
            HorizontalPodAutoscalerV1Strategy(HORIZONTAL_POD_AUTOSCALERS_V1),
            backend,
        )
        created = await v1_store.create("default", _v1(targetCPUUtilizationPercentage=60))
        assert created["status"] == {"currentReplicas": 0, "desiredReplicas": 0}
        seen = await v2_store.get("default", "web")
        assert seen["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60

        def add_pods_metric(obj: dict[str, Any]) -> dict[str, Any]:
            obj["spec"]["metrics"].append(PODS)
            return obj

        await v2_store.guaranteed_update("default", "web", add_pods_metric)
        read_v1 = await v1_store.get("default", "web")
        assert read_v1["spec"]["targetCPUUtilizationPercentage"] == 60
        assert json.loads(read_v1["metadata"]["annotations"][METRICS_ANNOTATION]) == [PODS]

        def raise_target(obj: dict[str, Any]) -> dict[str, Any]:
            obj["spec"]["targetCPUUtilizationPercentage"] = 70
            return obj

        await v1_store.guaranteed_update("default", "web", raise_target)
        metrics = (await v2_store.get("default", "web"))["spec"]["metrics"]
        assert [m["type"] for m in metrics] == ["Resource", "Pods"]
        assert metrics[0]["resource"]["target"]["averageUtilization"] == 70
        assert "annotations" not in (await v2_store.get("default", "web"))["metadata"]
        await backend.close()

    asyncio.run(scenario())
