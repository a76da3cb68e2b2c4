"""The simulated container runtime: a sandbox per pod, its containers as simulated processes.

What the kubelet asks of a CRI runtime, kept in this process's memory. Rules:
 1. A pod's sandbox holds its IP, its volumes (``node.volumes``) and one container per init
    and regular container, each with its own filesystem (``node.filesystem``) where the pod's
    volumes are mounted at the container's ``volumeMounts`` and the service-account volume
    wherever the pod names it.
 2. Init containers run first, in order; each must exit 0 before the next (and the regular
    containers) start. Regular containers then start together. A process's output is the
    container's log (stdout and stderr, as the runtime's log file interleaves them).
 3. A process that ends is ``terminated`` with its exit code (reason ``Completed`` for 0, else
    ``Error``). Under ``restartPolicy: Always`` (or ``OnFailure`` with a non-zero code) it is
    restarted after the kubelet's back-off — 10 s doubling to 300 s — counting restarts, and is
    ``waiting`` in ``CrashLoopBackOff`` meanwhile, its previous run kept as ``lastState``.
 4. ``exec`` runs a command in a running container's filesystem and environment.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any

from kubeward.api import meta as m
from kubeward.node import commands
from kubeward.node.filesystem import FileSystem, image_files
from kubeward.node.volumes import PodVolumes

JSONObject = dict[str, Any]
BACKOFF_START = 10.0
BACKOFF_MAX = 300.0


@dataclass
class Container:
    """One container: its spec, filesystem, environment, log and current state."""

    spec: JSONObject
    fs: FileSystem
    env: dict[str, str]
    container_id: str
    logs: bytearray = field(default_factory=bytearray)
    state: JSONObject = field(default_factory=dict)
    last_state: JSONObject = field(default_factory=dict)
    restart_count: int = 0
    restart_at: datetime.datetime | None = None
    init: bool = False
    load_cores: float = 0.0  # what its running process uses (``commands`` rule 5)
    load_memory: int = 0

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def exit_code(self) -> int | None:
        terminated = self.state.get("terminated")
        return None if terminated is None else int(terminated["exitCode"])

    def argv(self) -> list[str]:
        return [str(a) for a in (self.spec.get("command") or []) + (self.spec.get("args") or [])]

    def start(self) -> None:
        """Rules 2 and 3: run the process once and record how it went."""
        stamp = m.format_time(m.now())
        outcome = commands.run(self.argv(), self.fs, self.env, main=True)
        self.logs += outcome.stdout + outcome.stderr
        self.load_cores, self.load_memory = outcome.cpu_cores, outcome.memory_bytes
        if outcome.exit_code is None:
            self.state = {"running": {"startedAt": stamp}}
            return
        self.state = {
            "terminated": {
                "exitCode": outcome.exit_code,
                "reason": "Completed" if outcome.exit_code == 0 else "Error",
                "startedAt": stamp,
                "finishedAt": stamp,
                "containerID": self.container_id,
            }
        }

    def exec(self, argv: list[str], stdin: bytes = b"") -> commands.Outcome:
        """Rule 4."""
        return commands.run(argv, self.fs, self.env, stdin=stdin)


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

    @property
    def initialized(self) -> bool:
        return all(c.exit_code == 0 for c in self.init_containers)

    def run_init(self) -> None:
        """Rule 2: init containers in order until one fails."""
        for c in self.init_containers:
            if c.exit_code == 0:
                continue
            c.start()
            if c.exit_code != 0:
                return
        for c in self.containers:
            if not c.state:
                c.start()

    def advance(self, now: datetime.datetime) -> float | None:
        """Rule 3: restart what is due; the seconds until the next restart, if any."""
        if not self.initialized:
            return None
        waits: list[float] = []
        for c in self.containers:
            code = c.exit_code
            if code is None and c.restart_at is None:
                continue
            if c.restart_at is None:
                assert code is not None
                if not should_restart(self.restart_policy, code):
                    continue
                delay = min(BACKOFF_START * 2**c.restart_count, BACKOFF_MAX)
                c.last_state, c.restart_at = c.state, now + datetime.timedelta(seconds=delay)
                c.state = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {int(delay)}s restarting failed container="
                        f"{c.name} pod={self.name}_{self.namespace}({self.uid})",
                    }
                }
            if c.restart_at is not None and c.restart_at <= now:
                c.restart_at = None
                c.restart_count += 1
                c.start()
                if c.exit_code is not None and should_restart(self.restart_policy, c.exit_code):
                    waits.append(0.0)
                continue
            if c.restart_at is not None:
                waits.append((c.restart_at - now).total_seconds())
        return min(waits) if waits else None


def _container_id(uid: str, name: str) -> str:
    return "kubeward://" + hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()[:32]


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
    return Container(spec, fs, env, _container_id(str(meta.get("uid", "")), str(spec.get("name"))))


class Runtime:
    """The node's sandboxes by ``namespace/name``."""

    def __init__(self) -> None:
        self.sandboxes: dict[str, Sandbox] = {}

    def get(self, namespace: str, name: str) -> Sandbox | None:
        return self.sandboxes.get(f"{namespace}/{name}")

    def add(self, key: str, sandbox: Sandbox) -> None:
        self.sandboxes[key] = sandbox

    def remove(self, key: str) -> Sandbox | None:
        return self.sandboxes.pop(key, None)
