"""Which transport should the etcd client use? The JSON gateway over aiohttp against gRPC, measured.

    PYTHONPATH=src python benchmarks/etcd_transport.py [--puts 3000] [--concurrency 32]

Starts a local 3-member etcd cluster with mutual TLS (kubeward's etcd PKI, as in the tests) and,
for each transport, measures puts/s with ``--concurrency`` writers and the latency of a range
read of 1,000 keys of 1 KB. gRPC is aetcd (``pip install aetcd``) with a small subclass that
opens a TLS channel with the client certificate (aetcd has no TLS option). Both talk to the
same member. Not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kubeward.storage.etcd.client import Put, prefix_range_end
from kubeward.storage.etcd.config import EtcdConfig
from kubeward.storage.etcd.gateway import GatewayClient
from kubeward.testing.etcd import running_etcd

VALUE = b"x" * 1000
RANGE_KEYS = 1000


async def put_rate(put: Callable[[bytes, bytes], Awaitable[Any]], n: int, width: int) -> float:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await put(f"/bench/puts/{i:07}".encode(), VALUE)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return n / (time.perf_counter() - start)


async def range_ms(read: Callable[[], Awaitable[int]], rounds: int = 20) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        count = await read()
        times.append((time.perf_counter() - start) * 1000)
        assert count == RANGE_KEYS, count
    return statistics.median(times)


async def gateway(config: EtcdConfig, n: int, width: int) -> tuple[float, float]:
    client = GatewayClient(config)
    try:

        async def put(key: bytes, value: bytes) -> None:
            await client.txn([], [Put(key, value)], [])

        for i in range(RANGE_KEYS):
            await put(f"/bench/range/{i:05}".encode(), VALUE)

        async def read() -> int:
            start = b"/bench/range/"
            return len((await client.range(start, prefix_range_end(start))).kvs)

        return await put_rate(put, n, width), await range_ms(read)
    finally:
        await client.close()


async def grpc(config: EtcdConfig, n: int, width: int) -> tuple[float, float]:
    import aetcd  # type: ignore[import-not-found]
    import grpc as grpclib  # type: ignore[import-not-found]
    from aetcd import rpc

    assert config.tls is not None
    tls = config.tls

    class TLSClient(aetcd.Client):  # type: ignore[misc]
        async def connect(self) -> None:
            credentials = grpclib.ssl_channel_credentials(
                tls.ca_file.read_bytes(), tls.key_file.read_bytes(), tls.cert_file.read_bytes()
            )
            self.channel = grpclib.aio.secure_channel(f"{self._host}:{self._port}", credentials)
            self.kvstub = rpc.KVStub(self.channel)
            self._connected.set()

    host, port = config.endpoints[0].removeprefix("https://").split(":")
    client = TLSClient(host, int(port))
    await client.connect()
    try:

        async def put(key: bytes, value: bytes) -> None:
            await client.kvstub.Put(rpc.PutRequest(key=key, value=value))

        async def read() -> int:
            start = b"/bench/range/"
            request = rpc.RangeRequest(key=start, range_end=prefix_range_end(start))
            return len((await client.kvstub.Range(request)).kvs)

        return await put_rate(put, n, width), await range_ms(read)
    finally:
        await client.channel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_etcd(Path(tmp)) as cluster:
        config = EtcdConfig((cluster.endpoints[0],), cluster.client_tls)
        print(f"3-member etcd, mutual TLS; {args.puts} puts of 1 KB, {args.concurrency} writers")
        for name, run in (("JSON gateway / aiohttp", gateway), ("gRPC / aetcd+TLS", grpc)):
            try:
                rate, ms = asyncio.run(run(config, args.puts, args.concurrency))
            except ImportError as exc:
                print(f"{name:24} skipped: {exc}")
                continue
            print(f"{name:24} {rate:8.0f} puts/s   range of {RANGE_KEYS} keys: {ms:6.1f} ms")


if __name__ == "__main__":
    main()
