"""No acknowledged write lost when etcd members die: two API servers, 32 writers, SIGKILL.

A cluster of its own (members are killed here), two API servers over it, 32 concurrent writers
split between them and one watcher through each. The leader is SIGKILLed mid-run and restarted;
then every create an API server acknowledged must be stored with its value, and each watcher must
have seen it exactly once. With two of three members dead a write fails with a Status (503 or
504) instead of hanging and /readyz says ``[-]etcd failed`` while /livez stays ok; once they are
back writes succeed without restarting anything.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import aiohttp
import pytest

from kubeward.api.resources.core import CONFIGMAPS
from kubeward.client.api import APIClient, ServerUnreachable
from kubeward.errors import StatusError, StorageTimeout, StorageUnavailable
from kubeward.storage.etcd.backend import EtcdBackend
from kubeward.storage.etcd.config import EtcdConfig
from kubeward.storage.etcd.local import LocalCluster, Member
from kubeward.storage.etcd.transports import new_client
from kubeward.testing import Cluster, running_cluster
from kubeward.testing.etcd import etcd_config, running_etcd

NAMESPACE = "default"
WRITERS = 32
DEADLINE = 30.0  # seconds; only a lost event or a hang gets near it


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[LocalCluster]:
    with running_etcd(tmp_path / "etcd") as cluster:
        yield cluster


@pytest.fixture
def servers(etcd: LocalCluster, tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    options = {"etcd": etcd_config(etcd, "/registry")}
    with (
        running_cluster(data_dir=tmp_path / "a", server_options=options) as a,
        running_cluster(data_dir=tmp_path / "b", server_options=options) as b,
    ):
        yield a, b


async def leader_of(etcd: LocalCluster) -> Member:
    client = new_client(EtcdConfig(tuple(etcd.endpoints), etcd.client_tls, attempts=1))
    try:
        for member in etcd.members:
            if member.running:
                with contextlib.suppress(Exception):
                    status = await client.status(member.client_url)
                    if status.leader_id == status.member_id:
                        return member
    finally:
        await client.close()
    raise AssertionError("no leader")


def configmap(name: str, value: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }


async def until(condition: object, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.05)


def test_no_acknowledged_write_is_lost_when_the_leader_dies(
    etcd: LocalCluster, servers: tuple[Cluster, Cluster]
) -> None:
    async def scenario() -> None:
        clients = [APIClient.from_kubeconfig(s.admin_kubeconfig) for s in servers]
        start_rv = (await clients[0].list(CONFIGMAPS, NAMESPACE))["metadata"]["resourceVersion"]
        seen: list[collections.Counter[str]] = [collections.Counter(), collections.Counter()]
        acked: dict[str, str] = {}
        stop = asyncio.Event()

        async def watch(index: int) -> None:
            async for event in clients[index].watch(
                CONFIGMAPS, NAMESPACE, resource_version=start_rv, timeout_seconds=120
            ):
                if event.type == "ADDED":
                    seen[index][event.object["metadata"]["name"]] += 1

        async def writer(w: int) -> None:
            client = clients[w % 2]
            n = 0
            while not stop.is_set():
                n += 1
                name, value = f"w{w:02}-{n:04}", f"{w}:{n}"
                try:
                    await client.create(CONFIGMAPS, configmap(name, value), NAMESPACE)
                except StatusError:
                    continue  # refused or unknown outcome: not acknowledged
                acked[name] = value

        watchers = [asyncio.create_task(watch(i)) for i in (0, 1)]
        writers = [asyncio.create_task(writer(w)) for w in range(WRITERS)]
        try:
            await until(lambda: len(acked) >= 100)
            leader = await leader_of(etcd)
            etcd.kill(leader)
            before_kill = len(acked)
            await until(lambda: len(acked) >= before_kill + 100)  # writes go on without it
            await asyncio.to_thread(etcd.restart, leader)
            after_restart = len(acked)
            await until(lambda: len(acked) >= after_restart + 50)
        finally:
            stop.set()
            await asyncio.gather(*writers)
        try:
            for counter in seen:
                await until(lambda c=counter: all(name in c for name in acked))  # type: ignore[misc]
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
        for client in clients:
            stored = await client.list(CONFIGMAPS, NAMESPACE)
            values = {o["metadata"]["name"]: o.get("data", {}).get("v") for o in stored["items"]}
            assert {name: values.get(name) for name in acked} == acked
        for counter in seen:
            assert [name for name, count in counter.items() if count != 1] == []
        for client in clients:
            await client.close()

    asyncio.run(scenario())


async def health(client: APIClient, path: str) -> tuple[int, str]:
    connector = aiohttp.TCPConnector(ssl=client.credentials.ssl_context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(client.server + path, timeout=aiohttp.ClientTimeout(total=30)) as response,
    ):
        return response.status, await response.text()


def test_writes_fail_with_a_status_without_quorum_and_resume_after(
    etcd: LocalCluster, servers: tuple[Cluster, Cluster]
) -> None:
    async def scenario() -> None:
        client = APIClient.from_kubeconfig(servers[0].admin_kubeconfig)
        try:
            await client.create(CONFIGMAPS, configmap("before", "1"), NAMESPACE)
            for member in etcd.members[1:]:
                etcd.kill(member)
            with pytest.raises(StatusError) as caught:
                await client.request(
                    "POST",
                    client.path(CONFIGMAPS, NAMESPACE),
                    body=configmap("during", "2"),
                    timeout=20.0,  # the API server must answer well before this
                )
            assert not isinstance(caught.value, ServerUnreachable), caught.value  # answered
            assert caught.value.code in (503, 504), caught.value
            ready, ready_text = await health(client, "/readyz?verbose")
            live, _ = await health(client, "/livez?verbose")
            assert (ready, live) == (500, 200)
            assert "[-]etcd failed" in ready_text.splitlines()
            for member in etcd.members[1:]:
                await asyncio.to_thread(etcd.restart, member)
            end = time.monotonic() + DEADLINE
            while True:
                try:
                    await client.create(CONFIGMAPS, configmap("after", "3"), NAMESPACE)
                    break
                except StatusError:
                    assert time.monotonic() < end, "writes did not resume"
                    await asyncio.sleep(0.2)
            stored = await client.list(CONFIGMAPS, NAMESPACE)
            names = {o["metadata"]["name"] for o in stored["items"]}
            assert {"before", "after"} <= names
        finally:
            await client.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("transport", ["grpc", "gateway"])
def test_a_watch_resumes_on_another_member_without_missing_or_repeating(
    etcd: LocalCluster, transport: Literal["grpc", "gateway"]
) -> None:
    """Every client starts on the first member; killing it moves the writer and the watch."""

    async def scenario() -> None:
        backend = EtcdBackend(etcd_config(etcd, "/resume/registry", transport=transport))
        await backend.start()
        try:
            start = await backend.current_revision()
            seen: list[tuple[str, int]] = []

            async def watch() -> None:
                async for event in backend.watch("/registry/", start):
                    seen.append((event.key, event.revision))

            watcher = asyncio.create_task(watch())
            written = []
            for i in range(60):
                if i == 20:
                    etcd.kill(etcd.members[0])
                if i == 40:
                    await asyncio.to_thread(etcd.restart, etcd.members[0])
                key = f"/registry/pods/default/p{i:02}"
                while True:
                    try:
                        kv = await backend.create(key, b"x")
                        break
                    except StorageTimeout:  # unknown outcome while the leader moves: look
                        with contextlib.suppress(StorageTimeout, StorageUnavailable):
                            found = await backend.get(key)
                            if found is not None:
                                kv = found
                                break
                written.append((kv.key, kv.mod_revision))
            await until(lambda: len(seen) >= len(written))
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            assert seen == written
        finally:
            await backend.close()

    asyncio.run(scenario())
