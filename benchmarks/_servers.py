"""Servers for the API benchmarks: kubeward from a source tree, and the aiohttp ceiling.

``benchmarks/api.py`` measures this checkout's server next to the server of an earlier git
revision in the same run: the revision's ``src/`` is exported with ``git archive`` into a
temporary directory and ``python -m kubeward up`` runs with that directory first on
PYTHONPATH, so both servers share the interpreter, the dependencies and the machine's load.
``kubeward up`` runs on uvloop (``cli/runtime.py``); the ceiling server does too.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_ssl(kubeconfig: Path, workdir: Path) -> ssl.SSLContext:
    """The client TLS context of a kubeconfig's first user (files written under ``workdir``)."""
    doc = yaml.safe_load(kubeconfig.read_text())
    user = doc["users"][0]["user"]
    ca = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    stem = kubeconfig.stem
    (workdir / f"{stem}-ca.crt").write_bytes(ca)
    (workdir / f"{stem}.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (workdir / f"{stem}.key").write_bytes(base64.b64decode(user["client-key-data"]))
    return tls_context(workdir, stem)


def tls_context(workdir: Path, stem: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(workdir / f"{stem}-ca.crt"))
    context.load_cert_chain(str(workdir / f"{stem}.crt"), str(workdir / f"{stem}.key"))
    return context


def wait_ready(url: str, context: ssl.SSLContext, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", context=context, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not become ready")


def source_tree_at(revision: str, into: Path) -> Path:
    """Export ``src/`` of ``revision`` under ``into``; returns that ``src`` directory."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def describe(revision: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", revision],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@dataclass
class Server:
    """A ``kubeward up`` process and what a client needs to reach it."""

    label: str
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    context: ssl.SSLContext

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_kubeward(
    label: str,
    src: Path,
    workdir: Path,
    extra_args: tuple[str, ...] = (),
    python_args: tuple[str, ...] = (),
) -> Server:
    """``python -m kubeward up`` with ``src`` first on PYTHONPATH, in its own data dir.

    ``extra_args`` are more ``kubeward up`` flags (``--nodes 100``); ``python_args`` go before
    ``-m kubeward`` (``-m cProfile -o FILE``).
    """
    data_dir = workdir / f"data-{label}"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONWARNINGS="ignore")
    process = subprocess.Popen(
        [
            sys.executable,
            *python_args,
            "-m",
            "kubeward",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    admin = data_dir / "admin.conf"
    deadline = time.monotonic() + 60
    while not admin.exists() and time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kubeward ({label}) exited with {process.returncode}")
        time.sleep(0.05)
    time.sleep(0.2)  # the file is written whole, but give the writer a moment to close it
    keys = workdir / f"keys-{label}"
    keys.mkdir()
    context = client_ssl(admin, keys)
    url = f"https://127.0.0.1:{port}"
    wait_ready(url, context)
    return Server(label, process, url, data_dir, context)


def start_ceiling(pki: Path, context: ssl.SSLContext) -> tuple[subprocess.Popen[bytes], str]:
    """The same aiohttp + TLS stack answering constant bodies (see ``run_ceiling``)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "_servers.py"),
            str(port),
            str(pki / "apiserver.crt"),
            str(pki / "apiserver.key"),
            str(pki / "ca.crt"),
        ]
    )
    url = f"https://127.0.0.1:{port}"
    wait_ready(url, context)
    return process, url


def run_ceiling(port: int, cert: str, key: str, ca: str) -> None:
    """Serve ``/bytes/N`` (N bytes of JSON-ish filler) and a ConfigMap-sized body elsewhere."""
    import orjson
    import uvloop
    from aiohttp import web

    body = orjson.dumps(
        {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"name": "bench"},
            "data": {"k": "v" * 900},
        }
    )
    sized: dict[int, bytes] = {}

    async def handler(request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "bytes":
            size = int(parts[1])
            if size not in sized:
                sized[size] = (b'{"items":["' + b"x" * size)[: size - 3] + b'"]}'
            return web.Response(body=sized[size], content_type="application/json")
        return web.Response(body=body, content_type="application/json")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, access_log=None, print=None)


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="kubeward-bench-")


if __name__ == "__main__":
    run_ceiling(int(sys.argv[1]), *sys.argv[2:5])
