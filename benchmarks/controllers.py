"""A Deployment of N replicas to all pods created, and its deletion to all pods gone, next to
the same number of pod creates and deletes sent directly by a client, in the same run.

Starts a real cluster (``kubeward.testing.running_cluster``: the in-process controller-manager,
each controller with its own service-account token). The baseline is the admin client creating
N pods (then deleting them) in one namespace, all requests issued at once over the client's
connection pool, as the replicaset controller issues its creations. The Deployment is then
created in a second namespace; its figure runs from the create until a watch has seen N pods
(deployment → ReplicaSet → pods, through two controllers, expectations and slow-start batches),
and from its (background) deletion until the watch has seen N pods deleted (through the garbage
collector: Deployment gone → ReplicaSet collected → pods collected).

    python benchmarks/controllers.py [N]      # N defaults to 1000
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from kubeward.api.resources.apps import DEPLOYMENTS
from kubeward.api.resources.core import NAMESPACES, PODS
from kubeward.client.api import APIClient
from kubeward.testing import running_cluster


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "direct"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


def deployment(replicas: int) -> dict[str, Any]:
    labels = {"app": "bench"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


async def count_events(
    client: APIClient, namespace: str, kind: str, wanted: int, ready: asyncio.Event
) -> float:
    """The moment (perf_counter) the watch has seen ``wanted`` events of ``kind``."""
    listed = await client.list(PODS, namespace, params={"limit": "1"})
    revision = str(listed["metadata"]["resourceVersion"])
    seen = 0
    ready.set()
    while True:
        async for event in client.watch(PODS, namespace, resource_version=revision):
            revision = str(event.object.get("metadata", {}).get("resourceVersion") or revision)
            if event.type == kind:
                seen += 1
                if seen >= wanted:
                    return time.perf_counter()


async def timed(client: APIClient, namespace: str, kind: str, wanted: int, action: Any) -> float:
    ready = asyncio.Event()
    watcher = asyncio.create_task(count_events(client, namespace, kind, wanted, ready))
    await ready.wait()
    start = time.perf_counter()
    await action()
    done = await asyncio.wait_for(watcher, timeout=600)
    return done - start


async def scenario(admin: Path, n: int) -> tuple[float, float, float, float]:
    async with (
        APIClient.from_kubeconfig(admin) as client,
        APIClient.from_kubeconfig(admin) as watcher,
    ):
        for ns in ("bench-direct", "bench-deploy"):
            await client.create(NAMESPACES, {"metadata": {"name": ns}})

        async def create_direct() -> None:
            await asyncio.gather(
                *(client.create(PODS, pod(f"p-{i}"), "bench-direct") for i in range(n))
            )

        async def delete_direct() -> None:
            await asyncio.gather(*(client.delete(PODS, f"p-{i}", "bench-direct") for i in range(n)))

        async def create_deployment() -> None:
            await client.create(DEPLOYMENTS, deployment(n), "bench-deploy")

        async def delete_deployment() -> None:
            await client.delete(DEPLOYMENTS, "bench", "bench-deploy")

        direct_create = await timed(watcher, "bench-direct", "ADDED", n, create_direct)
        direct_delete = await timed(watcher, "bench-direct", "DELETED", n, delete_direct)
        deploy_create = await timed(watcher, "bench-deploy", "ADDED", n, create_deployment)
        deploy_delete = await timed(watcher, "bench-deploy", "DELETED", n, delete_deployment)
        return direct_create, direct_delete, deploy_create, deploy_delete


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with running_cluster() as cluster:
        dc, dd, pc, pd = asyncio.run(scenario(cluster.admin_kubeconfig, n))
    print(f"controllers: {n} pods")
    print(f"  create  direct client {dc:7.2f}s ({n / dc:7.0f} pods/s)")
    print(f"          deployment    {pc:7.2f}s ({n / pc:7.0f} pods/s)  x{pc / dc:.2f} of direct")
    print(f"  delete  direct client {dd:7.2f}s ({n / dd:7.0f} pods/s)")
    print(f"          deployment GC {pd:7.2f}s ({n / pd:7.0f} pods/s)  x{pd / dd:.2f} of direct")


if __name__ == "__main__":
    main()
