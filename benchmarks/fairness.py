"""Fairness under an unprivileged flood: the administrator's p99 while one identity floods the
server, next to the administrator's p99 on the same server idle, in the same run.

The issue's loads (issue 10, "Done means"), full size, against a server with kube-apiserver's
default limits and timeouts (400 + 200 in-flight seats shared by priority level, 32 s for a
TLS handshake or request headers, 60 s for a body):

 - 500 slow-body POSTs (one byte every 0.2 s) from a service account with the view role
   (its priority level: workload-low), and the same from an ordinary user, who shares the
   administrator's own level (global-default) and differs from it only by flow;
 - 2,000 watches from the service account;
 - 1,000 idle TLS connections (a third never handshaking, a third silent after the handshake, a
   third stopping half-way through a header).

The server runs in its own process (``--serve``); the load and the administrator's requests
come from this one. The administrator is ``admin.conf`` (kubernetes-admin in
kubeadm:cluster-admins: an ordinary authenticated user, as kubeadm makes it), so it gets no
exemption. Usage: ``python benchmarks/fairness.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

from overload_clients import (  # noqa: E402  (the clients the integration tests use)
    AdminFigures,
    SlowBodyOutcome,
    WatchOutcome,
    administrator,
    end_watches,
    idle_connections,
    open_watches,
    slow_body_post,
)

from kubeward.kubeconfig.tls import ClientCredentials  # noqa: E402

ADMIN_PATH = "/api/v1/namespaces/default/configmaps"


def serve(data_dir: Path) -> None:
    """The server process: default limits and timeouts; identities written next to admin.conf."""
    from kubeward.testing import running_cluster

    with running_cluster(data_dir=data_dir, controller_manager=False) as cluster:
        cluster.kubeconfig_for_service_account("default", "flood", path=data_dir / "flood.conf")
        cluster.kubeconfig_for("mallory", path=data_dir / "mallory.conf")
        (data_dir / "port").write_text(str(cluster.port))
        while True:
            time.sleep(3600)


def raise_descriptor_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < wanted:
            print(f"note: descriptor limit {target} < {wanted} wanted; counts may be refused")


def bind_view(url: str, admin: ClientCredentials) -> None:
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "flood-view", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "flood", "namespace": "default"}],
    }
    request = urllib.request.Request(
        f"{url}/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, context=admin.ssl_context, timeout=30):
        pass


def line(name: str, figures: AdminFigures, idle_p99: float, note: str) -> str:
    ok_readyz = sum(s == 200 for s in figures.readyz)
    ratio = figures.p99() / idle_p99 if idle_p99 else 0.0
    return (
        f"{name:34}{figures.ok_ratio:9.1%}{figures.p99() * 1000:10.1f} ms{ratio:8.1f}x"
        f"{ok_readyz:>7}/{len(figures.readyz):<5} {note}"
    )


async def measure(port: int, data: Path, admin_requests: int, scale: float) -> list[str]:
    url = f"https://127.0.0.1:{port}"
    admin = ClientCredentials.from_kubeconfig(data / "admin.conf").ssl_context
    flood = ClientCredentials.from_kubeconfig(data / "flood.conf").ssl_context
    mallory = ClientCredentials.from_kubeconfig(data / "mallory.conf").ssl_context
    rows: list[str] = []

    idle = await administrator(url, admin, admin_requests, ADMIN_PATH)
    rows.append(line("idle server", idle, idle.p99(), ""))

    for name, context in (
        ("500 slow bodies, service account", flood),
        ("500 slow bodies, same level", mallory),
    ):
        outcome = SlowBodyOutcome()
        count = int(500 * scale)
        tasks = [
            asyncio.create_task(slow_body_post(port, context, outcome, seconds=25, gap=0.2))
            for _ in range(count)
        ]
        await asyncio.sleep(3)
        figures = await administrator(url, admin, admin_requests, ADMIN_PATH)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        rows.append(
            line(
                name.replace("500", str(count)),
                figures,
                idle.p99(),
                f"flood answered {outcome.answered}, cut off {outcome.cut_off}",
            )
        )
        await asyncio.sleep(2)

    watch_outcome = WatchOutcome()
    count = int(2000 * scale)
    connector = aiohttp.TCPConnector(ssl=flood, limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        watches = await open_watches(session, url, ADMIN_PATH, count, watch_outcome)
        figures = await administrator(url, admin, admin_requests, ADMIN_PATH)
        end_watches(watches)
    rows.append(
        line(f"{count} watches", figures, idle.p99(), f"watch starts {watch_outcome.statuses}")
    )

    per_kind = int(1000 * scale) // 3
    conns = await idle_connections(
        port, flood, raw=per_kind, handshaken=per_kind, half_header=per_kind + 1
    )
    try:
        figures = await administrator(url, admin, admin_requests, ADMIN_PATH)
    finally:
        conns.close()
    rows.append(line(f"{len(conns.readers)} idle TLS connections", figures, idle.p99(), ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the counts")
    parser.add_argument("--requests", type=int, default=200, help="admin requests per figure")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_descriptor_limit(8192)
    if args.serve:
        serve(args.serve)
        return
    scale = 0.2 if args.quick else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not (data / "port").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            port = int((data / "port").read_text())
            bind_view(
                f"https://127.0.0.1:{port}", ClientCredentials.from_kubeconfig(data / "admin.conf")
            )
            rows = asyncio.run(measure(port, data, args.requests, scale))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("administrator (kubernetes-admin) GET configmaps, one after another, each with a /readyz")
    print(
        f"{'load from one unprivileged identity':34}{'200s':>9}{'p99':>13}{'vs idle':>9}{'readyz':>13}"
    )
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
