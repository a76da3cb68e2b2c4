"""A local etcd cluster on loopback, from Debian's ``etcd`` binary and kubeward's etcd PKI.

``kubeward etcd up``, the tests and the benchmarks start their clusters here, so the flags that
make a cluster secure are written once. Rules:

 1. Every member speaks TLS only and demands certificates from the etcd CA on both ports:
    ``--client-cert-auth`` with ``--trusted-ca-file`` and ``--peer-client-cert-auth`` with
    ``--peer-trusted-ca-file`` (kubeadm's static pod does the same). Members listen on
    127.0.0.1 only.
 2. The certificates are those of ``kubeward pki init --etcd-member NAME=127.0.0.1``: the first
    member uses ``pki/etcd/server.*`` and ``peer.*``, member NAME ``server-NAME.*`` and
    ``peer-NAME.*``; the API server's client is ``pki/apiserver-etcd-client.*``.
 3. ``--pre-vote=true`` (etcd 3.4's default is false): a member that was cut off does not
    disrupt the leader when it comes back.
 4. Ports are chosen free at start unless given; each member keeps its ports and data
    directory across ``kill``/``restart`` so it rejoins as itself.
 5. ``start`` returns once every member answers ``/health`` (bounded by ``timeout``);
    ``stop`` sends SIGTERM, waits, then SIGKILL. Nothing is left running.
 6. ``kubeward etcd up`` uses fixed loopback ports (2379/2380, 12379/12380,
    22379/22380, ...) and writes ``etcd-cluster.json`` (endpoints and client files) next to
    the PKI, which ``kubeward etcd status`` and ``kubeward up --etcd`` read.
 7. Members send watch progress notifications every ``progress_notify_interval`` (5 s; etcd's
    default is 10 min): on etcd before 3.4.31/3.5.13 they are the only progress an API server
    may trust (storage/etcd/backend.py rule 9), and they become the revision of the bookmarks
    a watcher of a quiet resource gets.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kubeward.errors import StorageError
from kubeward.pki.bundle import ensure_bundle
from kubeward.pki.layout import DEFAULT_PORT, BundleOptions
from kubeward.pki.layout import Member as PKIMember
from kubeward.storage.etcd.config import TLSFiles

ETCD_BINARY = "etcd"


def client_tls(pki_dir: Path) -> TLSFiles:
    """The API server's etcd client files under ``pki_dir`` (the kubeadm layout, rule 2)."""
    return TLSFiles(
        pki_dir / "etcd" / "ca.crt",
        pki_dir / "apiserver-etcd-client.crt",
        pki_dir / "apiserver-etcd-client.key",
    )


def member_names(count: int) -> list[str]:
    return [f"etcd-{i}" for i in range(count)]


STATE_FILE = "etcd-cluster.json"


def standard_ports(members: int, base: int = 2379) -> list[tuple[int, int]]:
    """Rule 6: member i serves clients on ``base`` + 10000 i and peers on the port after it."""
    ports = [(base + 10000 * i, base + 10000 * i + 1) for i in range(members)]
    if members < 1 or ports[-1][1] > 65535:
        raise ValueError(f"{members} members do not fit above port {base}")
    return ports


def ensure_etcd_pki(directory: Path, members: int, *, service_cidr: str) -> Path:
    """Issue (or keep) the PKI for ``members`` loopback members (rule 2); returns ``directory/pki``.

    A new directory gets the whole bundle, so ``service_cidr`` must be the one ``kubeward up``
    will use (the API server's certificate names its first address).
    """
    loopback = ipaddress.ip_address("127.0.0.1")
    ensure_bundle(
        BundleOptions(
            directory=directory,
            port=_api_server_port(directory),
            service_cidr=service_cidr,
            key_algorithm="ecdsa-p256",  # as kubeward up issues them
            etcd_members=tuple(PKIMember(name, loopback) for name in member_names(members)),
        )
    )
    return directory / "pki"


def _api_server_port(directory: Path) -> int:
    """The port the directory's kubeconfigs name (``kubeward up --port``), so that issuing the
    etcd certificates leaves them as they are; kubeadm's 6443 for a new directory."""
    try:
        config = yaml.safe_load((directory / "admin.conf").read_text())
        port = urllib.parse.urlsplit(config["clusters"][0]["cluster"]["server"]).port
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError, ValueError):
        return DEFAULT_PORT
    return port or DEFAULT_PORT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Member:
    """One etcd member: its name, ports, files and (while it runs) its process."""

    name: str
    index: int
    client_port: int
    peer_port: int
    data_dir: Path
    log_file: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def client_url(self) -> str:
        return f"https://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"https://127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class LocalCluster:
    """``members`` etcd processes under ``data_dir`` sharing the etcd PKI in ``pki_dir``."""

    def __init__(
        self,
        pki_dir: Path,
        data_dir: Path,
        members: int = 3,
        *,
        ports: list[tuple[int, int]] | None = None,
        token: str = "kubeward-etcd",
        fast_elections: bool = False,
        progress_notify_interval: str = "5s",
    ) -> None:
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        self.pki_dir = pki_dir
        self.data_dir = data_dir
        self.token = token
        self.fast_elections = fast_elections
        self.progress_notify_interval = progress_notify_interval
        chosen = ports or [(free_port(), free_port()) for _ in range(members)]
        self.members = [
            Member(
                name,
                i,
                chosen[i][0],
                chosen[i][1],
                data_dir / name,
                data_dir / f"{name}.log",
            )
            for i, name in enumerate(member_names(members))
        ]

    @property
    def endpoints(self) -> list[str]:
        return [m.client_url for m in self.members]

    @property
    def client_tls(self) -> TLSFiles:
        return client_tls(self.pki_dir)

    def write_state(self, path: Path) -> None:
        """Rule 6: what a client needs to reach this cluster, as JSON."""
        tls = self.client_tls
        state = {
            "endpoints": self.endpoints,
            "members": [m.name for m in self.members],
            "cafile": str(tls.ca_file.resolve()),
            "certfile": str(tls.cert_file.resolve()),
            "keyfile": str(tls.key_file.resolve()),
        }
        path.write_text(json.dumps(state, indent=2) + "\n")

    def _files(self, member: Member) -> tuple[Path, Path, Path, Path]:
        suffix = "" if member.index == 0 else f"-{member.name}"
        etcd = self.pki_dir / "etcd"
        return (
            etcd / f"server{suffix}.crt",
            etcd / f"server{suffix}.key",
            etcd / f"peer{suffix}.crt",
            etcd / f"peer{suffix}.key",
        )

    def command(self, member: Member) -> list[str]:
        """The ``etcd`` command line of ``member`` (rules 1-3)."""
        cert, key, peer_cert, peer_key = self._files(member)
        ca = self.pki_dir / "etcd" / "ca.crt"
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        args = [
            ETCD_BINARY,
            f"--name={member.name}",
            f"--data-dir={member.data_dir}",
            f"--listen-client-urls={member.client_url}",
            f"--advertise-client-urls={member.client_url}",
            f"--listen-peer-urls={member.peer_url}",
            f"--initial-advertise-peer-urls={member.peer_url}",
            f"--initial-cluster={initial}",
            f"--initial-cluster-token={self.token}",
            "--initial-cluster-state=new",
            "--client-cert-auth=true",
            f"--trusted-ca-file={ca}",
            f"--cert-file={cert}",
            f"--key-file={key}",
            "--peer-client-cert-auth=true",
            f"--peer-trusted-ca-file={ca}",
            f"--peer-cert-file={peer_cert}",
            f"--peer-key-file={peer_key}",
            "--pre-vote=true",
            "--snapshot-count=10000",
            "--logger=zap",
            "--log-outputs=stderr",
            f"--experimental-watch-progress-notify-interval={self.progress_notify_interval}",
        ]
        if self.fast_elections:
            args += ["--heartbeat-interval=50", "--election-timeout=500"]
        return args

    def start(self, timeout: float = 30.0) -> None:
        """Start every member that is not running and wait until all are healthy (rule 5).

        Raises:
            StorageError: ``etcd`` is not installed, a member exited, or the cluster did not
                become healthy within ``timeout``.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for member in self.members:
            if not member.running:
                self._spawn(member)
        self.wait_healthy(timeout)

    def start_members(self, members: list[Member]) -> None:
        """Start ``members`` without waiting for them (fault and security tests)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for member in members:
            if not member.running:
                self._spawn(member)

    def is_healthy(self, member: Member) -> bool:
        """Whether ``member`` answers ``/health`` with a leader (it has joined a quorum)."""
        return member.running and _healthy(member.client_url, self.ssl_context())

    def _spawn(self, member: Member) -> None:
        try:
            with member.log_file.open("ab") as log:
                member.process = subprocess.Popen(
                    self.command(member),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
        except FileNotFoundError as exc:
            raise StorageError(
                f"{ETCD_BINARY}: not found; install it (Debian: apt-get install etcd-server)"
            ) from exc

    def wait_healthy(self, timeout: float, members: list[Member] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = list(members if members is not None else self.members)
        context = self.ssl_context()
        while pending:
            for member in list(pending):
                if not member.running:
                    raise StorageError(f"etcd member {member.name} exited; see {member.log_file}")
                if _healthy(member.client_url, context):
                    pending.remove(member)
            if pending and time.monotonic() > deadline:
                names = ", ".join(m.name for m in pending)
                raise StorageError(f"etcd members not healthy after {timeout:.0f}s: {names}")
            if pending:
                time.sleep(0.05)

    def ssl_context(self) -> ssl.SSLContext:
        files = self.client_tls
        context = ssl.create_default_context(cafile=str(files.ca_file))
        context.load_cert_chain(str(files.cert_file), str(files.key_file))
        return context

    def kill(self, member: Member) -> None:
        """SIGKILL ``member`` (a crash, for fault tests)."""
        if member.process is not None and member.running:
            os.kill(member.process.pid, signal.SIGKILL)
            member.process.wait()

    def restart(self, member: Member, timeout: float = 30.0) -> None:
        """Start a stopped member again with its old data directory (rule 4)."""
        if not member.running:
            self._spawn(member)
        self.wait_healthy(timeout, [member])

    def stop(self, grace: float = 3.0) -> None:
        """Stop every member: SIGTERM, then SIGKILL after ``grace`` seconds (rule 5)."""
        for member in self.members:
            if member.running and member.process is not None:
                member.process.terminate()
        deadline = time.monotonic() + grace
        for member in self.members:
            if member.process is None:
                continue
            try:
                member.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
            member.process = None


def _healthy(url: str, context: ssl.SSLContext) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", context=context, timeout=1.0) as response:
            return b'"true"' in response.read()
    except (OSError, urllib.error.URLError):
        return False
