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


def readme_next_commands() -> list[str]:
    """The shell block of the README's "Run it" section that follows `kubeward up`."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("prints what to type next:\n\n```sh\n", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()


def read_banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines = []
    while not lines or not lines[-1].startswith("Stop with Ctrl-C"):
        lines.append(proc.stdout.readline().rstrip("\n"))
    return lines


def test_up_prints_the_readme_commands_and_each_works(tmp_path):
    data_dir = tmp_path / "data"
    proc = start(data_dir, free_port())
    try:
        banner = [line.strip() for line in read_banner(proc)]
        expected = readme_next_commands()
        assert expected[0] == "export KUBECONFIG=$PWD/.kubeward/admin.conf"
        assert f"export KUBECONFIG={data_dir.resolve() / 'admin.conf'}" in banner
        shown = [line for line in banner if line.startswith("kubectl ")]
        assert shown == expected[1:]
        outputs = [kubectl(data_dir, tmp_path, *line.split()[1:]) for line in shown]
        namespaces, whoami, can_i = outputs
        assert namespaces.returncode == 0 and "kube-system" in namespaces.stdout
        assert whoami.returncode == 0 and "kubernetes-admin" in whoami.stdout
        assert "kubeadm:cluster-admins" in whoami.stdout
        assert can_i.stdout.split()[0] == "no" and can_i.returncode == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc)


def test_another_port_points_the_kubeconfigs_at_it(tmp_path):
    """kubeadm would refuse ("wrong API Server URL"); `up` owns its directory and follows the port."""
    data_dir = tmp_path / "data"
    proc = start(data_dir, free_port())
    proc.send_signal(signal.SIGTERM)
    finish(proc)
    admin_before = (data_dir / "admin.conf").read_text()
    new_port = free_port()
    proc = start(data_dir, new_port)
    try:
        shown = kubectl(data_dir, tmp_path, "get", "namespace", "default", "-o", "name")
        assert shown.returncode == 0 and shown.stdout.strip() == "namespace/default", shown.stderr
        for name in ("admin.conf", "super-admin.conf", "controller-manager.conf"):
            assert f"server: https://127.0.0.1:{new_port}\n" in (data_dir / name).read_text()
        before = [line for line in admin_before.splitlines() if "server:" not in line]
        after = [
            line
            for line in (data_dir / "admin.conf").read_text().splitlines()
            if "server:" not in line
        ]
        assert before == after  # the same credential, only the URL moved
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = finish(proc)
    assert "admin.conf" in err and f"server is now https://127.0.0.1:{new_port}" in err
    assert "--force" not in err


def _held_port() -> tuple[socket.socket, int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder, int(holder.getsockname()[1])


def test_a_port_in_use_is_one_line_that_names_the_flag(tmp_path):
    holder, port = _held_port()
    with holder:
        up = subprocess.run(
            [
                sys.executable,
                "-m",
                "kubeward",
                "up",
                "--data-dir",
                str(tmp_path / "d"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        pki = tmp_path / "d" / "pki"
        serve = subprocess.run(
            [
                sys.executable,
                "-m",
                "kubeward",
                "serve",
                "--bind-address",
                "127.0.0.1",
                "--secure-port",
                str(port),
                "--tls-cert-file",
                str(pki / "apiserver.crt"),
                "--tls-private-key-file",
                str(pki / "apiserver.key"),
                "--client-ca-file",
                str(pki / "ca.crt"),
                "--data-dir",
                str(tmp_path / "s"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    for result, flag in ((up, "--port"), (serve, "--secure-port")):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
        assert "already in use" in lines[0] and flag in lines[0]


def test_serve_says_when_it_is_ready_and_warns_about_what_it_exposes(tmp_path):
    started = start(tmp_path / "d", free_port())  # only to create the PKI
    started.send_signal(signal.SIGTERM)
    finish(started)
    pki = tmp_path / "d" / "pki"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeward", "serve", "--bind-address", "127.0.0.1",
         "--secure-port", str(port), "--tls-cert-file", str(pki / "apiserver.crt"),
         "--tls-private-key-file", str(pki / "apiserver.key"),
         "--authorization-mode", "AlwaysAllow", "--data-dir", str(tmp_path / "s")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = finish(proc)
    assert ready == f"kubeward API server is ready: https://127.0.0.1:{port}\n", ready + err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, err  # loopback only: no warning about --bind-address
    assert "no --client-ca-file" in warnings[0]
    assert "AlwaysAllow" in warnings[1] and "anonymous" in warnings[1]
