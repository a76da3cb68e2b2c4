"""The disruption controller: a PodDisruptionBudget's status from its pods and their
controllers' scale, and the fail-safe status when it cannot be computed."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from workload_fakes import RecordingClient, seeded

from kubeward.api import meta as m
from kubeward.api.resources.apps import DEPLOYMENTS, REPLICA_SETS
from kubeward.api.resources.apps_sets import STATEFULSETS
from kubeward.api.resources.core import PODS
from kubeward.api.resources.policy import PODDISRUPTIONBUDGETS
from kubeward.controllers.disruption import (
    STALE_POD_PREFIX,
    DisruptionController,
    ScaleFinder,
    calculate_status,
    expected_counts,
    fail_safe_status,
    pods_of,
    scaled_value,
    stale_disruption_wait,
)
from kubeward.controllers.informer import Informer
from kubeward.errors import DisruptionSyncFailed

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def owner(kind: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": True,
    }


def workload(kind: str, name: str, replicas: int, parent: dict[str, Any] | None = None) -> Any:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": f"uid-{name}"}
    if parent is not None:
        meta["ownerReferences"] = [parent]
    return {"kind": kind, "metadata": meta, "spec": {"replicas": replicas}}


def pod(
    name: str,
    *,
    ready: bool = True,
    ref: dict[str, Any] | None = None,
    deleting: bool = False,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "labels": labels or {"app": "web"}}
    if ref is not None:
        meta["ownerReferences"] = [ref]
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    return {
        "metadata": meta,
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def budget(status: dict[str, Any] | None = None, generation: int = 3, **spec: Any) -> Any:
    return {
        "metadata": {"name": "pdb", "namespace": "ns", "uid": "uid-pdb", "generation": generation},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
        "status": status or {},
    }


async def finder_for(*objects: dict[str, Any]) -> ScaleFinder:
    kinds = {"ReplicaSet": REPLICA_SETS, "Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS}
    informers: dict[str, Informer] = {}
    for kind, rt in kinds.items():
        informers[kind] = await seeded(rt, [o for o in objects if o["kind"] == kind])
    return ScaleFinder(informers)


RS_REF = owner("ReplicaSet", "web-1")
DEPLOYMENT = workload("Deployment", "web", 4)
RS = workload("ReplicaSet", "web-1", 3, owner("Deployment", "web"))


@pytest.mark.parametrize(
    ("spec", "pods", "expected"),
    [
        ({"minAvailable": 2}, [pod("a"), pod("b", ref=RS_REF)], (2, 2, [])),
        ({"minAvailable": "50%"}, [pod("a", ref=RS_REF)], (4, 2, [])),
        ({"maxUnavailable": 1}, [pod("a", ref=RS_REF), pod("b", ref=RS_REF)], (4, 3, [])),
        ({"maxUnavailable": "30%"}, [pod("a", ref=RS_REF)], (4, 2, [])),
        ({"maxUnavailable": 9}, [pod("a", ref=RS_REF)], (4, 0, [])),
        ({"maxUnavailable": 1}, [pod("a", ref=RS_REF), pod("lone")], (4, 3, ["lone"])),
        ({}, [pod("a")], (0, 0, [])),
    ],
    ids=[
        "int-min-counts-pods",
        "percent-min-uses-deployment-scale",
        "max-unavailable",
        "percent-max-rounds-up",
        "never-below-zero",
        "unmanaged-pods-left-out",
        "neither",
    ],
)
def test_expected_and_desired_pods(spec: Any, pods: list[Any], expected: Any) -> None:
    async def go() -> Any:
        return await expected_counts(budget(**spec), pods, await finder_for(DEPLOYMENT, RS))

    assert asyncio.run(go()) == expected


def test_a_statefulset_and_a_bare_replicaset_count_their_own_scale() -> None:
    pods = [
        pod("a", ref=owner("StatefulSet", "db")),
        pod("b", ref=owner("ReplicaSet", "solo")),
        pod("c", ref=owner("ReplicaSet", "solo")),
    ]

    async def go() -> Any:
        finder = await finder_for(
            workload("StatefulSet", "db", 3), workload("ReplicaSet", "solo", 2)
        )
        return await expected_counts(budget(maxUnavailable=0), pods, finder)

    assert asyncio.run(go()) == (5, 5, [])


def test_an_unknown_controller_fails_the_sync() -> None:
    async def go() -> Any:
        finder = await finder_for()
        return await expected_counts(budget(maxUnavailable=1), [pod("a", ref=RS_REF)], finder)

    with pytest.raises(DisruptionSyncFailed, match='found no controllers for pod "a"'):
        asyncio.run(go())


def test_scaled_values() -> None:
    assert (scaled_value(3, 10), scaled_value("25%", 10), scaled_value("0%", 10)) == (3, 3, 0)
    with pytest.raises(DisruptionSyncFailed):
        scaled_value("half", 10)


def test_selectors_match_as_upstream() -> None:
    pods = [pod("a"), pod("b", labels={"app": "db"})]
    assert [m.name_of(p) for p in pods_of(budget(), pods)] == ["a"]
    everything = budget()
    everything["spec"]["selector"] = {}
    assert len(pods_of(everything, pods)) == 2
    nothing = budget()
    del nothing["spec"]["selector"]
    assert pods_of(nothing, pods) == []


def test_status_counts_healthy_pods_and_sets_the_condition() -> None:
    pods = [pod("a"), pod("b"), pod("c", ready=False), pod("d", deleting=True), pod("e")]
    recent = m.format_time(NOW - datetime.timedelta(seconds=30))
    stale = m.format_time(NOW - datetime.timedelta(minutes=5))
    old = budget({"disruptedPods": {"e": recent, "b": stale, "gone": recent}}, minAvailable=1)

    async def go() -> Any:
        return await calculate_status(old, pods, await finder_for(), NOW)

    status, recheck, unmanaged = asyncio.run(go())
    (condition,) = status.pop("conditions")
    assert status == {
        "observedGeneration": 3,
        "disruptionsAllowed": 1,
        "currentHealthy": 2,
        "desiredHealthy": 1,
        "expectedPods": 5,
        "disruptedPods": {"e": recent},
    }
    assert recheck == pytest.approx(90.0)
    assert unmanaged == []
    assert {k: condition[k] for k in ("type", "status", "reason", "message")} == {
        "type": "DisruptionAllowed",
        "status": "True",
        "reason": "SufficientPods",
        "message": "",
    }
    assert condition["observedGeneration"] == 3


def test_the_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    since = "2025-12-01T00:00:00Z"
    held = {
        "conditions": [
            {"type": "DisruptionAllowed", "status": "False", "lastTransitionTime": since}
        ]
    }

    async def go(pods: list[Any]) -> Any:
        status, _, _ = await calculate_status(
            budget(held, minAvailable=2), pods, await finder_for(), NOW
        )
        return status

    insufficient = asyncio.run(go([pod("a")]))
    assert insufficient["disruptionsAllowed"] == 0
    assert insufficient["conditions"][0]["lastTransitionTime"] == since
    assert insufficient["conditions"][0]["reason"] == "InsufficientPods"
    sufficient = asyncio.run(go([pod("a"), pod("b"), pod("c")]))
    assert sufficient["conditions"][0]["lastTransitionTime"] != since


def test_fail_safe_allows_nothing_and_says_why() -> None:
    status = fail_safe_status(budget({"disruptionsAllowed": 2, "observedGeneration": 2}), "boom")
    assert status["disruptionsAllowed"] == 0
    (condition,) = status["conditions"]
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        "SyncFailed",
        "boom",
    )


async def controller_for(
    budgets: list[Any], pods: list[Any], client: RecordingClient
) -> DisruptionController:
    workloads = {
        "ReplicaSet": await seeded(REPLICA_SETS, []),
        "Deployment": await seeded(DEPLOYMENTS, []),
    }
    return DisruptionController(
        await seeded(PODDISRUPTIONBUDGETS, budgets),
        await seeded(PODS, pods),
        workloads,
        client.as_client(),
    )


def test_reconcile_writes_status_once_and_fail_safe_on_error() -> None:
    async def go() -> tuple[RecordingClient, RecordingClient, RecordingClient]:
        client = RecordingClient()
        controller = await controller_for([budget(minAvailable=1)], [pod("a"), pod("b")], client)
        await controller.reconcile("ns/pdb")
        written = client.of("update/status")[0][2]
        quiet = RecordingClient()
        settled = await controller_for([written], [pod("a"), pod("b")], quiet)
        await settled.reconcile("ns/pdb")
        failing = RecordingClient()
        broken = await controller_for([budget(maxUnavailable=1)], [pod("a", ref=RS_REF)], failing)
        with pytest.raises(DisruptionSyncFailed):
            await broken.reconcile("ns/pdb")
        return client, quiet, failing

    client, quiet, failing = asyncio.run(go())
    assert quiet.calls == []  # an unchanged status is not written again
    ((_, resource, body),) = client.of("update/status")
    assert resource == "poddisruptionbudgets"
    assert body["status"]["disruptionsAllowed"] == 1
    ((_, _, failed),) = failing.of("update/status")
    assert failed["status"]["conditions"][0]["reason"] == "SyncFailed"
    assert [e["reason"] for e in failing.events] == ["CalculateExpectedPodCountFailed"]


def targeted(since: datetime.datetime, **changes: Any) -> dict[str, Any]:
    the_pod = pod("a")
    condition = {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "EvictionByEvictionAPI",
        "lastTransitionTime": m.format_time(since),
    }
    condition.update(changes.pop("condition", {}))
    the_pod["status"]["conditions"].append(condition)
    the_pod["status"].update(changes)
    return the_pod


@pytest.mark.parametrize(
    ("the_pod", "wait"),
    [
        (pod("a"), None),
        (targeted(NOW - datetime.timedelta(seconds=30)), 90.0),
        (targeted(NOW - datetime.timedelta(minutes=3)), 0.0),
        (targeted(NOW, condition={"reason": "TerminationByKubelet"}), None),
        (targeted(NOW, phase="Failed"), None),
        (targeted(NOW, condition={"status": "False"}), None),
    ],
    ids=["no-condition", "recent", "stale", "set-by-kubelet", "ended", "already-false"],
)
def test_when_a_disruption_target_condition_is_stale(the_pod: Any, wait: float | None) -> None:
    assert stale_disruption_wait(the_pod, NOW) == (
        pytest.approx(wait) if wait is not None else None
    )


def test_a_stale_disruption_target_condition_is_reset() -> None:
    stale = targeted(m.now() - datetime.timedelta(minutes=5))

    async def go() -> RecordingClient:
        client = RecordingClient()
        controller = await controller_for([], [stale], client)
        assert await controller.reconcile(STALE_POD_PREFIX + "ns/a") is None
        return client

    ((verb, resource, body),) = asyncio.run(go()).calls
    assert (verb, resource) == ("update/status", "pods")
    condition = body["status"]["conditions"][-1]
    assert (condition["type"], condition["status"]) == ("DisruptionTarget", "False")
    assert "reason" not in condition
