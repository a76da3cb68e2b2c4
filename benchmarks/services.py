"""Service allocation benchmark: Service creates next to ConfigMap creates, same store, same run.

    PYTHONPATH=src python benchmarks/services.py [--creates 2000]

A Service create writes its object plus one key per allocation (``api.allocation.stored``):
a ClusterIP Service one address, a NodePort Service an address and a node port. The baseline
is a ConfigMap create through the same generic store over the same SQLite backend, which
writes only the object; the ratios show what the allocations cost. The last figure is the
worst case of the allocator: a range left with 1% free, where the random tries mostly miss
and each allocation lists what is taken. Not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvloop

from kubeward.api.allocation import IPRange, PortRange, ServiceAllocations
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS
from kubeward.api.resources.core_services import SERVICES
from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions

Body = Callable[[int], dict[str, Any]]


def configmap(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"cm-{i}"}, "data": {"k": "v"}}


def cluster_ip(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"svc-{i}"}, "spec": {"ports": [{"port": 80}]}}


def node_port(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"np-{i}"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}


async def rate(store: Store, n: int, body: Body, concurrency: int) -> float:
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await store.create("default", body(i))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def figures(directory: Path, n: int) -> None:
    backend = SqliteBackend(
        directory / "kubeward.db", SqliteOptions(compaction=CompactionPolicy(enabled=False))
    )
    await backend.start()
    _, strategies = build_scheme()
    configmaps = Store(CONFIGMAPS, strategies[CONFIGMAPS], backend)
    services = Store(SERVICES, strategies[SERVICES], backend)
    services.hooks = ServiceAllocations(
        backend, IPRange.parse("10.96.0.0/16"), PortRange.parse("30000-32767")
    )
    try:
        for concurrency in (1, 32):
            print(f"{n} creates, {concurrency} concurrent client(s):")
            base = await rate(
                configmaps, n, lambda i, c=concurrency: configmap(i + c * n), concurrency
            )
            print(f"  {'ConfigMap (baseline)':<36} {base:>9,.0f} /s")
            for label, body in (("ClusterIP Service", cluster_ip), ("NodePort Service", node_port)):
                count = min(n, 2000) if label.startswith("NodePort") else n
                got = await rate(
                    services, count, lambda i, b=body, c=concurrency: b(i + c * n), concurrency
                )
                print(f"  {label:<36} {got:>9,.0f} /s   {got / base:.2f}x baseline")
            # Free the allocations for the next round (deletes release them).
            for item in (await services.list("default", ListOptions()))["items"]:
                await services.delete("default", item["metadata"]["name"])
        small = Store(SERVICES, strategies[SERVICES], backend)
        small.hooks = ServiceAllocations(
            backend, IPRange.parse("10.200.0.0/22"), PortRange.parse("30000-32767")
        )
        fill = small.hooks.ip_range.size - small.hooks.ip_range.size // 100
        for i in range(fill):
            await small.hooks.addresses.allocate(str(small.hooks.ip_range.address(i)), {})
        left = small.hooks.ip_range.size - fill
        got = await rate(small, left, lambda i: cluster_ip(i + 10 * n), 1)
        print(f"a /22 with {left} of {small.hooks.ip_range.size} addresses free:")
        print(f"  {'ClusterIP Service, nearly full range':<36} {got:>9,.0f} /s")
    finally:
        await backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubeward-bench-") as directory:
        uvloop.run(figures(Path(directory), args.creates))


if __name__ == "__main__":
    main()
