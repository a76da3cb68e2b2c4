"""kubeward's kubeconfigs read by the real kubectl and the official Python client, and used in real TLS."""

import base64
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config


def kubeward(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kubeward", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clients") / "cluster"
    kubeward("pki", "init", "--dir", str(root), "--node", "w1=127.0.0.1", "--cluster-name", "lab")
    return root


@pytest.mark.parametrize(
    ("file", "user"),
    [
        ("admin.conf", "kubernetes-admin"),
        ("super-admin.conf", "kubernetes-super-admin"),
        ("scheduler.conf", "system:kube-scheduler"),
        ("kubelet-w1.conf", "system:node:w1"),
    ],
    ids=str,
)
def test_kubectl_config_view_reads_it(cluster: Path, file: str, user: str) -> None:
    result = kubectl("config", "view", "--kubeconfig", str(cluster / file), "-o", "json")
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["current-context"] == f"{user}@lab"
    assert view["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert view["users"][0]["name"] == user
    assert view["users"][0]["user"]["client-key-data"] in ("DATA+OMITTED", "REDACTED")


def test_kubectl_get_contexts_and_use_context_on_a_kubeward_file(
    cluster: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "admin.conf"
    shutil.copy(cluster / "admin.conf", copy)
    result = kubectl("config", "get-contexts", "--kubeconfig", str(copy))
    assert (
        result.returncode == 0 and "kubernetes-admin@lab" in result.stdout and "*" in result.stdout
    )
    assert (
        kubectl(
            "config",
            "set-context",
            "other",
            "--cluster",
            "lab",
            "--user",
            "kubernetes-admin",
            "--kubeconfig",
            str(copy),
        ).returncode
        == 0
    )
    assert kubectl("config", "use-context", "other", "--kubeconfig", str(copy)).returncode == 0
    # kubeward still reads the file kubectl rewrote
    assert "Current context: other" in kubeward("pki", "inspect", str(copy))
    assert kubectl("config", "current-context", "--kubeconfig", str(copy)).stdout.strip() == "other"


def test_kubernetes_python_client_loads_it(cluster: Path) -> None:
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(
        config_file=str(cluster / "admin.conf"), client_configuration=configuration
    )
    assert configuration.host == "https://127.0.0.1:6443"
    assert Path(configuration.cert_file).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert Path(configuration.ssl_ca_cert).read_bytes() == (cluster / "pki" / "ca.crt").read_bytes()


def test_renewed_kubeconfig_still_loads(cluster: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c"
    shutil.copytree(cluster, copy)
    before = yaml.safe_load((copy / "admin.conf").read_text())
    kubeward("pki", "renew", "admin.conf", "--dir", str(copy))
    after = yaml.safe_load((copy / "admin.conf").read_text())
    assert (
        after["users"][0]["user"]["client-certificate-data"]
        != before["users"][0]["user"]["client-certificate-data"]
    )
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(
        config_file=str(copy / "admin.conf"), client_configuration=configuration
    )
    assert configuration.host == "https://127.0.0.1:6443"


def _serve_once(context: ssl.SSLContext, listener: socket.socket, seen: dict[str, object]) -> None:
    conn, _ = listener.accept()
    try:
        with context.wrap_socket(conn, server_side=True) as tls:
            seen["peer"] = tls.getpeercert()
            tls.sendall(b"ok")
    except (ssl.SSLError, OSError) as exc:
        seen["error"] = exc


def _handshake(
    server_cert: Path,
    server_key: Path,
    client_ca: Path,
    client_cert: Path,
    client_key: Path,
    trust: Path,
    host: str,
) -> dict[str, object]:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(server_cert, server_key)
    server.load_verify_locations(client_ca)
    server.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    seen: dict[str, object] = {}
    thread = threading.Thread(target=_serve_once, args=(server, listener, seen), daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(trust))
    client.load_cert_chain(client_cert, client_key)
    try:
        with (
            socket.create_connection(listener.getsockname(), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname=host) as tls,
        ):
            seen["reply"] = tls.recv(2)
    except ssl.SSLError as exc:
        seen["client_error"] = exc
    thread.join(timeout=10)
    listener.close()
    return seen


def _kubeconfig_pair(cluster: Path, file: str, tmp_path: Path) -> tuple[Path, Path]:
    user = yaml.safe_load((cluster / file).read_text())["users"][0]["user"]
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    return cert, key


@pytest.mark.parametrize("host", ["kubernetes.default.svc", "localhost", "127.0.0.1"], ids=str)
def test_real_tls_handshake_apiserver_and_admin(cluster: Path, tmp_path: Path, host: str) -> None:
    pki = cluster / "pki"
    cert, key = _kubeconfig_pair(cluster, "admin.conf", tmp_path)
    seen = _handshake(
        pki / "apiserver.crt",
        pki / "apiserver.key",
        pki / "ca.crt",
        cert,
        key,
        pki / "ca.crt",
        host,
    )
    assert seen.get("reply") == b"ok", seen
    subject = dict(item[0] for item in seen["peer"]["subject"])  # type: ignore[index]
    assert (
        subject["commonName"] == "kubernetes-admin"
        and subject["organizationName"] == "kubeadm:cluster-admins"
    )


def test_real_tls_etcd_peers_and_wrong_ca_fails(cluster: Path, tmp_path: Path) -> None:
    etcd = cluster / "pki" / "etcd"
    ok = _handshake(
        etcd / "server.crt",
        etcd / "server.key",
        etcd / "ca.crt",
        etcd / "peer.crt",
        etcd / "peer.key",
        etcd / "ca.crt",
        "localhost",
    )
    assert ok.get("reply") == b"ok", ok
    cert, key = _kubeconfig_pair(cluster, "admin.conf", tmp_path)
    refused = _handshake(
        etcd / "server.crt",
        etcd / "server.key",
        etcd / "ca.crt",
        cert,
        key,
        etcd / "ca.crt",
        "localhost",
    )
    assert "reply" not in refused  # etcd does not accept a cluster-CA client certificate
