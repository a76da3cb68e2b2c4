"""The Pod table: what ``kubectl get pods`` shows, computed as Kubernetes' ``printPod`` does.

The STATUS cell is not a stored field; it is derived from the pod's phase and the states of
its containers. The rules, in the order they apply (each may overwrite the one before):

1. Start from ``status.phase``, replaced by ``status.reason`` when that is set
   (``Evicted``); a ``PodScheduled`` condition with reason ``SchedulingGated`` gives
   ``SchedulingGated``.
2. Init containers are looked at in order, stopping at the first one that has not finished
   successfully. Restartable ("sidecar", ``restartPolicy: Always``) init containers that have
   started count towards READY and do not stop the walk. The first one that stopped gives
   ``Init:<reason>``, ``Init:Signal:<n>`` or ``Init:ExitCode:<n>``; one waiting for a reason
   other than ``PodInitializing`` gives ``Init:<reason>``; otherwise ``Init:<i>/<count>``.
3. When no init container is pending (or the ``Initialized`` condition is True) the regular
   containers are looked at from last to first: a waiting reason (``CrashLoopBackOff``,
   ``ContainerCreating``), a terminated reason (``Completed``, ``Error``, ``OOMKilled``) or
   ``Signal:<n>`` / ``ExitCode:<n>`` overwrite the status, so the first container has the last
   word; running and ready containers count towards READY. ``Completed`` while some container
   still runs reads ``Running`` (pod Ready) or ``NotReady``.
4. A pod with a ``deletionTimestamp`` reads ``Unknown`` when its node was lost (reason
   ``NodeLost``) and ``Terminating`` unless it already succeeded or failed.
5. RESTARTS sums the restart counts of the containers that were looked at (only the sidecars
   among the init containers once initialization is over) and adds ``(<age> ago)`` of the
   latest ``lastState.terminated.finishedAt`` when there were restarts.
6. READY is ``<ready>/<containers + sidecar init containers>``; IP, NODE and NOMINATED NODE
   print ``<none>`` when unset; READINESS GATES is ``<true>/<gates>`` or ``<none>``.
7. Succeeded and Failed pods carry the row condition ``Completed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import (
    flag,
    integer,
    items,
    mapping,
    optional_mapping,
    text,
    value_at,
)
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    PrintedRow,
    RowCondition,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import NONE, age_since, parse_timestamp

POD_SUCCEEDED = "Succeeded"
POD_FAILED = "Failed"
_TERMINAL_PHASES = (POD_SUCCEEDED, POD_FAILED)
_NODE_LOST = "NodeLost"

_SUCCEEDED_CONDITION = RowCondition(
    "Completed", "True", POD_SUCCEEDED, "The pod has completed successfully."
)
_FAILED_CONDITION = RowCondition("Completed", "True", POD_FAILED, "The pod failed.")

POD_COLUMNS = (
    NAME_COLUMN,
    column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "The aggregate status of the containers in this pod."),
    column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted.",
    ),
    AGE_COLUMN,
    column("IP", "IP address allocated to the pod.", priority=1),
    column("Node", "The name of the node the pod is scheduled to.", priority=1),
    column(
        "Nominated Node",
        "The node the pod is expected to run on once preemption victims have left it.",
        priority=1,
    ),
    column(
        "Readiness Gates",
        "How many of the pod's readiness gate conditions are True, of how many.",
        priority=1,
    ),
)


def _condition_status(status: Mapping[str, Any], condition_type: str) -> str:
    """The status of the first condition of ``condition_type`` ("" when there is none)."""
    for condition in items(status, "conditions"):
        if text(condition, "type") == condition_type:
            return text(condition, "status")
    return ""


def _has_true_condition(status: Mapping[str, Any], condition_type: str) -> bool:
    return any(
        text(c, "type") == condition_type and text(c, "status") == "True"
        for c in items(status, "conditions")
    )


def _later(current: datetime | None, container_status: Mapping[str, Any]) -> datetime | None:
    """The later of ``current`` and the container's last termination time."""
    finished = parse_timestamp(value_at(container_status, "lastState", "terminated", "finishedAt"))
    if finished is None or (current is not None and finished <= current):
        return current
    return finished


def _stopped_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    """``<reason>``, ``Signal:<n>`` or ``ExitCode:<n>`` of a terminated container state."""
    reason = text(terminated, "reason")
    if reason:
        return prefix + reason
    signal = integer(terminated, "signal")
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{integer(terminated, 'exitCode')}"


def _readiness_gates(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    gates = items(spec, "readinessGates")
    if not gates:
        return NONE
    true_gates = sum(
        1 for gate in gates if _condition_status(status, text(gate, "conditionType")) == "True"
    )
    return f"{true_gates}/{len(gates)}"


def _pod_ip(status: Mapping[str, Any]) -> str:
    # Kubernetes converts v1 pods so that podIPs[0] is podIP whenever podIP is set.
    ips = items(status, "podIPs")
    return text(status, "podIP") or (text(ips[0], "ip") if ips else "") or NONE


def print_pod(pod: Mapping[str, Any], now: datetime) -> PrintedRow:
    spec = mapping(pod, "spec")
    status = mapping(pod, "status")
    init_containers = items(spec, "initContainers")
    sidecars = {text(c, "name") for c in init_containers if text(c, "restartPolicy") == "Always"}
    total = len(items(spec, "containers")) + sum(
        1 for c in init_containers if text(c, "restartPolicy") == "Always"
    )
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = text(status, "phase")
    reason = text(status, "reason") or phase
    for condition in items(status, "conditions"):
        if text(condition, "type") == "PodScheduled" and text(condition, "reason") == (
            "SchedulingGated"
        ):
            reason = "SchedulingGated"

    initializing = False
    for index, container in enumerate(items(status, "initContainerStatuses")):
        restarts += integer(container, "restartCount")
        last_restart = _later(last_restart, container)
        is_sidecar = text(container, "name") in sidecars
        if is_sidecar:
            sidecar_restarts += integer(container, "restartCount")
            last_sidecar_restart = _later(last_sidecar_restart, container)
        terminated = optional_mapping(container, "state", "terminated")
        waiting = optional_mapping(container, "state", "waiting")
        if terminated is not None and integer(terminated, "exitCode") == 0:
            continue
        if is_sidecar and flag(container, "started"):
            if flag(container, "ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _stopped_reason(terminated, "Init:")
        elif waiting is not None and text(waiting, "reason") not in ("", "PodInitializing"):
            reason = "Init:" + text(waiting, "reason")
        else:
            reason = f"Init:{index}/{len(init_containers)}"
        initializing = True
        break

    if not initializing or _condition_status(status, "Initialized") == "True":
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for container in reversed(items(status, "containerStatuses")):
            restarts += integer(container, "restartCount")
            last_restart = _later(last_restart, container)
            waiting = optional_mapping(container, "state", "waiting")
            terminated = optional_mapping(container, "state", "terminated")
            if waiting is not None and text(waiting, "reason"):
                reason = text(waiting, "reason")
            elif terminated is not None:
                reason = _stopped_reason(terminated, "")
            elif (
                flag(container, "ready")
                and optional_mapping(container, "state", "running") is not None
            ):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_true_condition(status, "Ready") else "NotReady"

    if value_at(pod, "metadata", "deletionTimestamp") is not None:
        if text(status, "reason") == _NODE_LOST:
            reason = "Unknown"
        elif phase not in _TERMINAL_PHASES:
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({age_since(last_restart, now)} ago)"

    conditions: tuple[RowCondition, ...] = ()
    if phase == POD_SUCCEEDED:
        conditions = (_SUCCEEDED_CONDITION,)
    elif phase == POD_FAILED:
        conditions = (_FAILED_CONDITION,)

    return PrintedRow(
        (
            text(pod, "metadata", "name"),
            f"{ready}/{total}",
            reason,
            restarts_cell,
            age_since(parse_timestamp(value_at(pod, "metadata", "creationTimestamp")), now),
            _pod_ip(status),
            text(spec, "nodeName") or NONE,
            text(status, "nominatedNodeName") or NONE,
            _readiness_gates(spec, status),
        ),
        conditions,
    )


POD_PRINTER = TablePrinter(POD_COLUMNS, print_pod)
