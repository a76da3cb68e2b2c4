"""``kubeward etcd``: a local etcd cluster with kubeward's etcd PKI, its status, its backups.

``etcd up`` runs the members in the foreground until Ctrl-C (as ``kubeward up`` runs the API
server) with mutual TLS on both ports and pre-vote (storage/etcd/local.py); ``etcd status``
shows each member's id, leadership, revision and database size; ``etcd snapshot save`` streams
a member's database through etcd's snapshot API and ``restore`` rebuilds every member's data
directory from one file with ``etcdctl snapshot restore`` (what kubeadm users do).
"""

from __future__ import annotations

import datetime
import json
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import click

from kubeward.cli.runtime import run_async, setup_logging
from kubeward.errors import InputError, StorageError

DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".kubeward"),
    show_default=True,
    help="Where the PKI (pki/), the members' data (etcd/) and etcd-cluster.json live; the same as kubeward up's --data-dir.",
)


@click.group("etcd")
def etcd() -> None:
    """Run, inspect and back up a local etcd cluster secured by kubeward's etcd PKI."""


@etcd.command("up")
@DIR_OPTION
@click.option("--members", type=click.IntRange(1, 5), default=3, show_default=True)
@click.option(
    "--port-base",
    type=click.IntRange(1024, 45535),
    default=2379,
    show_default=True,
    help="Member i serves clients on PORT-BASE + 10000 i and peers on the port after it.",
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def up(directory: Path, members: int, port_base: int, verbose: int) -> None:
    """Start MEMBERS etcd members on loopback with mutual TLS; stop them with Ctrl-C."""
    from kubeward.api.allocation.ranges import DEFAULT_SERVICE_CLUSTER_IP_RANGE
    from kubeward.storage.etcd.local import (
        STATE_FILE,
        LocalCluster,
        ensure_etcd_pki,
        standard_ports,
    )

    setup_logging(verbose)
    if shutil.which("etcd") is None:
        raise InputError("etcd: not found; install it (Debian: apt-get install etcd-server)")
    pki = ensure_etcd_pki(directory, members, service_cidr=DEFAULT_SERVICE_CLUSTER_IP_RANGE)
    cluster = LocalCluster(
        pki, directory / "etcd", members, ports=standard_ports(members, port_base)
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        cluster.start()
        cluster.write_state(directory / STATE_FILE)
        tls = cluster.client_tls
        click.echo(f"etcd is up: {','.join(cluster.endpoints)}")
        click.echo("API server flags:")
        click.echo(f"  --etcd-servers={','.join(cluster.endpoints)}")
        click.echo(f"  --etcd-cafile={tls.ca_file} --etcd-certfile={tls.cert_file}")
        click.echo(f"  --etcd-keyfile={tls.key_file}")
        click.echo(f"or: kubeward up --data-dir {directory} --etcd")
        while not stop.wait(1.0):
            for member in cluster.members:
                if not member.running:
                    click.echo(f"warning: {member.name} exited; see {member.log_file}", err=True)
                    cluster.restart(member)
    finally:
        cluster.stop()
        click.echo("etcd stopped; data kept in " + str((directory / "etcd").resolve()))


def load_state(directory: Path) -> dict[str, Any]:
    from kubeward.storage.etcd.local import STATE_FILE

    path = directory / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no local etcd here; start one with kubeward etcd up") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON: {exc}") from exc
    return state


def config_from_state(directory: Path) -> Any:
    from kubeward.storage.etcd.config import EtcdConfig, TLSFiles

    state = load_state(directory)
    tls = TLSFiles(Path(state["cafile"]), Path(state["certfile"]), Path(state["keyfile"]))
    return EtcdConfig(tuple(state["endpoints"]), tls)


@etcd.command("status")
@DIR_OPTION
def status(directory: Path) -> None:
    """One line per member: endpoint, id, leader or follower, revision, DB size."""
    from kubeward.storage.etcd.transports import new_client

    config = config_from_state(directory)

    async def main() -> list[str]:
        client = new_client(config)
        lines = [f"{'ENDPOINT':28} {'ID':16} {'ROLE':8} {'REVISION':>9} {'DB SIZE':>9} VERSION"]
        try:
            for endpoint in config.endpoints:
                try:
                    s = await client.status(endpoint)
                except StorageError as exc:
                    lines.append(f"{endpoint:28} unreachable: {exc}")
                    continue
                role = "leader" if s.leader_id == s.member_id else "follower"
                lines.append(
                    f"{endpoint:28} {s.member_id:016x} {role:8} {s.revision:>9} "
                    f"{_size(s.db_size):>9} {s.version}"
                )
        finally:
            await client.close()
        return lines

    for line in run_async(main()):
        click.echo(line)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@etcd.group("snapshot")
def snapshot() -> None:
    """Save a member's database to a file, or rebuild the cluster from one."""


@snapshot.command("save")
@DIR_OPTION
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def save(directory: Path, file: Path) -> None:
    """Stream the database of the first reachable member into FILE."""
    from kubeward.storage.etcd.transports import new_client

    config = config_from_state(directory)

    async def main() -> int:
        client = new_client(config)
        partial = file.with_name(file.name + ".part")
        try:
            for endpoint in config.endpoints:
                size = 0
                try:
                    with partial.open("wb") as out:
                        async for chunk in client.snapshot(endpoint):
                            out.write(chunk)
                            size += len(chunk)
                except StorageError:
                    continue
                if size:
                    partial.replace(file)
                    return size
            raise StorageError("etcd snapshot: no member could send one")
        finally:
            partial.unlink(missing_ok=True)
            await client.close()

    size = run_async(main())
    click.echo(f"Snapshot saved at {file} ({_size(size)})")


@snapshot.command("restore")
@DIR_OPTION
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def restore(directory: Path, file: Path) -> None:
    """Rebuild every member's data directory from FILE (etcd must be stopped).

    The old data directory is kept beside the new one as etcd.before-restore-<time>.
    """
    from kubeward.storage.etcd.local import LocalCluster

    if shutil.which("etcdctl") is None:
        raise InputError("etcdctl: not found; install it (Debian: apt-get install etcd-client)")
    state = load_state(directory)
    members = len(state["members"])
    ports = [_ports(url) for url in state["endpoints"]]
    cluster = LocalCluster(directory / "pki", directory / "etcd", members, ports=ports)
    data = directory / "etcd"
    if data.exists():
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        data.rename(directory / f"etcd.before-restore-{stamp}")
    data.mkdir(parents=True)
    initial = ",".join(f"{m.name}={m.peer_url}" for m in cluster.members)
    for member in cluster.members:
        result = subprocess.run(
            [
                "etcdctl",
                "snapshot",
                "restore",
                str(file),
                f"--name={member.name}",
                f"--data-dir={member.data_dir}",
                f"--initial-cluster={initial}",
                f"--initial-cluster-token={cluster.token}",
                f"--initial-advertise-peer-urls={member.peer_url}",
            ],
            capture_output=True,
            text=True,
            env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin:/usr/local/bin"},
            check=False,
        )
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["failed"])[-1]
            raise StorageError(f"etcdctl snapshot restore for {member.name}: {last}")
    click.echo(f"Restored {members} members from {file}; start them with kubeward etcd up")


def _ports(url: str) -> tuple[int, int]:
    port = int(url.rsplit(":", 1)[1])
    return port, port + 1
