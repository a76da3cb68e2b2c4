"""Pods to Running on N in-process nodes, next to the same pods created with no scheduler or node.

Two ``kubeward up`` processes run one after the other in this run, each in its own data dir:

* the baseline: ``kubeward up`` with no node agent; the pods name a ``schedulerName`` no
  scheduler answers to, so nothing but the API server touches them. What it measures is what
  creating the pods costs by itself: create latency (send → 201) and the time to create all;
* the cluster: ``kubeward up --nodes N`` (the scheduler and N node agents in the server's
  process, each agent its own ``system:node:NAME`` client over HTTPS). Once all N nodes are
  Ready, the same pods are created and a watch of their namespace records when each is first
  seen Running. Pod startup latency is send-of-create → Running observed by the watch, as
  Kubernetes' pod startup SLI measures it (its SLO: p99 ≤ 5 s, for pods with no image pull).

Both runs use the same ``--clients`` concurrent creators on one keep-alive connection each.
After the pods are all created (baseline) or all Running (cluster), the API server process's
CPU (utime+stime from ``/proc/PID/stat``, over ``--steady`` seconds) and memory (``VmRSS``) are
read: the steady state. The cluster's figure includes the scheduler and the node agents (their
leases every 10 s, status every 60 s), which run in the same process.

Usage: ``python benchmarks/nodes.py [--quick] [--nodes N] [--pods P] [--clients C] [--rate R]``.
By default every pod is sent at once (a burst: the time to all Running is the throughput
figure); ``--rate R`` paces the creates at R pods/s, the steady load under which Kubernetes'
SLO is judged. ``--compare REV`` also runs the cluster on an earlier revision, first.
``--profile FILE`` runs the cluster's server under cProfile (stopped with SIGINT so the profile
is written). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import ssl
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
from _servers import (  # type: ignore[import-not-found]
    ROOT,
    Server,
    describe,
    source_tree_at,
    start_kubeward,
    temporary_directory,
)

NAMESPACE = "bench-pods"
JSON = {"Content-Type": "application/json"}
NO_SCHEDULER = "benchmark-no-scheduler"
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (fields 14 and 15 of /proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pod(index: int, scheduler: str | None) -> dict[str, object]:
    spec: dict[str, object] = {
        "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
    }
    if scheduler:
        spec["schedulerName"] = scheduler
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{index:06}"}, "spec": spec}


def session_for(context: ssl.SSLContext, limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context, limit=limit),
        timeout=aiohttp.ClientTimeout(total=None),
    )


@dataclass
class Run:
    label: str
    pods: int
    created_at: dict[str, float] = field(default_factory=dict)
    create_latency: list[float] = field(default_factory=list)
    running_at: dict[str, float] = field(default_factory=dict)
    first_sent: float = 0.0
    all_created: float = 0.0
    all_running: float = 0.0
    cpu_during: float = 0.0
    steady_cpu: float = 0.0
    steady_rss: float = 0.0
    idle_rss: float = 0.0

    def startup(self) -> list[float]:
        return [self.running_at[n] - self.created_at[n] for n in self.running_at]


async def request_json(
    session: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, dict[str, object]]:
    data = orjson.dumps(body) if body is not None else None
    async with session.request(method, url, data=data, headers=JSON) as response:
        return response.status, orjson.loads(await response.read())


async def create_pods(
    server: Server, run: Run, clients: int, scheduler: str | None, rate: float
) -> None:
    """Create the pods from ``clients`` concurrent creators; with ``rate``, pod I is sent no
    sooner than I / rate seconds after the first (a steady load, as clusterloader2 paces it)."""
    url = f"{server.url}/api/v1/namespaces/{NAMESPACE}/pods"
    queue = list(range(run.pods - 1, -1, -1))
    async with session_for(server.context, clients) as session:

        async def creator() -> None:
            while queue:
                index = queue.pop()
                if rate:
                    await asyncio.sleep(run.first_sent + index / rate - time.monotonic())
                body = orjson.dumps(pod(index, scheduler))
                name = f"p-{index:06}"
                sent = time.monotonic()
                run.created_at[name] = sent
                async with session.post(url, data=body, headers=JSON) as response:
                    await response.read()
                    if response.status != 201:
                        raise SystemExit(f"create {name}: HTTP {response.status}")
                run.create_latency.append(time.monotonic() - sent)

        run.first_sent = time.monotonic()
        await asyncio.gather(*(creator() for _ in range(clients)))
        run.all_created = time.monotonic()


async def watch_running(server: Server, run: Run, resource_version: str, deadline: float) -> None:
    """Record when each pod is first seen Running; return once all are (or at the deadline)."""
    async with session_for(server.context, 1) as session:
        rv = resource_version
        while len(run.running_at) < run.pods and time.monotonic() < deadline:
            url = (
                f"{server.url}/api/v1/namespaces/{NAMESPACE}/pods?watch=1"
                f"&resourceVersion={rv}&allowWatchBookmarks=true"
            )
            async with session.get(url) as response:
                if response.status != 200:
                    raise SystemExit(f"watch: HTTP {response.status}")
                async for line in response.content:
                    now = time.monotonic()
                    event = orjson.loads(line)
                    obj = event["object"]
                    meta = obj.get("metadata") or {}
                    rv = meta.get("resourceVersion", rv)
                    if event["type"] == "ERROR":
                        raise SystemExit(f"watch: {obj}")
                    name = meta.get("name", "")
                    phase = (obj.get("status") or {}).get("phase")
                    if phase == "Running" and name not in run.running_at:
                        run.running_at[name] = now
                        if len(run.running_at) == run.pods:
                            return
                    if now > deadline:
                        return


async def nodes_ready(server: Server, count: int, deadline: float) -> None:
    """Wait until ``count`` nodes are Ready (the Node authorizer lets each in as itself)."""
    async with session_for(server.context, 1) as session:
        while time.monotonic() < deadline:
            _, body = await request_json(session, "GET", f"{server.url}/api/v1/nodes")
            ready = 0
            for node in body.get("items") or []:  # type: ignore[union-attr]
                for condition in (node.get("status") or {}).get("conditions") or []:
                    ready += condition.get("type") == "Ready" and condition.get("status") == "True"
            if ready >= count:
                return
            await asyncio.sleep(0.5)
    raise SystemExit(f"{count} nodes did not become Ready")


async def namespace(server: Server) -> str:
    """Create the namespace; return the pods' list resourceVersion (to watch from)."""
    async with session_for(server.context, 1) as session:
        status, _ = await request_json(
            session, "POST", f"{server.url}/api/v1/namespaces", {"metadata": {"name": NAMESPACE}}
        )
        assert status == 201, status
        _, body = await request_json(
            session, "GET", f"{server.url}/api/v1/namespaces/{NAMESPACE}/pods"
        )
        return str(body["metadata"]["resourceVersion"])  # type: ignore[index]


def steady_state(pid: int, seconds: float) -> tuple[float, float]:
    """The process's CPU use (cores) over ``seconds`` of no client load, and its RSS (MiB)."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds, rss_mib(pid)


def measure(
    server: Server,
    run: Run,
    clients: int,
    nodes: int,
    steady: float,
    timeout: float,
    rate: float = 0.0,
) -> None:
    pid = server.process.pid
    deadline = time.monotonic() + timeout
    if nodes:
        asyncio.run(nodes_ready(server, nodes, deadline))
    time.sleep(1.0)
    run.idle_rss = rss_mib(pid)
    rv = asyncio.run(namespace(server))
    cpu_before = cpu_seconds(pid)

    async def both() -> None:
        watcher = asyncio.create_task(watch_running(server, run, rv, deadline)) if nodes else None
        await create_pods(server, run, clients, None if nodes else NO_SCHEDULER, rate)
        if watcher is not None:
            await watcher

    asyncio.run(both())
    run.all_running = max(run.running_at.values(), default=float("nan"))
    run.cpu_during = cpu_seconds(pid) - cpu_before
    run.steady_cpu, run.steady_rss = steady_state(pid, steady)


def stop(server: Server, profiled: bool) -> None:
    if profiled:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.stop()
    else:
        server.stop()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def report_baseline(baseline: Run, nodes: int, clients: int, rate: float) -> float:
    """Print the baseline; returns its time to create every pod."""
    creates = baseline.all_created - baseline.first_sent
    print(
        f"pods: {baseline.pods:,}, clients: {clients}, nodes: {nodes} (in the server's process), "
        f"created {f'at {rate:g} pods/s' if rate else 'all at once'}\n"
        f"baseline, no scheduler and no node agent: all {baseline.pods:,} created in "
        f"{creates:.1f} s ({baseline.pods / creates:,.0f} pods/s); create latency p50 "
        f"{ms(statistics.median(baseline.create_latency))}, p99 "
        f"{ms(percentile(baseline.create_latency, 0.99))}; server CPU during "
        f"{baseline.cpu_during:.1f} s; steady state {baseline.steady_cpu * 100:.1f}% of a core, "
        f"RSS {baseline.steady_rss:,.0f} MiB (before the pods {baseline.idle_rss:,.0f} MiB)"
    )
    return creates


def report_cluster(cluster: Run, baseline: Run, creates: float, nodes: int) -> None:
    done = len(cluster.running_at)
    created = cluster.all_created - cluster.first_sent
    running = cluster.all_running - cluster.first_sent
    startup = cluster.startup()
    print(
        f"{cluster.label}, scheduler and {nodes} node agents: all {cluster.pods:,} created in "
        f"{created:.1f} s ({cluster.pods / created:,.0f} pods/s; {created / creates:.2f}x the "
        f"baseline's time), create latency p50 {ms(statistics.median(cluster.create_latency))}, "
        f"p99 {ms(percentile(cluster.create_latency, 0.99))}; server CPU during "
        f"{cluster.cpu_during:.1f} s ({cluster.cpu_during / max(baseline.cpu_during, 1e-9):.2f}x)"
    )
    if done < cluster.pods:
        print(f"  NOT all Running: {done:,} of {cluster.pods:,} before the deadline")
    if startup:
        p99 = percentile(startup, 0.99)
        print(
            f"  {done:,} Running {running:.1f} s after the first create "
            f"({done / running:,.0f} pods/s; {running / creates:.2f}x the baseline's create time); "
            f"pod startup latency (create sent → Running seen) p50 "
            f"{ms(statistics.median(startup))}, p90 {ms(percentile(startup, 0.9))}, p99 "
            f"{ms(p99)}, max {ms(max(startup))} — Kubernetes' SLO p99 ≤ 5 s: "
            f"{'met' if p99 <= 5 else 'NOT met'}"
        )
    print(
        f"  steady state (no client load, after the pods): {cluster.steady_cpu * 100:.1f}% of a "
        f"core, RSS {cluster.steady_rss:,.0f} MiB (before the pods {cluster.idle_rss:,.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 nodes, 500 pods")
    parser.add_argument("--nodes", type=int, default=None, help="node agents (default 100)")
    parser.add_argument("--pods", type=int, default=None, help="pods (default 10,000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent creators")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="pods created per second (default: at once)"
    )
    parser.add_argument("--steady", type=float, default=None, help="seconds of steady state")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after (s)")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the cluster server")
    parser.add_argument(
        "--compare", default=None, help="also run the cluster on this git revision's src/, first"
    )
    args = parser.parse_args()
    nodes = args.nodes or (10 if args.quick else 100)
    pods = args.pods or (500 if args.quick else 10_000)
    steady = args.steady or (3.0 if args.quick else 10.0)
    if pods > nodes * 110:
        raise SystemExit(f"{pods} pods do not fit {nodes} nodes of 110 pods")
    src = ROOT / "src"
    with temporary_directory() as tmp:
        workdir = Path(tmp)
        baseline = Run("baseline", pods)
        server = start_kubeward("baseline", src, workdir)
        try:
            measure(server, baseline, args.clients, 0, steady, args.timeout, args.rate)
        finally:
            server.stop()
        print(f"baseline done ({len(baseline.create_latency):,} pods)", file=sys.stderr)
        trees = [("this checkout", src)]
        if args.compare:
            previous = source_tree_at(args.compare, workdir / "compare")
            trees.insert(0, (f"{describe(args.compare)[:50]!r}", previous))
        clusters = []
        for n, (label, tree) in enumerate(trees):
            cluster = Run(label, pods)
            profile = args.profile if args.profile and tree == src else None
            profiler = ("-m", "cProfile", "-o", str(profile.resolve())) if profile else ()
            server = start_kubeward(
                f"cluster-{n}", tree, workdir, ("--nodes", str(nodes)), profiler
            )
            try:
                measure(server, cluster, args.clients, nodes, steady, args.timeout, args.rate)
            finally:
                stop(server, profile is not None)
            print(f"{label} done", file=sys.stderr)
            clusters.append(cluster)
    creates = report_baseline(baseline, nodes, args.clients, args.rate)
    for cluster in clusters:
        report_cluster(cluster, baseline, creates, nodes)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
