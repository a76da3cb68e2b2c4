"""Probes on a fake clock: thresholds, gating, kills and restarts, each handler, log options."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeward.node.clock import FakeClock
from kubeward.node.logs import ContainerLog, LogOptions, rfc3339_nano
from kubeward.node.pod_status import pod_status
from kubeward.node.probe_handlers import HANDLERS
from kubeward.node.probes import (
    FAILURE,
    LIVENESS,
    READINESS,
    STARTUP,
    SUCCESS,
    PodProbes,
    ProbeEvent,
    ProbeSpec,
    ProbeWorker,
)
from kubeward.node.runtime import Sandbox, make_container
from kubeward.node.volumes import PodVolumes

IP = "10.244.1.5"
S, F = SUCCESS, FAILURE


@pytest.mark.parametrize(
    ("kind", "thresholds", "outcomes", "results", "hold"),
    [
        (READINESS, (1, 3), [S], [S], False),
        (READINESS, (2, 3), [S, S], [F, S], False),
        (READINESS, (2, 3), [S, F, S, S], [F, F, F, S], False),
        (READINESS, (1, 3), [S, F, F, F], [S, S, S, F], False),
        (READINESS, (1, 3), [S, F, F, S, F], [S, S, S, S, S], False),
        (LIVENESS, (1, 3), [F, F], [S, S], False),
        (LIVENESS, (1, 3), [F, F, F], [S, S, F], True),
        (LIVENESS, (1, 1), [F], [F], True),
        (STARTUP, (1, 2), [F, S], ["unknown", S], False),
        (STARTUP, (1, 2), [F, F], ["unknown", F], True),
    ],
)
def test_a_result_is_adopted_after_its_threshold_in_a_row(
    kind: str,
    thresholds: tuple[int, int],
    outcomes: list[str],
    results: list[str],
    hold: bool,
) -> None:
    spec = ProbeSpec(kind, {}, success_threshold=thresholds[0], failure_threshold=thresholds[1])
    worker = ProbeWorker(spec)
    worker.reset("id", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    seen = []
    for outcome in outcomes:
        worker.record(outcome)
        seen.append(worker.result)
    assert seen == results
    assert worker.on_hold is hold


def test_probe_fields_default_as_the_api_does() -> None:
    spec = ProbeSpec.of({"livenessProbe": {"exec": {"command": ["true"]}}}, LIVENESS)
    assert spec is not None
    assert (spec.period, spec.timeout, spec.success_threshold, spec.failure_threshold) == (
        10,
        1,
        1,
        3,
    )
    assert (spec.initial_delay, spec.grace) == (0, None)
    assert ProbeSpec.of({}, READINESS) is None


class Harness:
    """One pod on a fake clock: the agent's advance-then-probe loop, without the API."""

    def __init__(self, container: dict[str, Any], **pod_spec: Any) -> None:
        self.clock = FakeClock()
        self.pod: dict[str, Any] = {
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"containers": [{"name": "app", "image": "busybox", **container}], **pod_spec},
        }
        policy = pod_spec.get("restartPolicy", "Always")
        self.sandbox = Sandbox("ns", "p", "u", IP, PodVolumes(), policy)
        self.container = make_container(
            self.pod["spec"]["containers"][0], self.pod, IP, PodVolumes(), {}
        )
        self.sandbox.containers.append(self.container)
        self.probes = PodProbes(self.pod, HANDLERS)
        self.events: list[tuple[float, ProbeEvent]] = []
        self.start = self.clock()
        self.step(0)

    def step(self, seconds: float) -> None:
        """Move time on second by second, as the agent would wake for each due probe."""
        end = self.clock() + datetime.timedelta(seconds=seconds)
        while True:
            now = self.clock()
            self.sandbox.advance(now)
            for event in self.probes.tick(self.sandbox, now):
                self.events.append(((now - self.start).total_seconds(), event))
            self.sandbox.advance(now)
            if now >= end:
                return
            self.clock.step(1)

    def status(self) -> dict[str, Any]:
        return pod_status(self.pod, self.sandbox, "192.0.2.1", self.probes)

    def condition(self, kind: str) -> str:
        return next(c["status"] for c in self.status()["conditions"] if c["type"] == kind)

    def said(self) -> list[tuple[float, str, str]]:
        return [(at, e.reason, e.message) for at, e in self.events]


LIVENESS_EXAMPLE = {
    "command": ["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
    "livenessProbe": {
        "exec": {"command": ["cat", "/tmp/healthy"]},
        "initialDelaySeconds": 5,
        "periodSeconds": 5,
    },
}


def test_a_failed_liveness_probe_kills_and_restarts_the_container() -> None:
    pod = Harness(LIVENESS_EXAMPLE, terminationGracePeriodSeconds=3)
    pod.step(39)  # the file goes at 30 s: probes at 30 and 35 fail
    assert [(at, reason) for at, reason, _ in pod.said()] == [
        (30.0, "Unhealthy"),
        (35.0, "Unhealthy"),
    ]
    pod.step(1)
    missing = "cat: can't open '/tmp/healthy': No such file or directory\n"
    assert pod.said()[-2:] == [
        (40.0, "Unhealthy", f"Liveness probe failed: {missing}"),
        (40.0, "Killing", "Container app failed liveness probe, will be restarted"),
    ]
    assert pod.container.running  # SIGTERM is not handled: it runs out its grace period
    pod.step(3)
    status = pod.status()["containerStatuses"][0]
    assert status["restartCount"] == 1 and "running" in status["state"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "Error")
    assert terminated["containerID"] != status["containerID"]
    # The new instance is probed afresh: healthy again until its own file goes.
    pod.step(30)
    assert [r for _, r, _ in pod.said()].count("Killing") == 1


def test_a_probe_grace_period_overrides_the_pods() -> None:
    probe = {**LIVENESS_EXAMPLE["livenessProbe"], "terminationGracePeriodSeconds": 0}  # type: ignore[dict-item]
    pod = Harness({**LIVENESS_EXAMPLE, "livenessProbe": probe})
    pod.step(40)
    assert pod.container.kill_at == pod.clock() + datetime.timedelta(seconds=2)  # the minimum


def test_readiness_drives_ready_and_the_pod_conditions() -> None:
    pod = Harness(
        {
            "command": [
                "sh",
                "-c",
                "sleep 10; touch /tmp/ready; sleep 20; rm /tmp/ready; sleep 1d",
            ],
            "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2},
        }
    )
    assert pod.status()["containerStatuses"][0]["ready"] is False
    assert pod.condition("Ready") == pod.condition("ContainersReady") == "False"
    pod.step(10)
    assert pod.condition("Ready") == "True"
    assert pod.status()["containerStatuses"][0]["ready"] is True
    pod.step(25)
    assert pod.condition("Ready") == "False"  # three failures in a row
    assert pod.status()["containerStatuses"][0]["restartCount"] == 0  # readiness never kills
    assert all(r == "Unhealthy" for _, r, _ in pod.said())


@pytest.mark.parametrize(
    ("probe", "ready", "message"),
    [
        ({"httpGet": {"path": "/healthz", "port": 8080}}, True, ""),
        ({"httpGet": {"port": "web", "scheme": "HTTPS", "httpHeaders": []}}, True, ""),
        (
            {"httpGet": {"path": "/healthz", "port": 9999}},
            False,
            f'Readiness probe failed: Get "http://{IP}:9999/healthz": dial tcp {IP}:9999: '
            "connect: connection refused",
        ),
        ({"tcpSocket": {"port": 8080}}, True, ""),
        (
            {"tcpSocket": {"port": 81}},
            False,
            f"Readiness probe failed: dial tcp {IP}:81: connect: connection refused",
        ),
        ({"grpc": {"port": 8080}}, True, ""),
        (
            {"grpc": {"port": 9090}},
            False,
            f'Readiness probe failed: timeout: failed to connect service "{IP}:9090" within 1s: '
            "context deadline exceeded",
        ),
        (
            {"httpGet": {"port": "metrics"}},
            False,
            "Readiness probe errored and resulted in unknown state: "
            'strconv.Atoi: parsing "metrics": invalid syntax',
        ),
        ({"exec": {"command": ["sh", "-c", "sleep 1"]}, "timeoutSeconds": 2}, True, ""),
        (
            {"exec": {"command": ["sleep", "5"]}},
            False,
            'Readiness probe failed: command timed out: "sleep 5" timed out after 1s',
        ),
    ],
    ids=lambda v: repr(v)[:50],
)
def test_each_handler_against_the_pods_declared_ports(
    probe: dict[str, Any], ready: bool, message: str
) -> None:
    ports = [{"name": "web", "containerPort": 8080}]
    pod = Harness({"ports": ports, "readinessProbe": {**probe, "periodSeconds": 1}})
    pod.step(3)
    assert pod.status()["containerStatuses"][0]["ready"] is ready
    messages = {m for _, _, m in pod.said()}
    assert messages == ({message} if message else set())


def test_a_startup_probe_gates_the_others_then_stops() -> None:
    pod = Harness(
        {
            "command": ["sh", "-c", "sleep 6; touch /tmp/up; sleep 1d"],
            "startupProbe": {
                "exec": {"command": ["cat", "/tmp/up"]},
                "periodSeconds": 2,
                "failureThreshold": 10,
            },
            "livenessProbe": {
                "exec": {"command": ["false"]},
                "periodSeconds": 2,
                "failureThreshold": 100,
            },
            "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 2},
        }
    )
    pod.step(5)
    status = pod.status()["containerStatuses"][0]
    assert (status["started"], status["ready"]) == (False, False)
    assert {m.split(":")[0] for _, _, m in pod.said()} == {"Startup probe failed"}
    pod.step(3)
    status = pod.status()["containerStatuses"][0]
    assert (status["started"], status["ready"]) == (True, True)
    pod.step(4)
    later = [m.split(":")[0] for at, _, m in pod.said() if at > 8]
    assert later and set(later) == {"Liveness probe failed"}  # startup no longer probes


def test_a_failed_startup_probe_kills_and_restart_policy_never_does_not_restart() -> None:
    pod = Harness(
        {
            "command": ["sleep", "1d"],
            "startupProbe": {
                "exec": {"command": ["false"]},
                "periodSeconds": 1,
                "failureThreshold": 2,
            },
        },
        restartPolicy="Never",
        terminationGracePeriodSeconds=2,
    )
    pod.step(5)
    assert (1.0, "Killing", "Container app failed startup probe") in pod.said()
    status = pod.status()
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137


def test_log_options_filter_the_instances_lines() -> None:
    log = ContainerLog()
    t0 = datetime.datetime(2026, 1, 1, 10, 0, 0, tzinfo=datetime.UTC)
    log.write(t0, b"one\ntw")
    log.write(t0 + datetime.timedelta(seconds=5), b"o\nthree\n")
    log.write(t0 + datetime.timedelta(seconds=10, microseconds=120000), b"four\n")
    now = t0 + datetime.timedelta(seconds=12)

    def render(**query: str) -> bytes:
        return LogOptions.parse(query, now).render(log)

    assert render() == b"one\ntwo\nthree\nfour\n"
    assert render(tailLines="2") == b"three\nfour\n"
    assert render(tailLines="0") == b""
    assert render(sinceSeconds="7") == b"three\nfour\n"
    assert render(sinceTime="2026-01-01T10:00:10Z") == b"four\n"
    assert render(limitBytes="6") == b"one\ntw"
    assert render(timestamps="true", tailLines="1") == b"2026-01-01T10:00:10.12Z four\n"
    assert rfc3339_nano(t0) == "2026-01-01T10:00:00Z"
    for bad in ({"sinceSeconds": "0"}, {"tailLines": "-1"}, {"limitBytes": "x"}):
        with pytest.raises(ValueError, match="Invalid value"):
            LogOptions.parse(bad, now)
