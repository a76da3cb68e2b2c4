"""The informer over HTTPS: a real server, kubeward's APIClient, a compacted history, a relist."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from kubeward.api.resources.core import CONFIGMAPS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource, Listed, SourceEvent
from kubeward.testing.cluster import Cluster


class CuttableSource:
    """The real client source; the test ends its first watch and holds the next one."""

    def __init__(self, inner: ClientSource) -> None:
        self.inner = inner
        self.cut = asyncio.Event()
        self.resume = asyncio.Event()
        self.watched_from: list[str] = []
        self.lists = 0

    @property
    def resource_type(self) -> ResourceType:
        return self.inner.resource_type

    async def list(self) -> Listed:
        self.lists += 1
        return await self.inner.list()

    async def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]:
        self.watched_from.append(resource_version)
        if len(self.watched_from) > 1:
            await self.resume.wait()
        async with contextlib.aclosing(self.inner.watch(resource_version)) as events:
            async for event in events:
                if self.cut.is_set() and len(self.watched_from) == 1:
                    return
                yield event


def ours(cache: dict[str, Any]) -> list[str]:
    """The test's own keys (the root-CA publisher keeps ``kube-root-ca.crt`` in every namespace)."""
    return sorted(key for key in cache if not key.endswith("/kube-root-ca.crt"))


def configmap(name: str, value: str = "1") -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"a": value}}


def test_informer_over_https_relists_after_410_and_reports_what_vanished(
    kubeward_cluster: Cluster,
) -> None:
    async def scenario() -> tuple[list[tuple[str, str]], list[str], CuttableSource]:
        async with APIClient.from_kubeconfig(kubeward_cluster.admin_kubeconfig) as client:

            async def on_server_loop(coro: Any) -> Any:
                future = asyncio.run_coroutine_threadsafe(coro, kubeward_cluster._loop)
                return await asyncio.wrap_future(future)

            await client.create(CONFIGMAPS, configmap("a"), namespace="default")
            await client.create(CONFIGMAPS, configmap("b"), namespace="default")
            source = CuttableSource(ClientSource(client, CONFIGMAPS, namespace="default"))
            informer = Informer(source, resync=0)
            seen: list[tuple[str, str]] = []
            informer.add_event_handler(
                on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
                on_update=lambda _old, new: seen.append(("update", new["metadata"]["name"])),
                on_delete=lambda o: seen.append(("delete", o["metadata"]["name"])),
            )
            task = asyncio.create_task(informer.run())
            await informer.synced.wait()
            await client.patch(CONFIGMAPS, "b", {"data": {"a": "2"}}, namespace="default")
            for _ in range(500):
                if ("update", "b") in seen:
                    break
                await asyncio.sleep(0.01)
            source.cut.set()
            await client.delete(CONFIGMAPS, "a", namespace="default")
            await client.create(CONFIGMAPS, configmap("c"), namespace="default")
            backend = kubeward_cluster._running.backend
            await on_server_loop(backend.compact(await on_server_loop(backend.current_revision())))
            source.resume.set()
            for _ in range(500):
                if ours(informer.cache) == ["default/b", "default/c"] and ("add", "c") in seen:
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            result = seen, ours(informer.cache), source
        # The cancelled watch's TLS connection finishes closing on the next turns of the loop
        # (aiohttp's advice for a clean shutdown); asyncio.run would otherwise close it unfinished.
        await asyncio.sleep(0.25)
        return result

    seen, keys, source = asyncio.run(scenario())
    assert keys == ["default/b", "default/c"]
    assert source.lists == 2
    after_cut = seen[seen.index(("update", "b")) + 1 :]
    # Over HTTPS the first re-watch from the compacted revision is 410 Gone: list again.
    assert ("delete", "a") in after_cut and ("add", "c") in after_cut
    assert after_cut.index(("delete", "a")) < after_cut.index(("add", "c"))
