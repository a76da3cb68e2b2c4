"""The status a kubelet reports for a pod it runs (``generateAPIPodStatus``), from its sandbox.

Rules:
 1. The phase: Pending while a container has not started (volumes not mounted, configuration
    refused, init containers not done); Running while a container runs or will be restarted;
    Succeeded when every container ended with 0 and none will restart; Failed when all ended,
    none will restart, and one failed.
 2. Conditions: PodReadyToStartContainers (the sandbox exists), Initialized (init containers
    done), ContainersReady and Ready (every container ready: running, its startup probe passed
    and its readiness probe passing, ``node.probes``), and the scheduler's
    PodScheduled kept as it was. Ended pods keep Ready False with reason ``PodCompleted``.
 3. Each container's status: its state (running, terminated, or waiting with the kubelet's
    reason), lastState, restartCount, ready and started (the probes'), image, imageID and
    containerID.
 4. A pod that cannot start reports each container ``waiting`` with the reason
    (``ContainerCreating``, ``CreateContainerConfigError``, ``ErrImagePull``,
    ``ImagePullBackOff``) and message, and phase Pending.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kubeward.api import meta as m
from kubeward.node.probes import PodProbes
from kubeward.node.runtime import Container, Sandbox, should_restart

JSONObject = dict[str, Any]


def _condition(kind: str, ok: bool, stamp: str, reason: str = "") -> JSONObject:
    condition: JSONObject = {
        "type": kind,
        "status": "True" if ok else "False",
        "lastProbeTime": None,
        "lastTransitionTime": stamp,
    }
    if reason:
        condition["reason"] = reason
    return condition


def _scheduled(pod: JSONObject, stamp: str) -> JSONObject:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "PodScheduled":
            return dict(c)
    return _condition("PodScheduled", True, stamp)


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"kubeward.local/{image}@sha256:{digest}"


def container_status(c: Container, probes: PodProbes | None = None) -> JSONObject:
    """Rule 3."""
    started = c.running if probes is None else probes.started(c)
    ready = c.running if probes is None else probes.ready(c)
    status: JSONObject = {
        "name": c.name,
        "image": c.spec.get("image", ""),
        "imageID": _image_id(str(c.spec.get("image", ""))),
        "containerID": c.container_id,
        "ready": ready and not c.init,
        "started": started,
        "restartCount": c.restart_count,
        "state": c.state or {"waiting": {"reason": "PodInitializing"}},
        "lastState": c.last_state,
    }
    if c.init:
        status["ready"] = c.exit_code == 0
    return status


def phase_of(sandbox: Sandbox) -> str:
    """Rule 1."""
    if not sandbox.initialized:
        failed = any(c.exit_code not in (None, 0) for c in sandbox.init_containers)
        return "Failed" if failed and sandbox.restart_policy == "Never" else "Pending"
    codes = [c.exit_code for c in sandbox.containers]
    if any(c.running or c.restart_at is not None for c in sandbox.containers):
        return "Running"
    if any(code is None for code in codes):
        return "Pending"
    if any(should_restart(sandbox.restart_policy, int(code or 0)) for code in codes):
        return "Running"
    return "Succeeded" if all(code == 0 for code in codes) else "Failed"


def pod_status(
    pod: JSONObject, sandbox: Sandbox, host_ip: str, probes: PodProbes | None = None
) -> JSONObject:
    """Rules 1-3."""
    stamp = m.format_time(m.now())
    status = pod.get("status") or {}
    phase = phase_of(sandbox)
    statuses = [container_status(c, probes) for c in sandbox.containers]
    ready = sandbox.initialized and all(s["ready"] for s in statuses)
    ended = phase in ("Succeeded", "Failed")
    not_ready = "PodCompleted" if ended else "ContainersNotReady"
    result: JSONObject = {
        "phase": phase,
        "conditions": [
            _condition("PodReadyToStartContainers", not ended, stamp),
            _condition("Initialized", sandbox.initialized, stamp),
            _condition("Ready", ready, stamp, "" if ready else not_ready),
            _condition("ContainersReady", ready, stamp, "" if ready else not_ready),
            _scheduled(pod, stamp),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": sandbox.ip,
        "podIPs": [{"ip": sandbox.ip}],
        "startTime": status.get("startTime") or stamp,
        "containerStatuses": statuses,
        "qosClass": status.get("qosClass", "BestEffort"),
    }
    if sandbox.init_containers:
        result["initContainerStatuses"] = [container_status(c) for c in sandbox.init_containers]
    return result


def waiting_pod_status(pod: JSONObject, host_ip: str, reason: str, message: str) -> JSONObject:
    """Rule 4."""
    stamp = m.format_time(m.now())
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    waiting: JSONObject = {"reason": reason}
    if message:
        waiting["message"] = message
    containers = [
        {
            "name": c.get("name", ""),
            "image": c.get("image", ""),
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"waiting": waiting},
            "lastState": {},
        }
        for c in spec.get("containers") or []
    ]
    return {
        "phase": "Pending",
        "conditions": [
            _condition("PodReadyToStartContainers", False, stamp),
            _condition("Initialized", True, stamp),
            _condition("Ready", False, stamp, "ContainersNotReady"),
            _condition("ContainersReady", False, stamp, "ContainersNotReady"),
            _scheduled(pod, stamp),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": status.get("startTime") or stamp,
        "containerStatuses": containers,
        "qosClass": status.get("qosClass", "BestEffort"),
    }
