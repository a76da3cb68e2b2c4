"""`kubeward up` as a user runs it: starts, serves kubectl, stops on SIGTERM, keeps its data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeward", "up", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("kubeward is up: https://127.0.0.1:"), first + proc.stderr.read()
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for exit and read the rest of the output.

    Not ``communicate()``: it reads the pipes' file descriptors and would miss what
    ``readline()`` in ``start`` had already buffered.
    """
    proc.wait(timeout=30)
    assert proc.stdout is not None and proc.stderr is not None
    with proc.stdout, proc.stderr:
        return proc.stdout.read(), proc.stderr.read()


def kubectl(data_dir: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(data_dir / "admin.conf"))
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)


def test_up_serves_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    proc = start(data_dir, port)
    try:
        created = kubectl(data_dir, tmp_path, "create", "configmap", "kept", "--from-literal=a=1")
        assert created.returncode == 0, created.stderr
        assert (data_dir / "pki" / "ca.key").stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc)
    assert proc.returncode == 0, err
    assert "export KUBECONFIG=" in out

    proc = start(data_dir, port)
    try:
        shown = kubectl(data_dir, tmp_path, "get", "configmap", "kept", "-o", "jsonpath={.data.a}")
        assert shown.returncode == 0 and shown.stdout == "1", shown.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        finish(proc)
    assert proc.returncode == 0
