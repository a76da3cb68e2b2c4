"""Startup, liveness and readiness probes on a simulated schedule, as the kubelet's prober.

One worker per container and probe kind (pkg/kubelet/prober/worker.go). Rules:
 1. A probe's fields default as the API does: ``periodSeconds`` 10, ``timeoutSeconds`` 1,
    ``successThreshold`` 1, ``failureThreshold`` 3, ``initialDelaySeconds`` 0; an httpGet's
    path ``/`` and scheme ``HTTP``.
 2. A worker's result starts as the kubelet's initial value (readiness Failure, liveness
    Success, startup Unknown) for every new container instance (a new container ID), and it
    probes at ``startedAt + initialDelaySeconds``, then every ``periodSeconds``. A container
    not running holds Failure. Until the startup probe has succeeded, liveness and readiness
    do not probe; once it has, the startup probe stops.
 3. A result is adopted once the same outcome came ``successThreshold`` (success) or
    ``failureThreshold`` (failure) times in a row. A liveness or startup failure puts the
    worker on hold until the next instance, and asks for the container to be killed.
 4. Each failed probe is a Warning ``Unhealthy`` Event, ``Liveness probe failed: OUTPUT``; a
    probe that cannot run (a named port the container does not declare) is ``… probe errored
    and resulted in unknown state: ERR`` and its result is thrown away. A kill is a Normal
    ``Killing`` Event, ``Container C failed liveness probe, will be restarted`` (``, will be
    restarted`` only when the restart policy restarts it), with the probe's
    ``terminationGracePeriodSeconds``, else the pod's, else 30.
 5. Handlers (``node.probe_handlers``): ``exec`` through the simulated commands in the
    container's filesystem (exit 0 is success), ``httpGet``/``tcpSocket``/``grpc`` to the
    pod's declared ports, each answered by the node's responder.
 6. ``started`` is true for a running container whose startup probe succeeded (or has none);
    ``ready`` for a started one whose readiness result is Success (or has none).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubeward.node.runtime import Container, Sandbox

JSONObject = dict[str, Any]
STARTUP, LIVENESS, READINESS = "Startup", "Liveness", "Readiness"
KINDS = (STARTUP, LIVENESS, READINESS)
FIELDS = {STARTUP: "startupProbe", LIVENESS: "livenessProbe", READINESS: "readinessProbe"}
SUCCESS, FAILURE, UNKNOWN = "success", "failure", "unknown"
INITIAL = {STARTUP: UNKNOWN, LIVENESS: SUCCESS, READINESS: FAILURE}
DEFAULT_GRACE_SECONDS = 30


class ProbeError(Exception):
    """A probe that could not run (rule 4): its result is thrown away."""


@dataclass(frozen=True)
class Outcome:
    result: str
    output: str = ""


Handler = Callable[["ProbeSpec", Container, Sandbox, datetime.datetime], Outcome]


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class ProbeSpec:
    """Rule 1."""

    kind: str
    handler: JSONObject
    initial_delay: int = 0
    period: int = 10
    timeout: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3
    grace: int | None = None

    @classmethod
    def of(cls, container_spec: JSONObject, kind: str) -> ProbeSpec | None:
        probe = container_spec.get(FIELDS[kind])
        if not isinstance(probe, dict):
            return None
        grace = probe.get("terminationGracePeriodSeconds")
        return cls(
            kind=kind,
            handler=probe,
            initial_delay=max(_int(probe.get("initialDelaySeconds"), 0), 0),
            period=max(_int(probe.get("periodSeconds"), 10), 1),
            timeout=max(_int(probe.get("timeoutSeconds"), 1), 1),
            success_threshold=max(_int(probe.get("successThreshold"), 1), 1),
            failure_threshold=max(_int(probe.get("failureThreshold"), 3), 1),
            grace=None if grace is None else _int(grace, DEFAULT_GRACE_SECONDS),
        )


@dataclass
class ProbeWorker:
    """Rules 2 and 3 for one container's probe of one kind."""

    spec: ProbeSpec
    container_id: str = ""
    result: str = UNKNOWN
    last: str = ""
    run: int = 0
    on_hold: bool = False
    next_at: datetime.datetime | None = None

    def reset(self, container_id: str, started: datetime.datetime) -> None:
        """Rule 2: a new instance."""
        self.container_id, self.result = container_id, INITIAL[self.spec.kind]
        self.last, self.run, self.on_hold = "", 0, False
        self.next_at = started + datetime.timedelta(seconds=self.spec.initial_delay)

    def due(self, now: datetime.datetime) -> bool:
        return not self.on_hold and self.next_at is not None and self.next_at <= now

    def reschedule(self, now: datetime.datetime) -> None:
        """The next tick after ``now`` (ticks missed while the agent was away are dropped)."""
        assert self.next_at is not None
        period = datetime.timedelta(seconds=self.spec.period)
        while self.next_at <= now:
            self.next_at += period

    def record(self, result: str) -> bool:
        """Rule 3: count one outcome; True when it is adopted as the result."""
        if result == self.last:
            self.run += 1
        else:
            self.last, self.run = result, 1
        needed = self.spec.failure_threshold if result == FAILURE else self.spec.success_threshold
        if self.run < needed:
            return False
        self.result = result
        if self.spec.kind in (LIVENESS, STARTUP) and result == FAILURE:
            self.on_hold, self.run = True, 0
        return True


@dataclass(frozen=True)
class ProbeEvent:
    """An Event the prober asks for, about one container."""

    container: str
    type: str
    reason: str
    message: str


@dataclass
class ContainerProbes:
    workers: dict[str, ProbeWorker] = field(default_factory=dict)

    def started(self, c: Container) -> bool:
        """Rule 6."""
        worker = self.workers.get(STARTUP)
        if not c.running:
            return False
        return worker is None or (
            worker.container_id == c.container_id and worker.result == SUCCESS
        )

    def ready(self, c: Container) -> bool:
        """Rule 6."""
        if not self.started(c):
            return False
        worker = self.workers.get(READINESS)
        return worker is None or (
            worker.container_id == c.container_id and worker.result == SUCCESS
        )


class PodProbes:
    """Every worker of one pod's containers."""

    def __init__(self, pod: JSONObject, handlers: dict[str, Handler]) -> None:
        spec = pod.get("spec") or {}
        self.restart_policy = str(spec.get("restartPolicy") or "Always")
        self.pod_grace = _int(spec.get("terminationGracePeriodSeconds"), DEFAULT_GRACE_SECONDS)
        self.handlers = handlers
        self.containers: dict[str, ContainerProbes] = {}
        for container_spec in spec.get("containers") or []:
            probes = ContainerProbes()
            for kind in KINDS:
                probe = ProbeSpec.of(container_spec, kind)
                if probe is not None:
                    probes.workers[kind] = ProbeWorker(probe)
            self.containers[str(container_spec.get("name", ""))] = probes

    def of(self, c: Container) -> ContainerProbes:
        return self.containers.get(c.name) or ContainerProbes()

    def started(self, c: Container) -> bool:
        return self.of(c).started(c)

    def ready(self, c: Container) -> bool:
        return self.of(c).ready(c)

    def next_at(self) -> datetime.datetime | None:
        due = [
            w.next_at
            for probes in self.containers.values()
            for w in probes.workers.values()
            if w.next_at is not None and not w.on_hold
        ]
        return min(due) if due else None

    def tick(self, sandbox: Sandbox, now: datetime.datetime) -> list[ProbeEvent]:
        """Rules 2-4 for every worker that is due; the Events to record."""
        events: list[ProbeEvent] = []
        for c in sandbox.containers:
            probes = self.of(c)
            for kind in KINDS:
                worker = probes.workers.get(kind)
                if worker is not None:
                    events.extend(self._step(worker, probes, c, sandbox, now))
        return events

    def _step(
        self,
        worker: ProbeWorker,
        probes: ContainerProbes,
        c: Container,
        sandbox: Sandbox,
        now: datetime.datetime,
    ) -> list[ProbeEvent]:
        kind = worker.spec.kind
        if not c.running or c.started is None:
            if worker.container_id:
                worker.result = FAILURE
            worker.next_at = None
            return []
        if worker.container_id != c.container_id:
            worker.reset(c.container_id, c.started)
        if not worker.due(now):
            return []
        worker.reschedule(now)
        started = probes.started(c)
        if (kind == STARTUP) == started:  # rule 2: gated by (or done with) the startup probe
            return []
        handler = self.handlers.get(handler_kind(worker.spec.handler))
        if handler is None:
            return []
        try:
            outcome = handler(worker.spec, c, sandbox, now)
        except ProbeError as exc:
            message = f"{kind} probe errored and resulted in unknown state: {exc}"
            return [ProbeEvent(c.name, "Warning", "Unhealthy", message)]
        events = []
        if outcome.result == FAILURE:
            message = f"{kind} probe failed: {outcome.output}"
            events.append(ProbeEvent(c.name, "Warning", "Unhealthy", message))
        if worker.record(outcome.result) and worker.on_hold:
            events.append(self._kill(worker, c, now))
        return events

    def _kill(self, worker: ProbeWorker, c: Container, now: datetime.datetime) -> ProbeEvent:
        """Rule 4."""
        grace = worker.spec.grace if worker.spec.grace is not None else self.pod_grace
        c.kill(now, grace)
        message = f"Container {c.name} failed {worker.spec.kind.lower()} probe"
        if self.restart_policy != "Never":
            message += ", will be restarted"
        return ProbeEvent(c.name, "Normal", "Killing", message)


def handler_kind(probe: JSONObject) -> str:
    for kind in ("exec", "httpGet", "tcpSocket", "grpc"):
        if isinstance(probe.get(kind), dict):
            return kind
    return ""
