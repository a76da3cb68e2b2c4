"""``kubeward etcd up|status|snapshot`` and ``kubeward up --etcd --replicas 2`` / ``serve
--etcd-servers`` as a user runs them: an object written through one API server read through
the other, a backup taken, a later write, a restore, and the backup's state is back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KUBEWARD = [sys.executable, "-m", "kubeward"]


def free_pair() -> int:
    """A port P below 45535 with P and P + 1 free (one member's client and peer ports)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port >= 45535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free pair of ports")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(args: list[str], ready: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*KUBEWARD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        first = proc.stdout.readline()
        assert first.startswith(ready), first + proc.stderr.read()
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*KUBEWARD, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def kubectl(
    home: Path, kubeconfig: Path, *args: str, server: str = ""
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig))
    extra = [f"--server={server}"] if server else []
    return subprocess.run(
        ["kubectl", *extra, *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_etcd_up_status_backup_and_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = str(free_pair())
    etcd_up = ["etcd", "up", "--dir", str(data), "--members", "1", "--port-base", base]
    admin = data / "admin.conf"
    with running(etcd_up, "etcd is up: "):
        status = cli("etcd", "status", "--dir", str(data)).stdout
        assert f"https://127.0.0.1:{base}" in status and " leader " in status
        api = free_pair()
        up = ["up", "--data-dir", str(data), "--etcd", "--port", str(api), "--replicas", "2"]
        with running(up, "kubeward is up"):
            made = kubectl(tmp_path, admin, "create", "configmap", "kept", "--from-literal=a=1")
            assert made.returncode == 0, made.stderr
            second = f"https://127.0.0.1:{api + 1}"
            seen = kubectl(tmp_path, admin, "get", "configmap", "kept", "-o", "name", server=second)
            assert seen.stdout.strip() == "configmap/kept", seen.stderr
            saved = cli("etcd", "snapshot", "save", "--dir", str(data), str(tmp_path / "backup.db"))
            assert "Snapshot saved" in saved.stdout
            later = kubectl(tmp_path, admin, "create", "configmap", "later")
            assert later.returncode == 0, later.stderr
    restored = cli("etcd", "snapshot", "restore", "--dir", str(data), str(tmp_path / "backup.db"))
    assert "Restored 1 members" in restored.stdout
    with running(etcd_up, "etcd is up: "):
        port = free_port()
        pki = data / "pki"
        serve = [
            "serve",
            f"--secure-port={port}",
            "--bind-address=127.0.0.1",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--etcd-servers=https://127.0.0.1:{base}",
            f"--etcd-cafile={pki / 'etcd' / 'ca.crt'}",
            f"--etcd-certfile={pki / 'apiserver-etcd-client.crt'}",
            f"--etcd-keyfile={pki / 'apiserver-etcd-client.key'}",
            "--storage-backend=etcd3",
        ]
        with running(serve, "kubeward API server is ready"):
            server = f"https://127.0.0.1:{port}"
            names = kubectl(tmp_path, admin, "get", "configmaps", "-o", "name", server=server)
            assert names.returncode == 0, names.stderr
            assert "configmap/kept" in names.stdout.split()
            assert "configmap/later" not in names.stdout.split()
