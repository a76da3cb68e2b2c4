"""Simulated load: busy loops and ``stress`` use CPU and memory, capped by the container's
limits, which is what ``/stats/summary`` (and so ``kubectl top`` and the autoscaler) report."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.node import commands
from kubeward.node.filesystem import FileSystem
from kubeward.node.kubelet_api import container_usage
from kubeward.node.runtime import Container

MI = 1024 * 1024

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
def test_load_of_a_main_process(argv: list[str], cores: float, memory: int) -> None:
    outcome = commands.run(argv, FileSystem(base={}), {}, main=True)
    assert (outcome.exit_code, outcome.cpu_cores, outcome.memory_bytes) == (None, cores, memory)


def test_stress_says_what_it_dispatches_and_returns_at_once_under_exec() -> None:
    outcome = commands.run(["stress", "--cpu", "1", "--timeout", "60s"], FileSystem(base={}), {})
    assert outcome.stdout == b"stress: info: [1] dispatching hogs: 1 cpu, 0 io, 0 vm, 0 hdd\n"
    assert (outcome.exit_code, outcome.cpu_cores) == (0, 0.0)
    assert commands.run(["sh", "-c", "while true; do :; done"], FileSystem(base={}), {}) == (
        commands.Outcome()
    )


def test_stress_refuses_a_count_that_is_not_a_number() -> None:
    outcome = commands.run(["stress", "--cpu", "many"], FileSystem(base={}), {}, main=True)
    assert (outcome.stderr, outcome.exit_code) == (b"stress: FAIL: invalid number 'many'\n", 1)


def container(argv: list[str], limits: dict[str, Any] | None = None) -> Container:
    spec: dict[str, Any] = {"name": "app", "command": argv}
    if limits:
        spec["resources"] = {"limits": limits}
    c = Container(spec, FileSystem(base={}), {}, "kubeward://x")
    c.start()
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
