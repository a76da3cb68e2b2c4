"""API server throughput and watch fan-out, each next to a baseline measured in the same run.

* authenticated GET of one ConfigMap, and ConfigMap creates, over HTTPS with client
  certificates and keep-alive, from N concurrent clients — next to the same aiohttp + TLS stack
  answering a constant body (the ceiling);
* creates next to raw SQLite inserts at the same durability (WAL, synchronous=NORMAL);
* watch fan-out: W watchers on one resource while a writer makes R writes per second — events
  delivered per second and the delivery latency p99.

The server and the ceiling each run in their own process (``kubeward up`` and this file with
``--ceiling``), the load comes from this process. Usage: ``python benchmarks/api.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_ssl(kubeconfig: Path, workdir: Path) -> ssl.SSLContext:
    doc = yaml.safe_load(kubeconfig.read_text())
    user = doc["users"][0]["user"]
    ca = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    (workdir / "bench-ca.crt").write_bytes(ca)
    (workdir / "bench.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (workdir / "bench.key").write_bytes(base64.b64decode(user["client-key-data"]))
    context = ssl.create_default_context(cafile=str(workdir / "bench-ca.crt"))
    context.load_cert_chain(str(workdir / "bench.crt"), str(workdir / "bench.key"))
    return context


def wait_ready(url: str, context: ssl.SSLContext, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", context=context, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(
    url: str, context: ssl.SSLContext, clients: int, duration: float, make_request
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(ssl=context, limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        stop = time.monotonic() + duration
        counter = [0]

        async def worker(n: int) -> None:
            while time.monotonic() < stop:
                counter[0] += 1
                started = time.perf_counter()
                await make_request(session, url, n, counter[0])
                latencies.append(time.perf_counter() - started)

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    return len(latencies) / elapsed, latencies


async def get_one(session: aiohttp.ClientSession, url: str, n: int, i: int) -> None:
    async with session.get(f"{url}/api/v1/namespaces/default/configmaps/bench") as response:
        await response.read()
        assert response.status == 200, response.status


async def create_one(session: aiohttp.ClientSession, url: str, n: int, i: int) -> None:
    body = orjson.dumps({"metadata": {"name": f"c-{n}-{i}"}, "data": {"k": "v" * 64}})
    async with session.post(
        f"{url}/api/v1/namespaces/default/configmaps",
        data=body,
        headers={"Content-Type": "application/json"},
    ) as response:
        await response.read()
        assert response.status == 201, response.status


def raw_sqlite_inserts(path: Path, seconds: float) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, value BLOB)")
    value = orjson.dumps({"metadata": {"name": "x"}, "data": {"k": "v" * 64}})
    count = 0
    stop = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < stop:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO kv (name, value) VALUES (?, ?)", (f"k{count}", value))
        db.execute("COMMIT")
        count += 1
    rate = count / (time.monotonic() - started)
    db.close()
    return rate


async def watch_fanout(
    url: str, context: ssl.SSLContext, watchers: int, writes_per_second: int, seconds: float
) -> tuple[float, float, int]:
    delays: list[float] = []
    sent_at: dict[str, float] = {}
    connector = aiohttp.TCPConnector(ssl=context, limit=watchers + 4)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:
        async with session.get(f"{url}/api/v1/namespaces/default/configmaps?limit=1") as response:
            rv = (await response.json())["metadata"]["resourceVersion"]
        ready = asyncio.Semaphore(0)

        async def watcher() -> None:
            async with session.get(
                f"{url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds={int(seconds) + 5}"
            ) as response:
                ready.release()
                async for line in response.content:
                    event = orjson.loads(line)
                    name = event["object"]["metadata"]["name"]
                    if name in sent_at:
                        delays.append(time.perf_counter() - sent_at[name])

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        for _ in range(watchers):
            await ready.acquire()
        interval = 1.0 / writes_per_second
        writes = int(seconds * writes_per_second)
        started = time.monotonic()
        for i in range(writes):
            name = f"w-{i}"
            sent_at[name] = time.perf_counter()
            body = orjson.dumps({"metadata": {"name": name}})
            async with session.post(
                f"{url}/api/v1/namespaces/default/configmaps",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as response:
                await response.read()
            await asyncio.sleep(max(0.0, started + (i + 1) * interval - time.monotonic()))
        await asyncio.sleep(2)
        elapsed = time.monotonic() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    expected = writes * watchers
    return (
        len(delays) / elapsed,
        percentile(delays, 0.99) if delays else float("nan"),
        expected - len(delays),
    )


def run_ceiling_server(port: int, cert: str, key: str, ca: str) -> None:
    from aiohttp import web

    body = orjson.dumps(
        {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "bench"},
            "data": {"k": "v" * 900},
        }
    )

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    import uvloop

    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, access_log=None, print=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument(
        "--ceiling", nargs=4, metavar=("PORT", "CERT", "KEY", "CA"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.ceiling:
        run_ceiling_server(int(args.ceiling[0]), *args.ceiling[1:])
        return
    seconds = 3.0 if args.quick else 8.0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeward",
                "up",
                "--data-dir",
                str(work / "data"),
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            admin = work / "data" / "admin.conf"
            deadline = time.monotonic() + 30
            while not admin.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            context = client_ssl(admin, work)
            url = f"https://127.0.0.1:{port}"
            wait_ready(url, context)
            ceiling_port = free_port()
            pki = work / "data" / "pki"
            ceiling = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--ceiling",
                    str(ceiling_port),
                    str(pki / "apiserver.crt"),
                    str(pki / "apiserver.key"),
                    str(pki / "ca.crt"),
                ]
            )
            try:
                wait_ready(f"https://127.0.0.1:{ceiling_port}", context)

                async def setup() -> None:
                    async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(ssl=context)
                    ) as session:
                        await session.post(
                            f"{url}/api/v1/namespaces/default/configmaps",
                            data=orjson.dumps(
                                {"metadata": {"name": "bench"}, "data": {"k": "v" * 900}}
                            ),
                            headers={"Content-Type": "application/json"},
                        )

                asyncio.run(setup())
                ceiling_rate, ceiling_lat = asyncio.run(
                    load(
                        f"https://127.0.0.1:{ceiling_port}", context, args.clients, seconds, get_one
                    )
                )
            finally:
                ceiling.terminate()
                ceiling.wait()
            get_rate, get_lat = asyncio.run(load(url, context, args.clients, seconds, get_one))
            # The authorization share: one client, the same GET as kubernetes-admin (allowed by
            # RBAC through the kubeadm:cluster-admins binding) and as the system:masters
            # super-admin (allowed before RBAC is asked).
            super_context = client_ssl(work / "data" / "super-admin.conf", work)
            _, rbac_lat = asyncio.run(load(url, context, 1, seconds, get_one))
            _, masters_lat = asyncio.run(load(url, super_context, 1, seconds, get_one))
            create_rate, create_lat = asyncio.run(
                load(url, context, args.clients, seconds, create_one)
            )
            raw_rate = raw_sqlite_inserts(work / "raw.db", seconds)
            watchers = 100 if args.quick else args.watchers
            events_rate, delivery_p99, lost = asyncio.run(
                watch_fanout(url, context, watchers, 100, 3.0 if args.quick else 10.0)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:7.1f} ms"

    print(
        f"clients: {args.clients}, {seconds:.0f} s per measurement, HTTPS with client certificates, keep-alive"
    )
    print(f"{'':34}{'req/s':>10}{'p50':>12}{'p99':>12}{'ratio':>10}")
    print(
        f"{'ceiling: aiohttp constant GET':34}{ceiling_rate:10.0f}{ms(ceiling_lat, 0.5):>12}{ms(ceiling_lat, 0.99):>12}{1.0:10.2f}"
    )
    print(
        f"{'kubeward GET configmap':34}{get_rate:10.0f}{ms(get_lat, 0.5):>12}{ms(get_lat, 0.99):>12}{get_rate / ceiling_rate:10.2f}"
    )
    print(f"{'raw SQLite insert (WAL, NORMAL)':34}{raw_rate:10.0f}{'':>12}{'':>12}{1.0:10.2f}")
    print(
        f"{'kubeward create configmap':34}{create_rate:10.0f}{ms(create_lat, 0.5):>12}{ms(create_lat, 0.99):>12}{create_rate / raw_rate:10.2f}"
    )
    rbac_p50, masters_p50 = statistics.median(rbac_lat), statistics.median(masters_lat)
    print(
        f"one client GET p50: {rbac_p50 * 1000:.2f} ms through RBAC, {masters_p50 * 1000:.2f} ms as system:masters; "
        f"authorization share of the request ~ {max(0.0, rbac_p50 - masters_p50) / rbac_p50:.1%}"
    )
    print(
        f"watch fan-out: {watchers} watchers, 100 writes/s: {events_rate:.0f} events/s delivered, "
        f"delivery p99 {delivery_p99 * 1000:.1f} ms, {lost} events not yet received when the watches ended"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
