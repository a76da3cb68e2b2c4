"""managedFields' cost on the write path: the generic store with and without a field manager.

    PYTHONPATH=src python benchmarks/fieldmanager.py [--objects 3000] [--repeat 3]

Figures, each next to its baseline from the same run (in-process, memory backend, so the
HTTP stack and SQLite do not hide the difference):
  * creates/s of a ConfigMap (10 keys) and of a Deployment (one container), through
    ``Store.create`` with the request's field manager (an Update entry recorded) and without;
  * updates/s of the same Deployment changing ``spec.replicas`` (``guaranteed_update``), with
    and without;
  * server-side applies/s of that change (``FieldManager.applied`` then the store) next to the
    strategic merge patch of it.
Rates are per second of this process's CPU time (the machine may be shared). Not a test: it
prints numbers and ratios, and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from kubeward.api.patch import apply_patch
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.user import UserInfo
from kubeward.storage.memory import MemoryBackend

CONFIGMAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"labels": {"app": "bench"}},
    "data": {f"key-{i}": "v" * 40 for i in range(10)},
}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"labels": {"app": "bench"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "bench"}},
        "template": {
            "metadata": {"labels": {"app": "bench"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ]
            },
        },
    },
}
USER = UserInfo(name="bench", groups=("system:masters",))


async def _stores() -> dict[str, Store]:
    scheme, strategies = build_scheme()
    backend = MemoryBackend()
    await backend.start()
    return {rt.kind: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def _scope(manager: str) -> RequestScope:
    return RequestScope(user=USER, verb="create", field_manager=manager)


async def _rate(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    start = time.process_time()
    for i in range(n):
        await op(i)
    return n / (time.process_time() - start)


async def _creates(kind: str, body: dict[str, Any], n: int, manager: str) -> float:
    store = (await _stores())[kind]

    async def create(i: int) -> object:
        obj = copy.deepcopy(body)
        obj["metadata"]["name"] = f"o-{i}"
        return await store.create("default", obj, scope=_scope(manager))

    return await _rate(n, create)


async def _updates(n: int, manager: str, mode: str) -> float:
    store = (await _stores())["Deployment"]
    obj = copy.deepcopy(DEPLOYMENT)
    obj["metadata"]["name"] = "d"
    await store.create("default", obj, scope=_scope(manager))
    field_manager = store.field_manager
    config = {**copy.deepcopy(DEPLOYMENT), "metadata": {"name": "d"}}

    async def change(i: int) -> object:
        if mode == "apply":
            config["spec"]["replicas"] = i % 5 + 2

            def mutate(current: dict[str, Any]) -> dict[str, Any]:
                return field_manager.applied(current, copy.deepcopy(config), "bench-apply")

            scope = _scope("")
        else:
            patch = orjson.dumps({"spec": {"replicas": i % 5 + 2}})

            def mutate(current: dict[str, Any]) -> dict[str, Any]:
                return apply_patch(
                    current, patch, "application/strategic-merge-patch+json", merge_root="Workload"
                )

            scope = _scope(manager)
        return await store.guaranteed_update("default", "d", mutate, scope=scope)

    return await _rate(n, change)


def _line(label: str, runs: list[tuple[float, float]], unit: str, names: tuple[str, str]) -> None:
    mine = statistics.median(r[0] for r in runs)
    base = statistics.median(r[1] for r in runs)
    ratios = ", ".join(f"{a / b:.2f}" for a, b in runs)
    print(
        f"{label:<44} {names[0]} {mine:9.0f} {unit}   {names[1]} {base:9.0f} {unit}   "
        f"ratio {mine / base:.2f} (runs: {ratios})"
    )


async def main(objects: int, repeat: int) -> None:
    with_without = ("with", "without")
    for kind, body in (("ConfigMap", CONFIGMAP), ("Deployment", DEPLOYMENT)):
        runs = []
        for _ in range(repeat):  # turns alternate so that drift hits both sides alike
            without = await _creates(kind, body, objects, "")
            with_ = await _creates(kind, body, objects, "kubectl-create")
            runs.append((with_, without))
        _line(f"Store.create {kind}, managedFields", runs, "/s", with_without)
    runs = []
    for _ in range(repeat):
        without = await _updates(objects, "", "patch")
        with_ = await _updates(objects, "kubectl-patch", "patch")
        runs.append((with_, without))
    _line("patch Deployment spec.replicas, managedFields", runs, "/s", with_without)
    runs = []
    for _ in range(repeat):
        patch = await _updates(objects, "kubectl-patch", "patch")
        applied = await _updates(objects, "", "apply")
        runs.append((applied, patch))
    _line("apply vs strategic merge patch (both tracked)", runs, "/s", ("apply", "patch"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.objects, args.repeat))
