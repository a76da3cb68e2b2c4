"""Controller names and --controllers, expectations, pod ranking and the rollout arithmetic."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from workload_fakes import RecordingClient

from kubeward.api.resources.apps import REPLICA_SETS
from kubeward.api.resources.core import PODS
from kubeward.controllers import deployment_util as u
from kubeward.controllers import podstate
from kubeward.controllers.events import EventRecorder
from kubeward.controllers.expectations import Expectations
from kubeward.controllers.names import (
    DEPLOYMENT,
    GARBAGE_COLLECTOR,
    REPLICASET,
    ControllerSelection,
)
from kubeward.errors import InputError

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("flags", "enabled"),
    [
        (["*"], {DEPLOYMENT, REPLICASET, GARBAGE_COLLECTOR}),
        (["*,-deployment"], {REPLICASET, GARBAGE_COLLECTOR}),
        (["replicaset"], {REPLICASET}),
        (["-replicaset-controller", "*"], {DEPLOYMENT, GARBAGE_COLLECTOR}),
        (["replicaset", "-replicaset"], {REPLICASET}),  # the first entry naming it decides
        ([], {DEPLOYMENT, REPLICASET, GARBAGE_COLLECTOR}),
    ],
    ids=["star", "star-minus-alias", "only-one", "minus-canonical", "first-wins", "default"],
)
def test_controllers_flag(flags: list[str], enabled: set[str]) -> None:
    selection = ControllerSelection.parse(flags)
    found = {n for n in (DEPLOYMENT, REPLICASET, GARBAGE_COLLECTOR) if selection.enabled(n)}
    assert found == enabled


@pytest.mark.parametrize("flag", ["bogus", "-bogus", "*,statefulsetx"])
def test_unknown_controllers_are_refused_as_upstream_words_it(flag: str) -> None:
    with pytest.raises(InputError, match=r"is not in the list of known controllers"):
        ControllerSelection.parse([flag])


def test_expectations_wait_for_creations_and_deletions() -> None:
    e = Expectations()
    assert e.satisfied("k")
    e.expect_creations("k", 2)
    e.creation_observed("k")
    assert not e.satisfied("k")
    e.creation_observed("k")
    assert e.satisfied("k")
    e.expect_deletions("k", ["ns/a"])
    assert not e.satisfied("k")
    e.deletion_observed("k", "ns/a")
    assert e.satisfied("k")


def pod(name: str, **kw: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": kw.get("phase", "Running")}
    if "ready_since" in kw:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": kw["ready_since"]}
        ]
    if "restarts" in kw:
        status["containerStatuses"] = [{"restartCount": kw["restarts"]}]
    return {
        "metadata": {"name": name, "creationTimestamp": kw.get("created", "2026-01-01T00:00:00Z")},
        "spec": {"nodeName": kw["node"]} if "node" in kw else {},
        "status": status,
    }


def test_deletion_order_follows_active_pods_with_ranks() -> None:
    pods = [
        pod("old-ready", node="n1", ready_since="2026-01-01T10:00:00Z"),
        pod("new-ready", node="n2", ready_since="2026-01-01T11:59:00Z"),
        pod("restarting", node="n3", ready_since="2026-01-01T10:00:00Z", restarts=4),
        pod("not-ready", node="n4"),
        pod("pending", node="n5", phase="Pending"),
        pod("unscheduled", phase="Running"),
    ]
    order = [p["metadata"]["name"] for p in podstate.deletion_order(pods, NOW)]
    assert order == ["unscheduled", "pending", "not-ready", "new-ready", "restarting", "old-ready"]


def test_availability_waits_min_ready_seconds() -> None:
    p = pod("a", ready_since="2026-01-01T11:59:50Z")
    assert podstate.is_available(p, 0, NOW)
    assert not podstate.is_available(p, 30, NOW)
    assert podstate.seconds_until_available(p, 30, NOW) == 20.0


def deployment(replicas: int = 10, surge: Any = "25%", unavailable: Any = "25%") -> dict[str, Any]:
    return {
        "metadata": {"generation": 3},
        "spec": {
            "replicas": replicas,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
        },
    }


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable down
        (3, "25%", "25%", (1, 0)),
        (4, 0, 0, (0, 1)),  # both zero: one may be unavailable
        (5, 2, "50%", (2, 2)),
    ],
)
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]) -> None:
    assert u.fenceposts(deployment(replicas, surge, unavailable)) == expected


def test_template_hash_is_stable_and_moves_with_the_collision_count() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}
    first = u.template_hash(template, None)
    assert first == u.template_hash(dict(reversed(list(template.items()))), None)
    assert first != u.template_hash(template, 1)
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_templates_compare_without_the_hash_label() -> None:
    a = {"metadata": {"labels": {"app": "web", u.HASH_LABEL: "abc"}}, "spec": {}}
    b = {"metadata": {"labels": {"app": "web"}}, "spec": {}}
    assert u.equal_ignore_hash(a, b)
    assert not u.equal_ignore_hash(a, {"metadata": {"labels": {"app": "x"}}, "spec": {}})


def test_complete_needs_every_replica_updated_available_and_observed() -> None:
    d = deployment(2)
    done = {"updatedReplicas": 2, "replicas": 2, "availableReplicas": 2, "observedGeneration": 3}
    assert u.is_complete(d, done)
    assert not u.is_complete(d, {**done, "replicas": 3})
    assert not u.is_complete(d, {**done, "observedGeneration": 2})


def test_available_condition_follows_max_unavailable() -> None:
    d = deployment(4)  # maxUnavailable 1
    rs = [{"status": {"replicas": 4, "availableReplicas": 3, "readyReplicas": 3}, "spec": {}}]
    cond = u.condition(u.calculate_status(d, rs, rs[0]), u.AVAILABLE)
    assert cond is not None and (cond["status"], cond["reason"]) == ("True", u.MIN_AVAILABLE)
    rs[0]["status"]["availableReplicas"] = 2
    cond = u.condition(u.calculate_status(d, rs, rs[0]), u.AVAILABLE)
    assert cond is not None and (cond["status"], cond["reason"]) == ("False", u.MIN_UNAVAILABLE)


def test_events_about_one_object_are_limited_to_a_burst_of_25() -> None:
    client = RecordingClient()

    async def scenario() -> None:
        recorder = EventRecorder(client.as_client(), "replicaset-controller")
        for i in range(40):
            recorder.event(
                {"metadata": {"name": "a", "uid": "u1"}}, REPLICA_SETS, "Normal", "R", f"{i}"
            )
        recorder.event({"metadata": {"name": "b", "uid": "u2"}}, REPLICA_SETS, "Normal", "R", "b")
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert [e["message"] for e in client.events if e["involvedObject"]["uid"] == "u1"] == [
        str(i) for i in range(25)
    ]
    assert [e["message"] for e in client.events if e["involvedObject"]["uid"] == "u2"] == ["b"]


def test_a_repeated_event_is_counted_on_the_first_and_a_kubelet_names_its_host() -> None:
    client = RecordingClient()
    pod = {"metadata": {"name": "web", "namespace": "default", "uid": "u1"}}

    async def scenario() -> None:
        recorder = EventRecorder(client.as_client(), "kubelet", host="node-1")
        for _ in range(3):
            recorder.event(pod, PODS, "Warning", "Unhealthy", "probe failed", field_path="c")
        recorder.event(pod, PODS, "Warning", "Unhealthy", "another message")
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert [e["message"] for e in client.events] == ["probe failed", "another message"]
    first = client.events[0]
    assert first["source"] == {"component": "kubelet", "host": "node-1"}
    assert first["reportingInstance"] == "node-1"
    assert first["involvedObject"]["fieldPath"] == "c"
    assert "fieldPath" not in client.events[1]["involvedObject"]
    counts = [
        c[2]["count"] for c in client.of("patch") if c[1] == f"events/{first['metadata']['name']}"
    ]
    assert counts == [2, 3]


def test_the_set_controllers_have_kube_controller_managers_names_and_accounts() -> None:
    from kubeward.controllers.names import BY_NAME, DAEMONSET, STATEFULSET

    selection = ControllerSelection.parse(["*,-daemonset"])
    assert selection.enabled(STATEFULSET)
    assert not selection.enabled(DAEMONSET)
    assert ControllerSelection.parse(["statefulset-controller"]).enabled(STATEFULSET)
    assert BY_NAME[STATEFULSET].service_account == "statefulset-controller"
    assert BY_NAME[DAEMONSET].service_account == "daemon-set-controller"
