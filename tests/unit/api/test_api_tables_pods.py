"""The Pod table: READY, STATUS, RESTARTS and the wide columns for pods in many states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeward.api.tables import PrintedRow, RowCondition, printer_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: int) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(ready: bool = True, restarts: int = 0, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(60)}},
    }


def waiting(reason: str, restarts: int = 0, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
    }


def terminated(
    exit_code: int, reason: str = "", signal: int = 0, name: str = "app"
) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code, "finishedAt": ago(30)}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": state}}


def pod(
    *,
    phase: str = "Running",
    containers: int = 1,
    init_containers: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    reason: str = "",
    deleting: bool = False,
    created: int = 300,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    metadata: dict[str, Any] = {
        "name": "web",
        "namespace": "default",
        "creationTimestamp": ago(created),
    }
    if deleting:
        metadata["deletionTimestamp"] = ago(1)
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]
    }
    if init_containers is not None:
        spec["initContainers"] = init_containers
    return {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec, "status": status}


def print_pod(obj: dict[str, Any]) -> PrintedRow:
    return printer_for(("", "Pod")).print_row(obj, NOW)


def with_last_termination(status: dict[str, Any], finished_seconds_ago: int) -> dict[str, Any]:
    status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": ago(finished_seconds_ago)}}
    return status


PLAIN_INIT = [{"name": "init", "image": "busybox"}]
TWO_INITS = [{"name": "init-a", "image": "busybox"}, {"name": "init-b", "image": "busybox"}]
SIDECAR_INIT = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]


@pytest.mark.parametrize(
    ("obj", "ready", "status", "restarts"),
    [
        (pod(phase="Pending"), "0/1", "Pending", "0"),
        (
            pod(phase="Pending", statuses=[waiting("ContainerCreating")]),
            "0/1",
            "ContainerCreating",
            "0",
        ),
        (pod(statuses=[running()]), "1/1", "Running", "0"),
        (pod(statuses=[running(ready=False)]), "0/1", "Running", "0"),
        (
            pod(statuses=[with_last_termination(waiting("CrashLoopBackOff", restarts=5), 150)]),
            "0/1",
            "CrashLoopBackOff",
            "5 (2m30s ago)",
        ),
        (pod(statuses=[running(restarts=3)]), "1/1", "Running", "3"),
        (pod(phase="Pending", statuses=[waiting("ErrImagePull")]), "0/1", "ErrImagePull", "0"),
        (
            pod(
                phase="Pending",
                init_containers=PLAIN_INIT,
                init_statuses=[waiting("PodInitializing", name="init")],
                statuses=[waiting("PodInitializing")],
            ),
            "0/1",
            "Init:0/1",
            "0",
        ),
        (
            pod(
                phase="Pending",
                init_containers=TWO_INITS,
                init_statuses=[
                    terminated(0, "Completed", name="init-a"),
                    running(ready=False, name="init-b"),
                ],
            ),
            "0/1",
            "Init:1/2",
            "0",
        ),
        (
            pod(
                phase="Pending",
                init_containers=PLAIN_INIT,
                init_statuses=[
                    with_last_termination(waiting("CrashLoopBackOff", restarts=4, name="init"), 60)
                ],
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "4 (60s ago)",
        ),
        (
            pod(
                phase="Pending",
                init_containers=PLAIN_INIT,
                init_statuses=[terminated(1, "Error", name="init")],
            ),
            "0/1",
            "Init:Error",
            "0",
        ),
        (
            pod(
                phase="Pending",
                init_containers=PLAIN_INIT,
                init_statuses=[terminated(3, name="init")],
            ),
            "0/1",
            "Init:ExitCode:3",
            "0",
        ),
        (
            pod(
                phase="Pending",
                init_containers=PLAIN_INIT,
                init_statuses=[terminated(137, signal=9, name="init")],
            ),
            "0/1",
            "Init:Signal:9",
            "0",
        ),
        (
            pod(
                phase="Running",
                init_containers=PLAIN_INIT,
                init_statuses=[running(ready=False, name="init")],
                conditions=[{"type": "Initialized", "status": "True"}],
                statuses=[waiting("CrashLoopBackOff", restarts=2)],
            ),
            "0/1",
            "CrashLoopBackOff",
            "2",
        ),
        (pod(phase="Succeeded", statuses=[terminated(0, "Completed")]), "0/1", "Completed", "0"),
        (pod(phase="Failed", statuses=[terminated(1, "Error")]), "0/1", "Error", "0"),
        (pod(phase="Failed", statuses=[terminated(137, "OOMKilled")]), "0/1", "OOMKilled", "0"),
        (pod(phase="Failed", statuses=[terminated(2)]), "0/1", "ExitCode:2", "0"),
        (pod(phase="Failed", statuses=[terminated(143, signal=15)]), "0/1", "Signal:15", "0"),
        (pod(phase="Failed", reason="Evicted"), "0/1", "Evicted", "0"),
        (pod(statuses=[running()], deleting=True), "1/1", "Terminating", "0"),
        (
            pod(phase="Succeeded", statuses=[terminated(0, "Completed")], deleting=True),
            "0/1",
            "Completed",
            "0",
        ),
        (pod(statuses=[running()], reason="NodeLost", deleting=True), "1/1", "Unknown", "0"),
        (
            pod(
                phase="Pending",
                conditions=[
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            ),
            "0/1",
            "SchedulingGated",
            "0",
        ),
        (
            pod(
                containers=2,
                statuses=[terminated(0, "Completed", name="job"), running(name="helper")],
                conditions=[{"type": "Ready", "status": "True"}],
            ),
            "1/2",
            "Running",
            "0",
        ),
        (
            pod(
                containers=2,
                statuses=[terminated(0, "Completed", name="job"), running(name="helper")],
                conditions=[{"type": "Ready", "status": "False"}],
            ),
            "1/2",
            "NotReady",
            "0",
        ),
        (
            pod(
                containers=2,
                statuses=[
                    waiting("CrashLoopBackOff", name="a"),
                    waiting("ImagePullBackOff", name="b"),
                ],
            ),
            "0/2",
            "CrashLoopBackOff",
            "0",
        ),
        (
            pod(
                init_containers=SIDECAR_INIT,
                init_statuses=[
                    with_last_termination(
                        {**running(restarts=2, name="proxy"), "started": True}, 600
                    )
                ],
                statuses=[with_last_termination(running(restarts=1), 90)],
            ),
            "2/2",
            "Running",
            "3 (90s ago)",
        ),
        (
            pod(
                phase="Pending",
                init_containers=SIDECAR_INIT + PLAIN_INIT,
                init_statuses=[
                    {**running(name="proxy"), "started": True},
                    running(ready=False, name="init"),
                ],
            ),
            "1/2",
            "Init:1/2",
            "0",
        ),
    ],
    ids=[
        "pending-unscheduled",
        "container-creating",
        "running-ready",
        "running-not-ready",
        "crash-loop-with-restart-age",
        "restarts-without-termination-time",
        "image-pull-error",
        "init-0-of-1",
        "init-1-of-2",
        "init-crash-loop",
        "init-error",
        "init-exit-code",
        "init-signal",
        "initialized-condition-overrides-init-state",
        "completed",
        "error",
        "oom-killed",
        "exit-code",
        "signal",
        "evicted",
        "terminating",
        "deleted-after-completion-stays-completed",
        "node-lost",
        "scheduling-gated",
        "completed-with-running-sidecar-ready",
        "completed-with-running-sidecar-not-ready",
        "first-container-has-the-last-word",
        "sidecar-counts-as-container",
        "sidecar-started-then-init-pending",
    ],
)
def test_pod_ready_status_restarts(
    obj: dict[str, Any], ready: str, status: str, restarts: str
) -> None:
    cells = print_pod(obj).cells
    assert cells[0] == "web"
    assert cells[1:4] == (ready, status, restarts)
    assert cells[4] == "5m"


def test_pod_wide_columns() -> None:
    obj = pod(statuses=[running()])
    obj["spec"]["nodeName"] = "node-1"
    obj["spec"]["readinessGates"] = [{"conditionType": "www.example.com/a"}, {"conditionType": "b"}]
    obj["status"]["podIP"] = "10.244.0.7"
    obj["status"]["podIPs"] = [{"ip": "10.244.0.7"}, {"ip": "fd00::7"}]
    obj["status"]["nominatedNodeName"] = "node-2"
    obj["status"]["conditions"] = [
        {"type": "www.example.com/a", "status": "True"},
        {"type": "b", "status": "False"},
    ]
    assert print_pod(obj).cells[5:] == ("10.244.0.7", "node-1", "node-2", "1/2")


def test_pod_wide_columns_unset() -> None:
    assert print_pod(pod(phase="Pending")).cells[5:] == ("<none>", "<none>", "<none>", "<none>")


def test_pod_ip_from_pod_ips_alone() -> None:
    obj = pod(statuses=[running()])
    obj["status"]["podIPs"] = [{"ip": "fd00::7"}]
    assert print_pod(obj).cells[5] == "fd00::7"


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (
            "Succeeded",
            (
                RowCondition(
                    "Completed", "True", "Succeeded", "The pod has completed successfully."
                ),
            ),
        ),
        ("Failed", (RowCondition("Completed", "True", "Failed", "The pod failed."),)),
        ("Running", ()),
        ("Pending", ()),
    ],
    ids=["succeeded", "failed", "running", "pending"],
)
def test_pod_row_conditions(phase: str, expected: tuple[RowCondition, ...]) -> None:
    assert print_pod(pod(phase=phase)).conditions == expected


def test_pod_without_anything_still_prints() -> None:
    assert print_pod({}).cells == (
        "",
        "0/0",
        "",
        "0",
        "<unknown>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    )


def test_pod_column_definitions() -> None:
    columns = printer_for(("", "Pod")).columns
    assert [(c.name, c.type, c.format, c.priority) for c in columns] == [
        ("Name", "string", "name", 0),
        ("Ready", "string", "", 0),
        ("Status", "string", "", 0),
        ("Restarts", "string", "", 0),
        ("Age", "string", "", 0),
        ("IP", "string", "", 1),
        ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1),
        ("Readiness Gates", "string", "", 1),
    ]
