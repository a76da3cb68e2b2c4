"""Simulated load: busy loops and ``stress`` use CPU and memory while they run, capped by the
container's limits, which is what ``/stats/summary`` (and so ``kubectl top`` and the
autoscaler) report."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeward.node import commands
from kubeward.node.filesystem import FileSystem
from kubeward.node.kubelet_api import container_usage
from kubeward.node.runtime import Container

MI = 1024 * 1024
T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)

PROGRAMS = {
    "a busy loop is one core": (["sh", "-c", "while true; do :; done"], 1.0, 0),
    "while : is the same loop": (["sh", "-c", "while :; do echo -n; done"], 1.0, 0),
    "a loop that sleeps is idle": (["sh", "-c", "while true; do sleep 5; done"], 0.0, 0),
    "stress --cpu 2": (["stress", "--cpu", "2"], 2.0, 0),
    "stress-ng -c 1 -m 2 --vm-bytes 64M": (
        ["stress-ng", "-c", "1", "-m", "2", "--vm-bytes", "64M"],
        1.0,
        128 * MI,
    ),
    "stress --vm 1 takes 256M by default": (["stress", "--vm", "1"], 0.0, 256 * MI),
}


@pytest.mark.parametrize(("argv", "cores", "memory"), PROGRAMS.values(), ids=PROGRAMS.keys())
def test_load_of_a_running_process(argv: list[str], cores: float, memory: int) -> None:
    process = commands.Process(argv, FileSystem(base={}), {}, T0)
    assert process.running
    assert (process.output.cpu_cores, process.output.memory_bytes) == (cores, memory)
    process.kill(137, T0)
    assert (process.output.cpu_cores, process.output.memory_bytes) == (0.0, 0)


def test_stress_with_a_timeout_ends_after_it_and_stops_using_the_cpu() -> None:
    process = commands.Process(
        ["stress", "--cpu", "1", "--timeout", "60s"], FileSystem(base={}), {}, T0
    )
    assert (
        process.output.stdout == b"stress: info: [1] dispatching hogs: 1 cpu, 0 io, 0 vm, 0 hdd\n"
    )
    process.advance(T0 + datetime.timedelta(seconds=59))
    assert (process.running, process.output.cpu_cores) == (True, 1.0)
    process.advance(T0 + datetime.timedelta(seconds=60))
    assert (process.exit_code, process.output.cpu_cores) == (0, 0.0)
    assert process.output.stdout.endswith(b"stress: info: [1] successful run completed in 60s\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stress", "--cpu", "many"], b"stress: FAIL: invalid number 'many'\n"),
        (["stress", "--vm", "1", "--vm-bytes", "lots"], b"stress: FAIL: invalid size 'lots'\n"),
        (["stress", "-c", "1", "-t", "soon"], b"stress: FAIL: invalid time 'soon'\n"),
    ],
    ids=["count", "size", "timeout"],
)
def test_stress_refuses_what_it_cannot_read(argv: list[str], message: bytes) -> None:
    assert commands.run(argv, FileSystem(base={}), {}) == commands.Outcome(b"", message, 1)


def container(argv: list[str], limits: dict[str, Any] | None = None) -> Container:
    spec: dict[str, Any] = {"name": "app", "command": argv}
    if limits:
        spec["resources"] = {"limits": limits}
    c = Container(spec, FileSystem(base={}), {})
    c.start(T0)
    return c


USAGE = {
    "idle": ([], None, (1_000_000, 8 * MI)),
    "busy": (["sh", "-c", "while true; do :; done"], None, (1_001_000_000, 8 * MI)),
    "busy, capped at 200m": (
        ["sh", "-c", "while true; do :; done"],
        {"cpu": "200m"},
        (200_000_000, 8 * MI),
    ),
    "stress, memory capped at 100Mi": (
        ["stress", "--vm", "1"],
        {"memory": "100Mi"},
        (1_000_000, 100 * MI),
    ),
}


@pytest.mark.parametrize(("argv", "limits", "usage"), USAGE.values(), ids=USAGE.keys())
def test_container_usage(
    argv: list[str], limits: dict[str, Any] | None, usage: tuple[int, int]
) -> None:
    assert container_usage(container(argv, limits)) == usage


def test_an_ended_container_uses_nothing_of_its_own() -> None:
    c = container(["stress", "--cpu", "1", "--timeout", "1"])
    c.sync(T0 + datetime.timedelta(seconds=2))
    assert c.load == (0.0, 0)
