"""Storage benchmark: the SQLite Backend next to raw sqlite3 at the same durability, same run.

    PYTHONPATH=src python benchmarks/storage.py [--writes 20000] [--watchers 100,1000]

Figures:
  * raw sqlite3: one INSERT + COMMIT per row into a table with a unique key index, WAL and
    synchronous=NORMAL — the least any store must do to acknowledge one durable create —
    and raw point SELECTs by key;
  * Backend creates: one client awaiting each create, then 32 concurrent clients (the API
    server's case; the writer thread commits them in groups);
  * Backend gets (inline on the event loop) with the time each one holds the loop, and a list;
  * watch fan-out: N watchers on one prefix while 100 writes/s go in; delivery latency is from
    just before ``create`` is awaited to the moment each watcher receives the event.
Not a test: it prints numbers and ratios, and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions

VALUE = (b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{}}' * 15)[:1000]


def key(i: int) -> str:
    return f"/registry/pods/default/web-{i:07}"


def raw_inserts(path: Path, n: int) -> tuple[float, float]:
    """(inserts/s, gets/s) for plain sqlite3 at WAL + synchronous=NORMAL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, value BLOB)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (key(i), VALUE))
        conn.execute("COMMIT")
    inserts = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        conn.execute("SELECT id, value FROM kv WHERE key = ?", (key(i),)).fetchone()
    gets = n / (time.perf_counter() - start)
    conn.close()
    return inserts, gets


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def timed(label: str, n: int, work: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await work()
    rate = n / (time.perf_counter() - start)
    print(f"  {label:<44} {rate:>10,.0f} /s")
    return rate


async def backend_figures(path: Path, n: int) -> tuple[float, float, float]:
    options = SqliteOptions(compaction=CompactionPolicy(enabled=False))
    backend = SqliteBackend(path, options)
    await backend.start()
    try:

        async def sequential() -> None:
            for i in range(n):
                await backend.create(key(i), VALUE)

        async def concurrent() -> None:
            async def client(c: int) -> None:
                for i in range(n + c, 2 * n, 32):
                    await backend.create(key(i), VALUE)

            await asyncio.gather(*(client(c) for c in range(32)))

        seq = await timed("creates, 1 client", n, sequential)
        conc = await timed("creates, 32 concurrent clients", n, concurrent)

        held: list[float] = []

        async def gets() -> None:
            for i in range(0, 2 * n, 2):
                t = time.perf_counter()
                await backend.get(key(i))
                held.append(time.perf_counter() - t)

        get_rate = await timed("gets (inline on the loop)", n, gets)
        print(
            f"  {'  loop held per get: p50/p99/max':<44} {percentile(held, 50) * 1e6:.0f} / "
            f"{percentile(held, 99) * 1e6:.0f} / {max(held) * 1e6:.0f} µs"
        )

        async def pages() -> None:
            for _ in range(20):
                await backend.list("/registry/pods/default/", limit=500)

        await timed("lists of 500 items (pages/s)", 20, pages)
        return seq, conc, get_rate
    finally:
        await backend.close()


async def watch_figures(path: Path, watchers: int, writes: int, rate: float) -> None:
    backend = SqliteBackend(path, SqliteOptions(compaction=CompactionPolicy(enabled=False)))
    await backend.start()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    try:
        start_revision = await backend.current_revision()

        async def watcher() -> None:
            seen = 0
            async for event in backend.watch("/registry/leases/", start_revision):
                latencies.append(time.perf_counter() - sent[event.key])
                seen += 1
                if seen == writes:
                    return

        tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
        await asyncio.sleep(0.2)
        begin = time.perf_counter()
        for i in range(writes):
            due = begin + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            name = f"/registry/leases/lease-{i}"
            sent[name] = time.perf_counter()
            await backend.create(name, VALUE)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        elapsed = time.perf_counter() - begin
    finally:
        await backend.close()
    delivered = len(latencies)
    print(
        f"  {watchers:>5} watchers, {writes} writes at {rate:.0f}/s: "
        f"{delivered / elapsed:>9,.0f} events/s delivered, latency p50 "
        f"{percentile(latencies, 50) * 1e3:.2f} ms, p99 {percentile(latencies, 99) * 1e3:.2f} ms, "
        f"max {max(latencies) * 1e3:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=20_000)
    parser.add_argument("--watchers", default="100,1000")
    parser.add_argument("--watch-writes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubeward-bench-") as tmp:
        directory = Path(tmp)
        print(f"storage benchmark: {args.writes} writes of {len(VALUE)} B, pid {os.getpid()}")
        print("raw sqlite3 (WAL, synchronous=NORMAL, one commit per insert):")
        raw_insert, raw_get = raw_inserts(directory / "raw.db", args.writes)
        print(f"  {'inserts':<44} {raw_insert:>10,.0f} /s")
        print(f"  {'gets':<44} {raw_get:>10,.0f} /s")
        print("SqliteBackend (same durability), on uvloop:")
        seq, conc, gets = uvloop.run(backend_figures(directory / "backend.db", args.writes))
        print("ratios to raw sqlite3:")
        print(f"  {'creates, 1 client / raw inserts':<44} {seq / raw_insert:>10.2f}")
        print(f"  {'creates, 32 clients / raw inserts':<44} {conc / raw_insert:>10.2f}")
        print(f"  {'gets / raw gets':<44} {gets / raw_get:>10.2f}")
        print("watch fan-out (one backend, watchers on one prefix):")
        for count in (int(c) for c in args.watchers.split(",")):
            uvloop.run(
                watch_figures(directory / f"watch-{count}.db", count, args.watch_writes, 100.0)
            )


if __name__ == "__main__":
    main()
