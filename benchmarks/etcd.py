"""kubeward on etcd, next to raw etcd from the same client and kubeward on SQLite, same run.

    PYTHONPATH=src python benchmarks/etcd.py [--creates 2000] [--gets 4000] [--clients 32]

Starts a 3-member etcd cluster with mutual TLS (kubeward's etcd PKI), then two ``kubeward up``
processes (uvloop, as users run it): one with ``--etcd`` on that cluster, one on SQLite. For
each it measures, over HTTPS with the admin client certificate and ``--clients`` concurrent
clients: ConfigMap creates per second, GET of one ConfigMap (p50/p99), and the latency of a
list of 1,000 ConfigMaps (median of 10). Next to them, the raw etcd figures from kubeward's own
etcd clients, gRPC (the default) and the JSON gateway: create transactions per second at the
same concurrency, point reads p50/p99, and a range read of the same 1,000 keys. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

import aiohttp
import orjson

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.storage.etcd.client import Compare, EtcdClient, Put, prefix_range_end
from kubeward.storage.etcd.local import free_port
from kubeward.storage.etcd.transports import new_client
from kubeward.testing.etcd import etcd_config, running_etcd

SRC = Path(__file__).resolve().parents[1] / "src"
VALUE = "v" * 900  # ~1 KB objects
LIST_SIZE = 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def concurrently(
    n: int, clients: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    counter = itertools.count()
    latencies: list[float] = []

    async def worker() -> None:
        while (i := next(counter)) < n:
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return n / (time.perf_counter() - started), latencies


def start_up(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubeward",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("kubeward is up"):
        proc.kill()
        raise SystemExit(f"kubeward up {' '.join(extra)} did not start: {line!r}")
    return proc


async def through_kubeward(
    url: str, context: ssl.SSLContext, args: argparse.Namespace, tag: str
) -> dict[str, float]:
    json_headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(ssl=context, limit=args.clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(namespace: str, name: str) -> None:
            body = orjson.dumps({"metadata": {"name": name}, "data": {"k": VALUE}})
            path = f"{url}/api/v1/namespaces/{namespace}/configmaps"
            async with session.post(path, data=body, headers=json_headers) as response:
                await response.read()
                assert response.status == 201, response.status

        for namespace in (f"bench-{tag}", f"list-{tag}"):
            body = orjson.dumps({"metadata": {"name": namespace}})
            async with session.post(
                f"{url}/api/v1/namespaces", data=body, headers=json_headers
            ) as r:
                await r.read()
        rate, _ = await concurrently(
            args.creates, args.clients, lambda i: post(f"bench-{tag}", f"c-{i}")
        )
        await concurrently(LIST_SIZE, args.clients, lambda i: post(f"list-{tag}", f"l-{i:04}"))

        async def get(i: int) -> None:
            async with session.get(
                f"{url}/api/v1/namespaces/bench-{tag}/configmaps/c-0"
            ) as response:
                await response.read()
                assert response.status == 200, response.status

        _, gets = await concurrently(args.gets, args.clients, get)
        lists = []
        for _ in range(10):
            started = time.perf_counter()
            async with session.get(f"{url}/api/v1/namespaces/list-{tag}/configmaps") as response:
                assert len(orjson.loads(await response.read())["items"]) >= LIST_SIZE
            lists.append(time.perf_counter() - started)
    return {
        "creates/s": rate,
        "GET p50 ms": percentile(gets, 0.5) * 1000,
        "GET p99 ms": percentile(gets, 0.99) * 1000,
        "list 1000 ms": statistics.median(lists) * 1000,
    }


async def raw_etcd(client: EtcdClient, args: argparse.Namespace, tag: str) -> dict[str, float]:
    async def create(i: int) -> None:
        key = f"/raw-{tag}/configmaps/c-{i}".encode()
        await client.txn([Compare(key, "MOD", "EQUAL", 0)], [Put(key, VALUE.encode())], [])

    rate, _ = await concurrently(args.creates, args.clients, create)
    _, gets = await concurrently(
        args.gets, args.clients, lambda i: client.range(f"/raw-{tag}/configmaps/c-0".encode())
    )
    prefix = b"/registry/configmaps/list-etcd/"
    ranges = []
    for _ in range(10):
        started = time.perf_counter()
        assert len((await client.range(prefix, prefix_range_end(prefix))).kvs) >= LIST_SIZE
        ranges.append(time.perf_counter() - started)
    return {
        "creates/s": rate,
        "GET p50 ms": percentile(gets, 0.5) * 1000,
        "GET p99 ms": percentile(gets, 0.99) * 1000,
        "list 1000 ms": statistics.median(ranges) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_etcd(Path(tmp) / "etcd") as cluster:
        etcd_dir = Path(tmp) / "etcd"
        cluster.write_state(etcd_dir / "etcd-cluster.json")
        servers = {
            "etcd": start_up(etcd_dir, free_port(), "--etcd"),
            "sqlite": start_up(Path(tmp) / "sqlite", free_port()),
        }
        try:
            figures: dict[str, dict[str, float]] = {}
            for name in servers:
                data_dir = etcd_dir if name == "etcd" else Path(tmp) / "sqlite"
                credentials = ClientCredentials.from_kubeconfig(data_dir / "admin.conf")
                figures[f"kubeward on {name}"] = asyncio.run(
                    through_kubeward(credentials.server, credentials.ssl_context, args, name)
                )

            async def raw(transport: Literal["grpc", "gateway"]) -> dict[str, float]:
                client = new_client(etcd_config(cluster, transport=transport))
                try:
                    return await raw_etcd(client, args, transport)
                finally:
                    await client.close()

            figures["raw etcd, gRPC client"] = asyncio.run(raw("grpc"))
            figures["raw etcd, JSON gateway client"] = asyncio.run(raw("gateway"))
        finally:
            for proc in servers.values():
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    columns = ["creates/s", "GET p50 ms", "GET p99 ms", "list 1000 ms"]
    print(f"3-member etcd with mTLS; {args.clients} clients; ~1 KB ConfigMaps")
    print(f"{'':30}" + "".join(f"{c:>14}" for c in columns))
    for name, row in figures.items():
        print(f"{name:30}" + "".join(f"{row[c]:14.1f}" for c in columns))


if __name__ == "__main__":
    main()
