"""Helpers for workload tests: bounded polling, and settling a rollout with Cluster.make_pods_ready."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubectl_runner import Kubectl

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll ``check`` (every 0.1 s) until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def get_json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl.run("get", *args, "-o", "json").stdout)


def settle(cluster: Any, kubectl: Kubectl, name: str, namespace: str = "default") -> Any:
    """Make the Deployment's pods Ready as they appear until its rollout is complete."""

    def complete() -> Any:
        d = get_json(kubectl, "deployment", name, "-n", namespace)
        selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
        cluster.make_pods_ready(namespace, selector)
        status, wanted = d.get("status") or {}, d["spec"]["replicas"]
        done = (
            status.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == wanted
            and status.get("replicas", 0) == wanted
            and status.get("availableReplicas", 0) == wanted
        )
        return d if done else None

    return wait_for(complete, f"deployment {name} to roll out")
