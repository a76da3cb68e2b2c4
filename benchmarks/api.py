"""API server throughput, list pages and watch fan-out, each next to a baseline from the same run.

Two servers run side by side, each ``kubeward up`` (on uvloop, as ``kubeward up`` always runs)
in its own process and data dir: this checkout's ``src/`` and the ``src/`` of an earlier
revision (``--compare REV``, default ``HEAD~1``: pass the commit before the change being
measured) exported with ``git archive``. Every measurement is repeated ``--repeat`` times with
the servers taking turns (the first alternating), and medians are printed with the ratio of
each run. The load comes from this process and from watch-client processes, all on uvloop.

* GET of one ConfigMap and ConfigMap creates over HTTPS with client certificates and
  keep-alive, from N concurrent clients, for both servers (is this checkout slower?), next to
  the same aiohttp + TLS stack answering a constant body (the ceiling) and raw SQLite inserts
  at the same durability (WAL, synchronous=NORMAL);
* a 500-item page of a 2,000-ConfigMap namespace (~1 KB each), one client, and the same page
  with a label selector, for both servers — next to the baseline "the storage layer reads the
  page, and the same stack sends that many bytes": ``SqliteBackend.list(prefix, limit=500)``
  on this checkout's own database file (read after its server stopped) plus a GET from the
  ceiling server of a constant body as long as the page;
* watch fan-out: W watchers of one resource (split over ``--watch-processes`` client
  processes, ``_watch_client.py``) while a writer creates 100 ConfigMaps per second; every
  event must arrive, and its delay is measured from just before its create is sent to its
  receipt — next to the storage layer's own fan-out (``SqliteBackend.watch``, same W, same
  rate) measured in this process. ``--watch-previous`` runs it once on the other server too.

Usage: ``python benchmarks/api.py [--quick] [--compare REV] [--watch-previous]``. Not a test:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import itertools
import os
import sqlite3
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import uvloop
from _servers import (  # type: ignore[import-not-found]
    HERE,
    ROOT,
    Server,
    client_ssl,
    describe,
    source_tree_at,
    start_ceiling,
    start_kubeward,
    temporary_directory,
)

from kubeward.api.resources.core import CONFIGMAPS
from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions

LIST_NAMESPACE = "bench-list"
LIST_ITEMS = 2000
PAGE = 500
WRITES_PER_SECOND = 100
JSON = {"Content-Type": "application/json"}
NAMES = itertools.count()  # create names, unique across the repeated runs

Request = Callable[[aiohttp.ClientSession, str, int, int], Awaitable[None]]


def percentile(values: list[float] | array.array[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def session_for(context: ssl.SSLContext, limit: int = 100) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context, limit=limit),
        timeout=aiohttp.ClientTimeout(total=None),
    )


# --- request rates --------------------------------------------------------------------------
async def load(
    url: str, context: ssl.SSLContext, clients: int, duration: float, make_request: Request
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    async with session_for(context, clients) as session:
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
    body = orjson.dumps({"metadata": {"name": f"c-{next(NAMES)}"}, "data": {"k": "v" * 64}})
    async with session.post(
        f"{url}/api/v1/namespaces/default/configmaps",
        data=body,
        headers=JSON,
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


# --- lists ----------------------------------------------------------------------------------
async def populate(server: Server) -> None:
    """The ``bench`` ConfigMap, and LIST_ITEMS labelled ConfigMaps in LIST_NAMESPACE."""
    async with session_for(server.context, 16) as session:

        async def post(path: str, obj: dict[str, object]) -> None:
            async with session.post(
                f"{server.url}{path}", data=orjson.dumps(obj), headers=JSON
            ) as response:
                await response.read()
                assert response.status == 201, (response.status, path)

        await post("/api/v1/namespaces/default/configmaps", bench_configmap())
        await post("/api/v1/namespaces", {"metadata": {"name": LIST_NAMESPACE}})
        path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps"
        queue = list(range(LIST_ITEMS))

        async def creator() -> None:
            while queue:
                i = queue.pop()
                labels = {"app": "bench", "shard": str(i % 10)}
                await post(
                    path,
                    {
                        "metadata": {"name": f"cm-{i:05}", "labels": labels},
                        "data": {"k": "v" * 900},
                    },
                )

        await asyncio.gather(*(creator() for _ in range(16)))


def bench_configmap() -> dict[str, object]:
    return {"metadata": {"name": "bench"}, "data": {"k": "v" * 900}}


async def page_times(
    url: str, context: ssl.SSLContext, path: str, count: int, items: int | None
) -> tuple[list[float], int]:
    """``count`` sequential GETs of ``path`` (one client): their times, and the body size."""
    times: list[float] = []
    size = 0
    async with session_for(context, 1) as session:
        for _ in range(count + 1):
            started = time.perf_counter()
            async with session.get(url + path) as response:
                body = await response.read()
                assert response.status == 200, response.status
            elapsed = time.perf_counter() - started
            if items is not None:
                assert len(orjson.loads(body)["items"]) == items
            if size:
                times.append(elapsed)  # the first request only warms the connection up
            size = len(body)
    return times, size


async def storage_page_times(database: Path, count: int) -> list[float]:
    backend = SqliteBackend(database, SqliteOptions(compaction=CompactionPolicy(enabled=False)))
    await backend.start()
    try:
        prefix = f"{CONFIGMAPS.storage_prefix()}{LIST_NAMESPACE}/"
        times = []
        for _ in range(count):
            started = time.perf_counter()
            page = await backend.list(prefix, limit=PAGE)
            times.append(time.perf_counter() - started)
            assert len(page.items) == PAGE
        return times
    finally:
        await backend.close()


# --- watch fan-out --------------------------------------------------------------------------
@dataclass
class FanOut:
    delivered_per_second: float
    p50: float
    p99: float
    delivered: int
    expected: int
    errors: int
    reads: int = 0  # how many reads the clients made: events per read shows the batching


def watch_fanout(server: Server, watchers: int, processes: int, seconds: float) -> FanOut:
    """W watchers in client processes, a writer at WRITES_PER_SECOND in this process."""
    context = server.context
    rv = uvloop.run(current_list_revision(server.url, context))
    writes = int(seconds * WRITES_PER_SECOND)
    keydir = server.data_dir.parent / f"keys-{server.label}"
    clients = []
    for n in range(processes):
        share = watchers // processes + (1 if n < watchers % processes else 0)
        out = keydir / f"watch-{n}-{time.monotonic_ns()}.bin"
        argv = [server.url, str(keydir), "admin", str(share), rv, str(writes)]
        argv += [str(seconds + 60), str(out)]
        process = subprocess.Popen(
            [sys.executable, str(HERE / "_watch_client.py"), *argv],
            stdout=subprocess.PIPE,
            env=dict(os.environ, PYTHONWARNINGS="ignore"),
        )
        clients.append((process, out))
    for process, _ in clients:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise SystemExit("a watch client failed to start")
    started = time.monotonic()
    uvloop.run(write_at_rate(server.url, context, writes))
    delays = array.array("d")
    received = errors = reads = 0
    last = started
    for process, out in clients:
        process.wait()
        with out.open("rb") as file:
            delays.frombytes(file.read())
        totals = orjson.loads(out.with_suffix(".json").read_bytes())
        received += totals["received"]
        errors += totals["errors"]
        reads += totals["reads"]
        last = max(last, totals["last"])
    return FanOut(
        received / max(last - started, 1e-9),
        percentile(delays, 0.5),
        percentile(delays, 0.99),
        received,
        writes * watchers,
        errors,
        reads,
    )


async def current_list_revision(url: str, context: ssl.SSLContext) -> str:
    path = f"{url}/api/v1/namespaces/default/configmaps?limit=1"
    async with session_for(context, 1) as session, session.get(path) as response:
        return str((await response.json())["metadata"]["resourceVersion"])


async def write_at_rate(url: str, context: ssl.SSLContext, writes: int) -> None:
    """Create ``writes`` ConfigMaps, one every 1/WRITES_PER_SECOND s, each stamped when sent."""
    tag = time.monotonic_ns()
    async with session_for(context, 8) as session:

        async def create(i: int) -> None:
            body = {"metadata": {"name": f"w-{tag}-{i}"}, "data": {"sent": repr(time.monotonic())}}
            async with session.post(
                f"{url}/api/v1/namespaces/default/configmaps", data=orjson.dumps(body), headers=JSON
            ) as response:
                await response.read()
                assert response.status == 201, response.status

        begin = time.monotonic()
        tasks = []
        for i in range(writes):
            await asyncio.sleep(max(0.0, begin + i / WRITES_PER_SECOND - time.monotonic()))
            tasks.append(asyncio.create_task(create(i)))
        await asyncio.gather(*tasks)


async def storage_fanout(database: Path, watchers: int, seconds: float) -> FanOut:
    """The storage layer alone: W ``SqliteBackend.watch`` iterators, the same write rate."""
    backend = SqliteBackend(database, SqliteOptions(compaction=CompactionPolicy(enabled=False)))
    await backend.start()
    writes = int(seconds * WRITES_PER_SECOND)
    value = orjson.dumps(bench_configmap())
    sent: dict[str, float] = {}
    delays: list[float] = []
    last = [0.0]
    try:
        start_revision = await backend.current_revision()

        async def watcher() -> None:
            seen = 0
            async for event in backend.watch("/registry/leases/", start_revision):
                now = time.monotonic()
                delays.append(now - sent[event.key])
                last[0] = now
                seen += 1
                if seen == writes:
                    return

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.sleep(0.2)
        begin = time.monotonic()
        for i in range(writes):
            await asyncio.sleep(max(0.0, begin + i / WRITES_PER_SECOND - time.monotonic()))
            key = f"/registry/leases/lease-{database.stem}-{i}"
            sent[key] = time.monotonic()
            await backend.create(key, value)
        _, late = await asyncio.wait(tasks, timeout=60)
        for task in late:
            task.cancel()
    finally:
        await backend.close()
    return FanOut(
        len(delays) / max(last[0] - begin, 1e-9),
        percentile(delays, 0.5),
        percentile(delays, 0.99),
        len(delays),
        writes * watchers,
        0,
    )


# --- the run --------------------------------------------------------------------------------
@dataclass
class Figures:
    get_rate: list[float]
    get_p99: list[float]
    create_rate: list[float]
    create_p99: list[float]
    page: list[float]
    selector_page: list[float]
    page_size: int = 0


def new_figures() -> Figures:
    return Figures([], [], [], [], [], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 100 watchers, once")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--watch-processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", default="HEAD~1", help="git revision of the other server")
    parser.add_argument(
        "--watch-previous",
        action="store_true",
        help="also run the fan-out once on the other server",
    )
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    watch_seconds = 3.0 if args.quick else 10.0
    repeat = 1 if args.quick else args.repeat
    watchers = 100 if args.quick else args.watchers
    pages = 10 if args.quick else 30
    with temporary_directory() as tmp:
        work = Path(tmp)
        previous_src = source_tree_at(args.compare, work / "previous")
        current = start_kubeward("current", ROOT / "src", work)
        previous = start_kubeward("previous", previous_src, work)
        servers = (previous, current)
        figures = {server.label: new_figures() for server in servers}
        ceiling, ceiling_url = start_ceiling(current.data_dir / "pki", current.context)
        ceiling_rate: list[float] = []
        ceiling_page: list[float] = []
        fanouts: dict[str, list[FanOut]] = {"storage": [], "current": [], "previous": []}
        try:
            for server in servers:
                uvloop.run(populate(server))
            page_path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps?limit={PAGE}"
            selector = f"{page_path}&labelSelector=shard%3D3"
            for n in range(repeat):
                rate, _ = uvloop.run(
                    load(ceiling_url, current.context, args.clients, seconds, get_one)
                )
                ceiling_rate.append(rate)
                # The servers take turns, and the one that goes first alternates.
                for server in servers if n % 2 == 0 else servers[::-1]:
                    got = figures[server.label]
                    times, got.page_size = uvloop.run(
                        page_times(server.url, server.context, page_path, pages, PAGE)
                    )
                    got.page.append(median(times))
                    times, _ = uvloop.run(
                        page_times(server.url, server.context, selector, pages, None)
                    )
                    got.selector_page.append(median(times))
                    rate, latencies = uvloop.run(
                        load(server.url, server.context, args.clients, seconds, get_one)
                    )
                    got.get_rate.append(rate)
                    got.get_p99.append(percentile(latencies, 0.99))
                    rate, latencies = uvloop.run(
                        load(server.url, server.context, args.clients, seconds, create_one)
                    )
                    got.create_rate.append(rate)
                    got.create_p99.append(percentile(latencies, 0.99))
                size = figures["current"].page_size
                times, _ = uvloop.run(
                    page_times(ceiling_url, current.context, f"/bytes/{size}", pages, None)
                )
                ceiling_page.append(median(times))
            super_context = client_ssl(current.data_dir / "super-admin.conf", work)
            _, rbac_lat = uvloop.run(load(current.url, current.context, 1, seconds, get_one))
            _, masters_lat = uvloop.run(load(current.url, super_context, 1, seconds, get_one))
            raw_rate = raw_sqlite_inserts(work / "raw.db", seconds)
            for n in range(repeat):
                fanouts["storage"].append(
                    uvloop.run(storage_fanout(work / f"fanout-{n}.db", watchers, watch_seconds))
                )
                fanouts["current"].append(
                    watch_fanout(current, watchers, args.watch_processes, watch_seconds)
                )
                if args.watch_previous and n == 0:  # once: it is slow to drain
                    fanouts["previous"].append(
                        watch_fanout(previous, watchers, args.watch_processes, watch_seconds)
                    )
        finally:
            ceiling.terminate()
            ceiling.wait()
            for server in servers:
                server.stop()
        storage_page = uvloop.run(
            storage_page_times(current.data_dir / "kubeward.db", pages * repeat)
        )
    report(args, figures, ceiling_rate, ceiling_page, storage_page, fanouts, raw_rate)
    rbac_p50, masters_p50 = median(rbac_lat), median(masters_lat)
    print(
        f"one client GET p50: {rbac_p50 * 1000:.2f} ms through RBAC, "
        f"{masters_p50 * 1000:.2f} ms as system:masters; authorization share of the request "
        f"~ {max(0.0, rbac_p50 - masters_p50) / rbac_p50:.1%}"
    )


def report(
    args: argparse.Namespace,
    figures: dict[str, Figures],
    ceiling_rate: list[float],
    ceiling_page: list[float],
    storage_page: list[float],
    fanouts: dict[str, list[FanOut]],
    raw_rate: float,
) -> None:
    now, before = figures["current"], figures["previous"]
    print(f"this checkout: {describe('HEAD')} (+ working tree)")
    print(f"compared with: {describe(args.compare)}")
    print(
        f"servers: kubeward up on uvloop, HTTPS with client certificates, keep-alive; clients on "
        f"uvloop; medians of {1 if args.quick else args.repeat} runs, servers taking turns"
    )
    print(f"{'':40}{'this checkout':>16}{'compared with':>16}{'ratio':>8}  (ratio per run)")

    def row(label: str, a: list[float], b: list[float], unit: str, scale: float = 1.0) -> None:
        ma, mb = median(a) * scale, median(b) * scale
        runs = ", ".join(f"{x / y:.2f}" for x, y in zip(a, b, strict=True))
        print(f"{label:40}{ma:>12.1f}{unit:>4}{mb:>12.1f}{unit:>4}{ma / mb:>8.2f}  (runs: {runs})")

    row(f"GET configmap, {args.clients} clients", now.get_rate, before.get_rate, "/s")
    row("  p99", now.get_p99, before.get_p99, "ms", 1000)
    row(f"create configmap, {args.clients} clients", now.create_rate, before.create_rate, "/s")
    row("  p99", now.create_p99, before.create_p99, "ms", 1000)
    row(f"list page of {PAGE} (of {LIST_ITEMS}), 1 client", now.page, before.page, "ms", 1000)
    row("  with labelSelector (1 in 10)", now.selector_page, before.selector_page, "ms", 1000)
    ceiling = median(ceiling_rate)
    print(
        f"ceiling (aiohttp constant GET): {ceiling:.0f}/s; GET / ceiling: "
        f"{median(now.get_rate) / ceiling:.2f}; raw SQLite inserts (WAL, NORMAL): {raw_rate:.0f}/s;"
        f" creates / raw inserts: {median(now.create_rate) / raw_rate:.2f}"
    )
    storage_ms, send_ms = median(storage_page) * 1000, median(ceiling_page) * 1000
    page_ms = median(now.page) * 1000
    print(
        f"list page baseline: storage layer list of the {PAGE} rows {storage_ms:.2f} ms + the same"
        f" stack sending {now.page_size:,} bytes {send_ms:.2f} ms = {storage_ms + send_ms:.2f} ms;"
        f" kubeward page {page_ms:.2f} ms: {(storage_ms + send_ms) / page_ms:.2f}x of the baseline"
    )
    for label, runs in fanouts.items():
        if not runs:
            continue
        best = sorted(runs, key=lambda f: f.p99)[len(runs) // 2]
        name = {"storage": "storage layer alone", "current": "this checkout, HTTPS"}.get(
            label, "compared with, HTTPS"
        )
        lost = [f.expected - f.delivered for f in runs]
        print(
            f"watch fan-out, {name:22} {args.watchers if not args.quick else 100} watchers, "
            f"{WRITES_PER_SECOND} writes/s: {median([f.delivered_per_second for f in runs]):,.0f}"
            f" events/s delivered, delivery p50 {median([f.p50 for f in runs]) * 1000:.1f} ms, p99"
            f" {median([f.p99 for f in runs]) * 1000:.1f} ms (runs: "
            f"{', '.join(f'{f.p99 * 1000:.0f}' for f in runs)} ms), undelivered "
            f"{', '.join(map(str, lost))} of {best.expected:,}, errors {sum(f.errors for f in runs)}"
            + (
                f", {sum(f.delivered for f in runs) / sum(f.reads for f in runs):.1f} events per read"
                if any(f.reads for f in runs)
                else ""
            )
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
