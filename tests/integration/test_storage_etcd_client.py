"""Both etcd transports report every failure as a ``kubeward.errors`` exception, never their
library's (grpc, aiohttp, ssl, JSON): the backend and the API above rely on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import pytest

from kubeward.errors import CompactedError, StorageError, StorageUnavailable
from kubeward.storage.etcd.client import EtcdClient, Put
from kubeward.storage.etcd.config import EtcdConfig, TLSFiles
from kubeward.storage.etcd.local import LocalCluster, free_port
from kubeward.storage.etcd.transports import new_client

TRANSPORTS = ["grpc", "gateway"]
Transport = Literal["grpc", "gateway"]


def run_with(config: EtcdConfig, action: Callable[[EtcdClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        client = new_client(config)
        try:
            return await action(client)
        finally:
            await client.close()

    return asyncio.run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_nothing_listening_is_storage_unavailable(
    etcd_cluster: LocalCluster, transport: Transport
) -> None:
    config = EtcdConfig(
        (f"https://127.0.0.1:{free_port()}",), etcd_cluster.client_tls, transport=transport
    )
    with pytest.raises(StorageUnavailable):
        run_with(config, lambda c: c.range(b"/registry/"))
    with pytest.raises(StorageUnavailable):  # a write that was never sent is not "unknown"
        run_with(config, lambda c: c.txn([], [Put(b"/registry/x", b"1")], []))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_server_outside_the_trusted_ca_is_storage_unavailable(
    etcd_cluster: LocalCluster, transport: Transport
) -> None:
    tls = etcd_cluster.client_tls
    wrong_ca = TLSFiles(etcd_cluster.pki_dir / "ca.crt", tls.cert_file, tls.key_file)
    config = EtcdConfig(tuple(etcd_cluster.endpoints), wrong_ca, transport=transport)
    with pytest.raises(StorageUnavailable):
        run_with(config, lambda c: c.range(b"/registry/"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_revision_errors_are_typed(etcd_cluster: LocalCluster, transport: Transport) -> None:
    config = EtcdConfig(tuple(etcd_cluster.endpoints), etcd_cluster.client_tls, transport=transport)
    key = f"/typed-{transport}/k".encode()

    async def scenario(client: EtcdClient) -> None:
        first = await client.txn([], [Put(key, b"1")], [])
        second = await client.txn([], [Put(key, b"2")], [])
        with pytest.raises(StorageError) as future:
            await client.range(key, revision=second.revision + 1000)
        assert not isinstance(future.value, CompactedError)
        await client.compact(second.revision)
        with pytest.raises(CompactedError):
            await client.range(key, revision=first.revision)
        stream = client.watch(key, b"", first.revision)
        with pytest.raises(CompactedError):
            await asyncio.wait_for(anext(stream), 30)

    run_with(config, scenario)
