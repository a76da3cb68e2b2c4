"""Key rotation with ``kubeward serve --service-account-key-file``, as an operator does it.

A token signed with an old key keeps working while the old public key is still configured
(next to the new signing key), and is refused — 401, logged as an unknown key id — once it
is removed.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubeward.server.wiring.local import local_config
from kubeward.testing.cluster import free_port

ISSUER = "https://kubernetes.default.svc.cluster.local"
SRC = Path(__file__).resolve().parents[2] / "src"


@contextmanager
def serve(
    data_dir: Path, port: int, signing_key: Path, key_files: list[Path], log: Path
) -> Iterator[None]:
    pki = data_dir / "pki"
    args = [
        sys.executable,
        "-c",
        "from kubeward.cli.main import main; main()",
        "serve",
        "-v",
        "--secure-port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--data-dir",
        str(data_dir),
        "--tls-cert-file",
        str(pki / "apiserver.crt"),
        "--tls-private-key-file",
        str(pki / "apiserver.key"),
        "--client-ca-file",
        str(pki / "ca.crt"),
        "--authorization-mode",
        "RBAC",
        "--service-account-issuer",
        ISSUER,
        "--service-account-signing-key-file",
        str(signing_key),
    ]
    for key_file in key_files:
        args += ["--service-account-key-file", str(key_file)]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            for _ in range(200):
                if "serving securely" in log.read_text():
                    break
                if process.poll() is not None:
                    raise AssertionError(log.read_text())
                time.sleep(0.05)
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)


def pods_status(port: int, ca: Path, token: str) -> int:
    request = urllib.request.Request(
        f"https://127.0.0.1:{port}/api/v1/namespaces/default/pods",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(
            request, context=ssl.create_default_context(cafile=str(ca)), timeout=10
        ) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def kubectl(kubeconfig: Path, home: Path, *args: str) -> str:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home)}
    result = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def cluster_files(tmp_path: Path) -> dict[str, Any]:
    port = free_port()
    _config, admin = local_config(tmp_path / "data", port)
    old = ec.generate_private_key(ec.SECP256R1())
    old_key, old_pub = tmp_path / "old.key", tmp_path / "old.pub"
    old_key.write_bytes(
        old.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    old_pub.write_bytes(
        old.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    pki = tmp_path / "data" / "pki"
    return {
        "port": port,
        "admin": admin,
        "data": tmp_path / "data",
        "old_key": old_key,
        "old_pub": old_pub,
        "new_key": pki / "sa.key",
        "new_pub": pki / "sa.pub",
        "ca": pki / "ca.crt",
        "home": tmp_path,
    }


def test_old_key_works_while_configured_then_stops(
    cluster_files: dict[str, Any], tmp_path: Path
) -> None:
    f = cluster_files
    with serve(f["data"], f["port"], f["old_key"], [], tmp_path / "a.log"):
        kubectl(f["admin"], f["home"], "create", "serviceaccount", "bot")
        old_token = kubectl(f["admin"], f["home"], "create", "token", "bot")
        assert pods_status(f["port"], f["ca"], old_token) == 403  # authenticated, not authorized
    with serve(f["data"], f["port"], f["new_key"], [f["old_pub"]], tmp_path / "b.log"):
        new_token = kubectl(f["admin"], f["home"], "create", "token", "bot")
        assert pods_status(f["port"], f["ca"], old_token) == 403
        assert pods_status(f["port"], f["ca"], new_token) == 403
        jwks = json.loads(kubectl(f["admin"], f["home"], "get", "--raw", "/openid/v1/jwks"))
        assert len(jwks["keys"]) == 2
    with serve(f["data"], f["port"], f["new_key"], [f["new_pub"]], tmp_path / "c.log"):
        assert pods_status(f["port"], f["ca"], old_token) == 401
        assert pods_status(f["port"], f["ca"], new_token) == 403
    assert "service-account token: unknown key id" in (tmp_path / "c.log").read_text()
