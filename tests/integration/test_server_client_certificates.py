"""Bad client certificates end in a 401 and a log line that says why, not a reset connection.

The course's certificate-debugging lesson needs the server to say why it refused a certificate:
expired, from another CA, not for client authentication. Each case is tried with the real curl,
the real kubectl and the official Python client, and the server's log line is checked for the
peer, the certificate's subject, issuer and validity, and the exact failure. Certificates issued
through an intermediate CA are accepted when the client sends the full chain, as Go does.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.rest import ApiException

from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile
from kubeward.testing import running_cluster

DAY = datetime.timedelta(days=1)
UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_cluster(data_dir=tmp_path_factory.mktemp("certs") / "cluster") as cluster:
        yield cluster


def issue(ca: CertificateAuthority, cn: str, orgs=(), *, profile=Profile.CLIENT, now=None):
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(key.public_key(), build_subject(cn, list(orgs)), profile, DAY, now=now)
    return certificate_pem(cert), private_key_pem(key)


def write_pair(directory: Path, name: str, pair: tuple[bytes, bytes]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(pair[0])
    key.write_bytes(pair[1])
    key.chmod(0o600)
    return cert, key


def curl(url: str, ca: Path, cert: Path, key: Path, path: str = "/api") -> dict:
    result = subprocess.run(
        ["curl", "-sS", "--cacert", str(ca), "--cert", str(cert), "--key", str(key), url + path],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr  # an HTTP answer, not a TLS failure
    return json.loads(result.stdout)


def kubectl_whoami(server, tmp_path: Path, pair: tuple[bytes, bytes], name: str):
    kubeconfig = tmp_path / f"{name}.conf"
    write_kubeconfig(
        kubeconfig,
        client_certificate_kubeconfig(
            cluster_name="kubeward",
            server=server.url,
            ca_pem=server.ca_file.read_bytes(),
            user_name=name,
            cert_pem=pair[0],
            key_pem=pair[1],
        ),
    )
    env = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=str(kubeconfig))
    return subprocess.run(
        ["kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def python_client_status(server, cert: Path, key: Path) -> int:
    configuration = k8s_client.Configuration()
    configuration.host = server.url
    configuration.ssl_ca_cert = str(server.ca_file)
    configuration.cert_file = str(cert)
    configuration.key_file = str(key)
    with k8s_client.ApiClient(configuration) as api:
        try:
            k8s_client.CoreV1Api(api).list_namespace()
        except ApiException as exc:
            assert json.loads(exc.body) == UNAUTHORIZED
            return int(exc.status)
    return 200


def refusal_line(caplog: pytest.LogCaptureFixture) -> str:
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "kubeward.apiserver" and r.getMessage().startswith("401 ")
    ]
    assert lines, "the server logged no refusal"
    assert all("\n" not in line for line in lines)
    return lines[-1]


def refused_everywhere(server, tmp_path, caplog, pair, name) -> str:
    """curl, kubectl and the Python client each get a 401; returns the server's last log line."""
    cert, key = write_pair(tmp_path, name, pair)
    with caplog.at_level(logging.WARNING, logger="kubeward.apiserver"):
        assert curl(server.url, server.ca_file, cert, key) == UNAUTHORIZED
        line = refusal_line(caplog)
        kubectl = kubectl_whoami(server, tmp_path, pair, name)
        assert kubectl.returncode == 1
        assert "You must be logged in to the server (Unauthorized)" in kubectl.stderr
        assert python_client_status(server, cert, key) == 401
    assert line.startswith("401 GET /api from 127.0.0.1:")
    return line


def test_expired_certificate_is_401_and_logged(server, tmp_path, caplog):
    ca = CertificateAuthority.from_dir(server.data_dir / "pki")
    past = datetime.datetime.now(datetime.UTC) - 3 * DAY
    line = refused_everywhere(server, tmp_path, caplog, issue(ca, "late", now=past), "late")
    assert "x509: certificate has expired or is not yet valid: current time " in line
    assert " is after " in line
    assert 'subject "CN=late"' in line and 'issuer "CN=kubernetes"' in line
    assert f"valid {past:%Y-%m-%d}" in line


def test_not_yet_valid_certificate_is_401_and_logged(server, tmp_path, caplog):
    ca = CertificateAuthority.from_dir(server.data_dir / "pki")
    future = datetime.datetime.now(datetime.UTC) + 2 * DAY
    line = refused_everywhere(server, tmp_path, caplog, issue(ca, "early", now=future), "early")
    assert "expired or is not yet valid" in line and " is before " in line


def test_certificate_of_another_ca_is_401_and_logged(server, tmp_path, caplog):
    other = CertificateAuthority.create("KUBERNETES-CA", 10 * DAY)
    line = refused_everywhere(server, tmp_path, caplog, issue(other, "mallory"), "mallory")
    assert "x509: certificate signed by unknown authority" in line
    assert 'subject "CN=mallory"' in line and 'issuer "CN=KUBERNETES-CA"' in line


def test_a_same_named_ca_made_again_is_named_in_the_log(server, tmp_path, caplog):
    again = CertificateAuthority.create("kubernetes", 10 * DAY)
    line = refused_everywhere(server, tmp_path, caplog, issue(again, "jane"), "jane-again")
    assert 'a CA named "CN=kubernetes" is trusted but did not sign it' in line


def test_server_only_certificate_is_401_and_logged(server, tmp_path, caplog):
    ca = CertificateAuthority.from_dir(server.data_dir / "pki")
    pair = issue(ca, "web", profile=Profile.SERVER)
    line = refused_everywhere(server, tmp_path, caplog, pair, "web")
    assert "x509: certificate specifies an incompatible key usage" in line


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_intermediate_ca_with_the_full_chain_is_accepted(server, tmp_path, caplog):
    """Issue 10 item 7: a client certificate issued by an intermediate CA, chain sent by curl."""
    pki = server.data_dir / "pki"
    (tmp_path / "ext.cnf").write_text(
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "[client]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=clientAuth\n"
    )
    for args in (
        ["genrsa", "-out", "int.key", "2048"],
        ["req", "-new", "-key", "int.key", "-subj", "/CN=team-ca", "-out", "int.csr"],
        ["x509", "-req", "-in", "int.csr", "-CA", str(pki / "ca.crt"), "-CAkey",
         str(pki / "ca.key"), "-CAcreateserial", "-extfile", "ext.cnf", "-extensions", "ca",
         "-days", "2", "-out", "int.crt"],
        ["genrsa", "-out", "jane.key", "2048"],
        ["req", "-new", "-key", "jane.key", "-subj", "/CN=jane/O=dev", "-out", "jane.csr"],
        ["x509", "-req", "-in", "jane.csr", "-CA", "int.crt", "-CAkey", "int.key",
         "-CAcreateserial", "-extfile", "ext.cnf", "-extensions", "client", "-days", "1",
         "-out", "jane.crt"],
    ):  # fmt: skip
        openssl(*args, cwd=tmp_path)
    chain = tmp_path / "jane-chain.crt"
    chain.write_bytes((tmp_path / "jane.crt").read_bytes() + (tmp_path / "int.crt").read_bytes())
    versions = curl(server.url, server.ca_file, chain, tmp_path / "jane.key")
    assert versions["kind"] == "APIVersions"
    pair = (chain.read_bytes(), (tmp_path / "jane.key").read_bytes())
    kubectl = kubectl_whoami(server, tmp_path, pair, "jane")
    assert kubectl.returncode == 0 and kubectl.stdout == "jane", kubectl.stderr
    with caplog.at_level(logging.WARNING, logger="kubeward.apiserver"):
        leaf_only = curl(server.url, server.ca_file, tmp_path / "jane.crt", tmp_path / "jane.key")
        assert leaf_only == UNAUTHORIZED
        assert "signed by unknown authority" in refusal_line(caplog)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_course_openssl_ca_with_serve(server, tmp_path):
    """The course's exact commands (a v1 CA without extensions), then kube-apiserver's flags."""
    for command in (
        "genrsa -out ca.key 2048",
        "req -new -key ca.key -subj /CN=KUBERNETES-CA -out ca.csr",
        "x509 -req -in ca.csr -signkey ca.key -out ca.crt",
        "genrsa -out admin.key 2048",
        "req -new -key admin.key -subj /CN=kube-admin/O=system:masters -out admin.csr",
        "x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -out admin.crt",
    ):
        openssl(*command.split(), cwd=tmp_path)
    pki = server.data_dir / "pki"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeward", "serve", "--bind-address", "127.0.0.1",
         "--secure-port", str(port), "--tls-cert-file", str(pki / "apiserver.crt"),
         "--tls-private-key-file", str(pki / "apiserver.key"),
         "--client-ca-file", str(tmp_path / "ca.crt"), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and "is ready" in proc.stdout.readline()
        url = f"https://127.0.0.1:{port}"
        versions = curl(url, server.ca_file, tmp_path / "admin.crt", tmp_path / "admin.key")
        assert versions["kind"] == "APIVersions"
        cluster_admin = pki / "apiserver-kubelet-client"
        refused = curl(
            url,
            server.ca_file,
            cluster_admin.with_suffix(".crt"),
            cluster_admin.with_suffix(".key"),
        )
        assert refused == UNAUTHORIZED
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.stdout is not None and proc.stderr is not None
    with proc.stdout, proc.stderr:
        log = proc.stderr.read()
    assert "WARNING kubeward.apiserver: 401 GET /api from 127.0.0.1:" in log
    assert "signed by unknown authority" in log and 'issuer "CN=kubernetes"' in log


def test_a_sha1_signed_certificate_is_refused_as_kubernetes_does(server, tmp_path, caplog):
    pki = server.data_dir / "pki"
    for command in (
        "genrsa -out old.key 2048",
        "req -new -key old.key -subj /CN=old -out old.csr",
        f"x509 -req -sha1 -in old.csr -CA {pki / 'ca.crt'} -CAkey {pki / 'ca.key'} -out old.crt",
    ):
        openssl(*command.split(), cwd=tmp_path)
    # curl (OpenSSL's security level 1) will not even send it; Python's client at level 0 will.
    context = ssl.create_default_context(cafile=str(server.ca_file))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(str(tmp_path / "old.crt"), str(tmp_path / "old.key"))
    with caplog.at_level(logging.WARNING, logger="kubeward.apiserver"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/api", context=context, timeout=30)
        with refused.value:
            assert refused.value.code == 401 and json.loads(refused.value.read()) == UNAUTHORIZED
        assert "signed with SHA1, an insecure algorithm" in refusal_line(caplog)
