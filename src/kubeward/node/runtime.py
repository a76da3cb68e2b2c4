"""The simulated container runtime: a sandbox per pod, its containers as simulated processes.

What the kubelet asks of a CRI runtime, kept in this process's memory. Rules:
 1. A pod's sandbox holds its IP, its volumes (``node.volumes``) and one container per init
    and regular container, each with its own filesystem (``node.filesystem``) where the pod's
    volumes are mounted at the container's ``volumeMounts`` and the service-account volume
    wherever the pod names it.
 2. Init containers run first, in order; each must exit 0 before the next (and the regular
    containers) start. Regular containers then start together. A process runs on the
    runtime's clock (``node.clock``): its sleeps take time, and the sandbox is advanced to
    "now" whenever the agent looks. Its output is the instance's log (``node.logs``).
 3. A process that ends is ``terminated`` with its exit code (reason ``Completed`` for 0, else
    ``Error``). Under ``restartPolicy: Always`` (or ``OnFailure`` with a non-zero code) it is
    restarted after the kubelet's back-off — at once the first time, then 10 s doubling to
    300 s, forgotten once the container has gone 600 s without a restart — counting restarts, and is ``waiting`` in ``CrashLoopBackOff`` meanwhile, its
    previous run kept as ``lastState`` and its log as the previous log. Every instance has a
    container ID of its own.
 4. ``exec`` runs a command in a running container's filesystem and environment.
 5. ``kill`` stops a container as the kubelet does: SIGTERM, which a simulated process (PID 1
    of a shell, or the image's server) does not handle, then SIGKILL when the grace period
    (at least 2 s) is over, so it ends with 137 (reason ``Error``) unless it ended first.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any

from kubeward.api import meta as m
from kubeward.node import commands
from kubeward.node.clock import Clock, system_clock
from kubeward.node.filesystem import FileSystem, image_files
from kubeward.node.logs import ContainerLog
from kubeward.node.volumes import PodVolumes

JSONObject = dict[str, Any]
BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
MINIMUM_GRACE_SECONDS = 2
SIGKILL_EXIT_CODE = 137


@dataclass
class Container:
    """One container: its spec, filesystem, environment, logs, process and current state."""

    spec: JSONObject
    fs: FileSystem
    env: dict[str, str]
    pod_uid: str = ""
    log: ContainerLog = field(default_factory=ContainerLog)
    previous_log: ContainerLog | None = None
    process: commands.Process | None = None
    state: JSONObject = field(default_factory=dict)
    last_state: JSONObject = field(default_factory=dict)
    restart_count: int = 0
    restart_at: datetime.datetime | None = None
    kill_at: datetime.datetime | None = None
    backoff: float = 0.0
    instance: int = 0
    started: datetime.datetime | None = None
    init: bool = False

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def container_id(self) -> str:
        """Rule 3: one ID per instance."""
        seed = f"{self.pod_uid}/{self.name}/{self.instance}"
        return "kubeward://" + hashlib.sha256(seed.encode()).hexdigest()[:32]

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def exit_code(self) -> int | None:
        terminated = self.state.get("terminated")
        return None if terminated is None else int(terminated["exitCode"])

    @property
    def wake_at(self) -> datetime.datetime | None:
        """When this container next changes by itself (a sleep ending, a kill, a restart)."""
        moments = [self.restart_at, self.kill_at]
        if self.process is not None and self.process.running:
            moments.append(self.process.wake_at)
        due = [t for t in moments if t is not None]
        return min(due) if due else None

    @property
    def load(self) -> tuple[float, int]:
        """What its running process uses: (CPU cores, memory bytes) (``commands`` rule 5)."""
        process = self.process
        if process is None or not process.running or not self.running:
            return 0.0, 0
        return process.output.cpu_cores, process.output.memory_bytes

    def argv(self) -> list[str]:
        return [str(a) for a in (self.spec.get("command") or []) + (self.spec.get("args") or [])]

    def start(self, now: datetime.datetime) -> None:
        """Rules 2 and 3: a new instance of the process, with a log of its own."""
        if self.process is not None:
            self.previous_log, self.log = self.log, ContainerLog()
            self.instance += 1
        self.started = now
        self.state = {"running": {"startedAt": m.format_time(now)}}
        self.process = commands.Process(
            self.argv(), self.fs, self.env, now, on_write=self.log.write
        )
        self.sync(now)

    def sync(self, now: datetime.datetime) -> None:
        """Rules 2, 3 and 5: run the process up to ``now``; record its end."""
        process = self.process
        if process is None or not self.running:
            return
        if self.kill_at is not None and self.kill_at <= now:
            process.advance(self.kill_at)
            process.kill(SIGKILL_EXIT_CODE, self.kill_at)
        process.advance(now)
        if process.exit_code is None:
            return
        self.kill_at = None
        self.state = {
            "terminated": {
                "exitCode": process.exit_code,
                "reason": "Completed" if process.exit_code == 0 else "Error",
                "startedAt": self.state["running"]["startedAt"],
                "finishedAt": m.format_time(process.now),
                "containerID": self.container_id,
            }
        }

    def kill(self, now: datetime.datetime, grace_seconds: int) -> None:
        """Rule 5."""
        if self.running and self.kill_at is None:
            grace = max(grace_seconds, MINIMUM_GRACE_SECONDS)
            self.kill_at = now + datetime.timedelta(seconds=grace)

    def exec(self, argv: list[str], stdin: bytes = b"") -> commands.Outcome:
        """Rule 4, at once (sleeps take no time)."""
        return commands.run(argv, self.fs, self.env, stdin=stdin)

    def exec_process(
        self, argv: list[str], now: datetime.datetime, stdin: bytes = b""
    ) -> commands.Process:
        """Rule 4 on the clock: the caller advances it."""
        return commands.Process(argv, self.fs, self.env, now, stdin=stdin)


def should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


@dataclass
class Sandbox:
    """Rule 1: one pod's IP, volumes and containers."""

    namespace: str
    name: str
    uid: str
    ip: str
    volumes: PodVolumes
    restart_policy: str
    init_containers: list[Container] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)

    def container(self, name: str) -> Container | None:
        for c in [*self.containers, *self.init_containers]:
            if c.name == name:
                return c
        return None

    def declared_ports(self) -> set[int]:
        """The ports the pod's containers declare: what its network answers on."""
        return {
            int(p.get("containerPort", 0))
            for c in self.containers
            for p in c.spec.get("ports") or []
        }

    def listening_ports(self) -> set[int]:
        """The declared ports, and those a running ``nc -l`` echo server listens on
        (``commands`` rule 3a), declared or not."""
        echoing = {commands.echo_port(c.argv()) for c in self.containers if c.running}
        return self.declared_ports() | {port for port in echoing if port is not None}

    @property
    def initialized(self) -> bool:
        return all(c.exit_code == 0 for c in self.init_containers)

    def _run_init(self, now: datetime.datetime) -> None:
        """Rule 2: init containers in order until one runs on or fails."""
        for c in self.init_containers:
            if not c.state:
                c.start(now)
            c.sync(now)
            if c.exit_code != 0:
                return

    def advance(self, now: datetime.datetime) -> float | None:
        """Rules 2 and 3 up to ``now``; the seconds until something is next due, if anything."""
        self._run_init(now)
        if not self.initialized:
            return self._next(now, self.init_containers)
        for c in self.containers:
            if not c.state:
                c.start(now)
            self._tend(c, now)
        return self._next(now, self.containers)

    def _tend(self, c: Container, now: datetime.datetime) -> None:
        c.sync(now)
        while True:
            if c.restart_at is not None:
                if c.restart_at > now:
                    return
                c.restart_at = None
                c.restart_count += 1
                c.start(now)
                continue
            code = c.exit_code
            if code is None or not should_restart(self.restart_policy, code):
                return
            if c.started is not None and (now - c.started).total_seconds() > 2 * BACKOFF_MAX:
                c.backoff = 0.0  # the kubelet's back-off entry has expired
            delay, c.backoff = c.backoff, min(max(c.backoff * 2, BACKOFF_START), BACKOFF_MAX)
            c.last_state, c.restart_at = c.state, now + datetime.timedelta(seconds=delay)
            if delay:
                c.state = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {int(delay)}s restarting failed container="
                        f"{c.name} pod={self.name}_{self.namespace}({self.uid})",
                    }
                }

    @staticmethod
    def _next(now: datetime.datetime, containers: list[Container]) -> float | None:
        due = [c.wake_at for c in containers if c.wake_at is not None]
        return max((min(due) - now).total_seconds(), 0.0) if due else None


def make_container(
    spec: JSONObject, pod: JSONObject, ip: str, volumes: PodVolumes, env: dict[str, str]
) -> Container:
    """Rule 1: a container whose filesystem has the pod's volumes at its mounts."""
    meta = m.metadata(pod)
    fs = FileSystem(base=image_files(str(meta.get("name", "")), ip))
    for mount in spec.get("volumeMounts") or []:
        files = volumes.files.get(str(mount.get("name", "")))
        if files is None:
            continue
        sub = str(mount.get("subPath", ""))
        if sub:
            data = files.get(sub)
            if data is not None:
                fs.base[str(mount.get("mountPath", ""))] = data
            continue
        fs.mount(str(mount.get("mountPath", "")), files)
    return Container(spec, fs, env, pod_uid=str(meta.get("uid", "")))


class Runtime:
    """The node's sandboxes by ``namespace/name``."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.sandboxes: dict[str, Sandbox] = {}
        self.clock = clock

    def get(self, namespace: str, name: str) -> Sandbox | None:
        return self.sandboxes.get(f"{namespace}/{name}")

    def add(self, key: str, sandbox: Sandbox) -> None:
        self.sandboxes[key] = sandbox

    def remove(self, key: str) -> Sandbox | None:
        return self.sandboxes.pop(key, None)
