"""``kubeward config new-user`` end to end: openssl, kubectl, the Python client and a handshake."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from kubeward.kubeconfig.load import load_kubeconfig
from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ca")
    authority = CertificateAuthority.create(
        "kubernetes", datetime.timedelta(days=30), algorithm="ecdsa-p256"
    )
    (folder / "ca.crt").write_bytes(authority.cert_pem)
    (folder / "ca.key").write_bytes(private_key_pem(authority.key))
    os.chmod(folder / "ca.key", 0o600)
    return folder


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    return env


def _new_user(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeward", "config", "new-user", *args],
        cwd=cwd,
        env=_env(cwd),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _openssl(*args: str, data: bytes | None = None) -> str:
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.fixture(scope="module")
def jane(ca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("jane")
    done = _new_user(
        work,
        "--name=jane",
        "--org=dev",
        "--org=qa",
        f"--ca-dir={ca_dir}",
        "--server=https://127.0.0.1:6443",
        "--duration=720h",
        "--namespace=team",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('Wrote jane.kubeconfig for user "jane" (groups: dev, qa)')
    return work / "jane.kubeconfig"


def test_kubeconfig_new_user_file_is_private(jane: Path) -> None:
    assert stat.S_IMODE(jane.stat().st_mode) == 0o600


def test_kubeconfig_new_user_certificate_as_openssl_sees_it(jane: Path, ca_dir: Path) -> None:
    user = load_kubeconfig(jane).user("jane")
    assert user is not None and user.client_certificate_data is not None
    cert = user.client_certificate_data
    assert "subject=O = dev, O = qa, CN = jane" in _openssl("x509", "-noout", "-subject", data=cert)
    assert "TLS Web Client Authentication" in _openssl(
        "x509", "-noout", "-ext", "extendedKeyUsage", data=cert
    )
    end = _openssl("x509", "-noout", "-enddate", data=cert)
    expires = datetime.datetime.strptime(end.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    lifetime = expires - datetime.datetime.now()
    assert datetime.timedelta(days=29) < lifetime <= datetime.timedelta(days=30, minutes=1)
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca_dir / "ca.crt")],
        input=cert,
        capture_output=True,
        timeout=60,
    )
    assert verify.returncode == 0 and b"OK" in verify.stdout


def test_kubeconfig_new_user_kubectl_reads_and_switches(jane: Path, tmp_path: Path) -> None:
    env = {**_env(tmp_path), "KUBECONFIG": str(jane)}
    listing = subprocess.run(
        ["kubectl", "config", "get-contexts"], env=env, capture_output=True, text=True, timeout=60
    )
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert rows[1] == ["*", "jane@kubernetes", "kubernetes", "jane", "team"]
    view = subprocess.run(
        ["kubectl", "config", "view", "--raw", "-o", "jsonpath={.users[0].user.client-key-data}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    user = load_kubeconfig(jane).user("jane")
    assert user is not None and user.fields["client-key-data"] == view.stdout


def test_kubeconfig_new_user_loads_in_the_python_client(jane: Path) -> None:
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(jane), client_configuration=configuration)
    assert configuration.host == "https://127.0.0.1:6443"
    user = load_kubeconfig(jane).user("jane")
    assert user is not None
    assert Path(str(configuration.cert_file)).read_bytes() == user.client_certificate_data
    assert Path(str(configuration.key_file)).read_bytes() == user.client_key_data


@pytest.fixture
def api_server(ca_dir: Path, tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """A TLS server with a serving certificate from the same CA, requiring client certificates."""
    authority = CertificateAuthority.from_dir(ca_dir)
    key = generate_private_key("ecdsa-p256")
    cert = authority.issue(
        key.public_key(),
        build_subject("kube-apiserver"),
        Profile.SERVER,
        datetime.timedelta(hours=1),
        alt_names=AltNames.parse(["127.0.0.1", "localhost"]),
    )
    (tmp_path / "server.pem").write_bytes(certificate_pem(cert) + private_key_pem(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    context.load_verify_locations(ca_dir / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    identities: list[str] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            raw.settimeout(10)
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    peer = conn.getpeercert() or {}
                    names = [pair[1] for rdn in peer.get("subject", ()) for pair in rdn]
                    identities.append("/".join(str(n) for n in names))
                    conn.sendall(b"ok")
            except (ssl.SSLError, OSError):
                identities.append("<refused>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], identities
    stop.set()
    thread.join(timeout=10)
    listener.close()


@pytest.mark.parametrize("algorithm", ["rsa-2048", "ecdsa-p384", "ed25519"])
def test_kubeconfig_new_user_authenticates_over_mutual_tls(
    algorithm: str, ca_dir: Path, tmp_path: Path, api_server: tuple[int, list[str]]
) -> None:
    port, identities = api_server
    done = _new_user(
        tmp_path,
        "--name=bob",
        "--org=ops",
        f"--ca-dir={ca_dir}",
        f"--server=https://localhost:{port}",
        f"--key-algorithm={algorithm}",
        "--out=bob.conf",
    )
    assert done.returncode == 0, done.stderr
    creds = ClientCredentials.from_kubeconfig(tmp_path / "bob.conf")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        creds.ssl_context.wrap_socket(raw, server_hostname=creds.server_hostname) as conn,
    ):
        assert conn.recv(2) == b"ok"
    assert identities == ["ops/bob"]


def test_kubeconfig_new_user_prints_with_out_dash(ca_dir: Path, tmp_path: Path) -> None:
    done = _new_user(
        tmp_path, "--name=eve", f"--ca-dir={ca_dir}", "--server=https://k:6443", "--out=-"
    )
    assert done.returncode == 0, done.stderr
    assert "current-context: eve@kubernetes\n" in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ca-dir={tmp}/nowhere"], "error: {tmp}/nowhere: no such directory"),
        (["--ca-dir={tmp}"], "error: {tmp}: no CA here"),
        (["--duration=soon"], "error: 'soon': not a duration"),
        (["--duration=-5h"], "error: validity"),
        (["--server=http://k:8080"], "error: --server http://k:8080: must be an https:// URL"),
        (["--key-algorithm=rsa-1024"], "error: key algorithm 'rsa-1024': unsupported"),
        (["--out=existing.conf"], "error: existing.conf: already exists; refusing to overwrite"),
        (["--org="], "error: --org: must not be empty"),
    ],
    ids=[
        "missing-ca-dir",
        "folder-without-ca",
        "bad-duration",
        "negative-duration",
        "plain-http",
        "weak-key",
        "existing-output",
        "empty-group",
    ],
)
def test_kubeconfig_new_user_bad_input_is_one_line_and_writes_nothing(
    args: list[str], message: str, ca_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "existing.conf").write_text("keep me\n")
    defaults = {
        "--ca-dir": f"--ca-dir={ca_dir}",
        "--server": "--server=https://k:6443",
        "--out": "--out=new.conf",
    }
    given = [a.format(tmp=tmp_path) for a in args]
    for flag, value in defaults.items():
        if not any(a.startswith(flag + "=") for a in given):
            given.append(value)
    done = _new_user(tmp_path, "--name=mallory", *given)
    assert done.returncode == 1
    assert done.stderr.startswith(message.format(tmp=tmp_path))
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.conf"]
    assert (tmp_path / "existing.conf").read_text() == "keep me\n"
