"""The horizontal pod autoscaler against a fake API (scale, metrics, status and events) and
seeded informers, with its clock moved by hand."""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any, cast

import pytest
from workload_fakes import seeded

from kubeward.api import meta as m
from kubeward.api.resources.autoscaling import HORIZONTAL_POD_AUTOSCALERS
from kubeward.api.resources.core import PODS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.clock import FakeClock
from kubeward.controllers.podautoscaler import HorizontalController
from kubeward.errors import NotFound

T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
STARTED = T0 - datetime.timedelta(minutes=10)
SCALE_PATH = "/apis/apps/v1/namespaces/ns/deployments/web/scale"
METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods"
APPS_V1 = {
    "resources": [
        {"name": "deployments", "kind": "Deployment", "namespaced": True},
        {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
    ]
}


class FakeAPI:
    """The few calls the autoscaler makes, answered from fields the test sets."""

    path = staticmethod(APIClient.path)

    def __init__(self, replicas: int, usage: dict[str, str]) -> None:
        self.replicas = replicas
        self.usage = usage  # pod name -> CPU usage
        self.scale_missing = False
        self.scaled: list[int] = []
        self.statuses: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def as_client(self) -> APIClient:
        return cast(APIClient, self)

    async def request(self, method: str, path: str, **options: Any) -> Any:
        if path == "/apis/apps/v1":
            return APPS_V1
        if path == SCALE_PATH and self.scale_missing:
            raise NotFound('deployments.apps "web" not found')
        if path == SCALE_PATH and method == "GET":
            return {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"replicas": self.replicas},
                "status": {"replicas": self.replicas, "selector": "app=web"},
            }
        if path == SCALE_PATH and method == "PUT":
            self.replicas = options["body"]["spec"]["replicas"]
            self.scaled.append(self.replicas)
            return options["body"]
        if path == METRICS_PATH:
            return {
                "items": [
                    {
                        "metadata": {"name": name, "namespace": "ns"},
                        "timestamp": m.format_time(T0),
                        "window": "10s",
                        "containers": [{"name": "app", "usage": {"cpu": cpu, "memory": "8Mi"}}],
                    }
                    for name, cpu in self.usage.items()
                ]
            }
        raise AssertionError(f"unexpected {method} {path}")

    async def update(
        self, rt: ResourceType, obj: dict[str, Any], *, namespace: str = "", subresource: str = ""
    ) -> Any:
        assert (rt.resource, subresource) == ("horizontalpodautoscalers", "status")
        self.statuses.append(copy.deepcopy(obj["status"]))
        return obj

    async def create(self, rt: ResourceType, obj: dict[str, Any], namespace: str = "") -> Any:
        assert rt.resource == "events"
        self.events.append(obj)
        return obj


def hpa(behavior: dict[str, Any] | None = None, minimum: int = 1) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": minimum,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50},
                },
            }
        ],
    }
    if behavior is not None:
        spec["behavior"] = behavior
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "ns", "uid": "hpa-uid", "generation": 1},
        "spec": spec,
        "status": {"desiredReplicas": 0},
    }


def pod(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "100m"}}}]},
        "status": {
            "phase": "Running",
            "startTime": m.format_time(STARTED),
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": m.format_time(STARTED)}
            ],
        },
    }


def controller(api: FakeAPI, autoscaler: dict[str, Any], pods: list[str], clock: FakeClock) -> Any:
    async def build() -> HorizontalController:
        return HorizontalController(
            await seeded(HORIZONTAL_POD_AUTOSCALERS, [autoscaler]),
            await seeded(PODS, [pod(p) for p in pods]),
            api.as_client(),
            clock=clock,
        )

    return asyncio.run(build())


def reconcile(c: HorizontalController) -> float | None:
    """One pass; the status it wrote reaches the cache, as the watch would bring it."""

    async def once() -> float | None:
        again = await c.reconcile("ns/web")
        await asyncio.sleep(0)  # the recorded events' background writes
        return again

    again = asyncio.run(once())
    api = cast(FakeAPI, c.client)
    if api.statuses:
        cached = c.informer.cache["ns/web"]
        c.informer.cache["ns/web"] = {**cached, "status": copy.deepcopy(api.statuses[-1])}
    return again


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def test_a_busy_target_is_scaled_up_with_upstreams_status_and_event() -> None:
    api = FakeAPI(2, {"web-a": "300m", "web-b": "200m"})
    c = controller(api, hpa(), ["web-a", "web-b"], FakeClock(T0))
    assert reconcile(c) == 15.0
    # 500m used of 200m requested: 250% against 50% is ceil(5 × 2) = 10, held to 2 × 2 = 4.
    assert api.scaled == [4]
    (status,) = api.statuses
    assert status["currentReplicas"] == 2
    assert status["desiredReplicas"] == 4
    assert status["lastScaleTime"] == m.format_time(T0)
    assert status["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {"averageUtilization": 250, "averageValue": "250m"},
            },
        }
    ]
    assert conditions(status) == {
        "AbleToScale": (
            "True",
            "SucceededRescale",
            "the HPA controller was able to update the target scale to 4",
        ),
        "ScalingActive": (
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from cpu resource"
            " utilization (percentage of request)",
        ),
        "ScalingLimited": (
            "True",
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        ),
    }
    (event,) = api.events
    assert (event["type"], event["reason"], event["message"]) == (
        "Normal",
        "SuccessfulRescale",
        "New size: 4; reason: cpu resource utilization (percentage of request) above target",
    )
    assert event["source"] == {"component": "horizontal-pod-autoscaler"}


def test_an_idle_target_scales_down_only_after_the_stabilization_window() -> None:
    api = FakeAPI(4, dict.fromkeys(["a", "b", "c", "d"], "10m"))
    clock = FakeClock(T0)
    c = controller(api, hpa(), ["a", "b", "c", "d"], clock)
    reconcile(c)
    assert api.scaled == []
    assert conditions(api.statuses[-1])["AbleToScale"][1] == "ScaleDownStabilized"
    assert api.statuses[-1]["desiredReplicas"] == 4
    clock.set(T0 + datetime.timedelta(minutes=5, seconds=1))
    reconcile(c)
    assert api.scaled == [1]
    assert api.events[-1]["message"] == "New size: 1; reason: All metrics below target"
    # 10% of the request against 50%: ceil(0.2 × 4) = 1, which is minReplicas itself.
    assert conditions(api.statuses[-1])["ScalingLimited"][1] == "DesiredWithinRange"


def test_behavior_with_no_scale_down_window_scales_down_at_once() -> None:
    api = FakeAPI(4, dict.fromkeys(["a", "b", "c", "d"], "10m"))
    c = controller(
        api, hpa({"scaleDown": {"stabilizationWindowSeconds": 0}}), list("abcd"), FakeClock(T0)
    )
    reconcile(c)
    assert api.scaled == [1]


def test_no_metrics_sets_scaling_active_false_and_scales_nothing() -> None:
    api = FakeAPI(2, {})
    c = controller(api, hpa(), ["web-a", "web-b"], FakeClock(T0))
    reconcile(c)
    assert api.scaled == []
    (status,) = api.statuses
    inner = (
        "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics"
        " returned from resource metrics API"
    )
    assert conditions(status)["ScalingActive"] == (
        "False",
        "FailedGetResourceMetric",
        f"the HPA was unable to compute the replica count: {inner}",
    )
    assert status["currentMetrics"] == [{"type": ""}]
    assert [(e["reason"], e["message"]) for e in api.events] == [
        ("FailedGetResourceMetric", inner),
        (
            "FailedComputeMetricsReplicas",
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource"
            f" metric value: {inner}",
        ),
    ]


def test_a_missing_target_is_failed_get_scale() -> None:
    api = FakeAPI(2, {})
    api.scale_missing = True
    c = controller(api, hpa(), [], FakeClock(T0))
    reconcile(c)
    (status,) = api.statuses
    assert conditions(status)["AbleToScale"] == (
        "False",
        "FailedGetScale",
        "the HPA controller was unable to get the target's current scale:"
        ' deployments.apps "web" not found',
    )
    assert api.events[0]["reason"] == "FailedGetScale"


@pytest.mark.parametrize(
    ("replicas", "minimum", "expected", "reason"),
    [
        (12, 1, 10, "Current number of replicas above Spec.MaxReplicas"),
        (1, 3, 3, "Current number of replicas below Spec.MinReplicas"),
    ],
    ids=["above max", "below min"],
)
def test_out_of_bounds_targets_are_brought_within_without_metrics(
    replicas: int, minimum: int, expected: int, reason: str
) -> None:
    api = FakeAPI(replicas, {})
    c = controller(api, hpa(minimum=minimum), [], FakeClock(T0))
    reconcile(c)
    assert api.scaled == [expected]
    assert api.events[0]["message"] == f"New size: {expected}; reason: {reason}"


def test_a_target_at_zero_is_not_autoscaled() -> None:
    api = FakeAPI(0, {})
    c = controller(api, hpa(), [], FakeClock(T0))
    reconcile(c)
    assert api.scaled == []
    assert conditions(api.statuses[0])["ScalingActive"] == (
        "False",
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )


def test_an_unchanged_status_is_not_written_again() -> None:
    api = FakeAPI(2, {"web-a": "50m", "web-b": "50m"})  # exactly the 50% target
    c = controller(api, hpa(), ["web-a", "web-b"], FakeClock(T0))
    reconcile(c)
    reconcile(c)
    assert len(api.statuses) == 1
    assert api.scaled == []


def test_status_writes_do_not_requeue_but_spec_changes_do() -> None:
    async def scenario() -> list[int]:
        api = FakeAPI(2, {})
        c = HorizontalController(
            await seeded(HORIZONTAL_POD_AUTOSCALERS, []),
            await seeded(PODS, []),
            api.as_client(),
        )
        lengths = []
        c._enqueue("ns/web", hpa())  # a new HPA
        lengths.append(len(c.queue))
        await c.queue.get()
        c.queue.done("ns/web")
        c._enqueue("ns/web", hpa())  # its own status write: same generation
        lengths.append(len(c.queue))
        changed = hpa()
        changed["metadata"]["generation"] = 2
        c._enqueue("ns/web", changed)  # a spec change
        lengths.append(len(c.queue))
        return lengths

    assert asyncio.run(scenario()) == [1, 0, 1]


def test_a_moved_fake_clock_brings_every_autoscaler_back_at_once() -> None:
    async def scenario() -> int:
        api = FakeAPI(2, {"web-a": "50m", "web-b": "50m"})
        clock = FakeClock(T0)
        c = HorizontalController(
            await seeded(HORIZONTAL_POD_AUTOSCALERS, [hpa()]),
            await seeded(PODS, [pod("web-a"), pod("web-b")]),
            api.as_client(),
            clock=clock,
        )
        task = asyncio.create_task(c.run())
        for _ in range(50):  # the workers start once the informers have synced
            await asyncio.sleep(0.01)
        before = len(api.statuses)
        clock.step(15)
        for _ in range(100):
            if len(api.statuses) > before:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        return len(api.statuses) - before

    assert asyncio.run(scenario()) == 1


def test_two_autoscalers_over_the_same_pods_are_ambiguous() -> None:
    async def scenario() -> FakeAPI:
        api = FakeAPI(2, {"web-a": "50m", "web-b": "50m"})
        second = hpa()
        second["metadata"] = {**second["metadata"], "name": "web2", "uid": "hpa2-uid"}
        c = HorizontalController(
            await seeded(HORIZONTAL_POD_AUTOSCALERS, [hpa(), second]),
            await seeded(PODS, [pod("web-a"), pod("web-b")]),
            api.as_client(),
            clock=FakeClock(T0),
        )
        await c.reconcile("ns/web")
        await c.reconcile("ns/web2")
        await asyncio.sleep(0)
        return api

    api = asyncio.run(scenario())
    message = "pods by selector app=web are controlled by multiple HPAs: [ns/web ns/web2]"
    assert conditions(api.statuses[-1])["ScalingActive"] == ("False", "AmbiguousSelector", message)
    assert [(e["reason"], e["message"]) for e in api.events] == [
        ("AmbiguousSelector", message),
        ("FailedComputeMetricsReplicas", message),
    ]
