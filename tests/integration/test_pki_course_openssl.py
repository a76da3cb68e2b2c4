"""The course's own openssl sequence, then kubeward's pki tools on what it made.

The notes (``/work/shared/seeds``) make a version 1 CA with ``openssl x509 -req -signkey``, sign
an admin certificate from it, and an API server certificate whose keyUsage is only
nonRepudiation. kubeward must treat that CA as OpenSSL does (a v1 self-signed root is a CA),
and its audit must flag what really breaks clients: curl refuses that server certificate.

Two typos of the notes are fixed, because openssl itself refuses them: ``-sub`` is ``-subj``,
``CA:False`` is ``CA:FALSE``; the notes' openssl.cnf also needs its (empty)
``[req_distinguished_name]`` section.
"""

from __future__ import annotations

import datetime
import json
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem

OPENSSL_CNF = """\
[req]
req_extensions = v3_req
distinguished_name = req_distinguished_name
[req_distinguished_name]
[ v3_req ]
basicConstraints = CA:FALSE
keyUsage = nonRepudiation
subjectAltName = @alt_names
[alt_names]
DNS.1 = kubernetes
DNS.2 = kubernetes.default
DNS.3 = kubernetes.default.svc.cluster.local
DNS.4 = kubernetes.default.svc
IP.1 = 10.96.0.1
IP.2 = 172.17.0.87
IP.3 = 127.0.0.1
"""

COURSE = (
    "genrsa -out ca.key 2048",
    "req -new -key ca.key -subj /CN=KUBERNETES-CA -out ca.csr",
    "x509 -req -in ca.csr -signkey ca.key -out ca.crt",
    "genrsa -out admin.key 2048",
    "req -new -key admin.key -subj /CN=kube-admin/OU=system:masters -out admin.csr",
    "x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -out admin.crt",
    "genrsa -out apiserver.key 2048",
    "req -new -key apiserver.key -subj /CN=kube-apiserver -out apiserver.csr -config openssl.cnf",
    "x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt "
    "-extensions v3_req -extfile openssl.cnf -days 1000",
)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)


def kubeward(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "kubeward", *args, cwd=cwd)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "openssl.cnf").write_text(OPENSSL_CNF)
    for command in COURSE:
        made = run("openssl", *command.split(), cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    assert (
        "Version: 1 (0x0)"
        in run("openssl", "x509", "-in", "ca.crt", "-noout", "-text", cwd=tmp_path).stdout
    )
    return tmp_path


def findings(directory: Path) -> dict[str, set[str]]:
    report = kubeward("pki", "audit", ".", "-o", "json", cwd=directory)
    by_file: dict[str, set[str]] = {}
    for finding in json.loads(report.stdout)["findings"]:
        by_file.setdefault(finding["subject"], set()).add(finding["code"])
    return by_file


def test_sign_check_and_renew_accept_the_v1_ca_as_openssl_does(course: Path) -> None:
    signed = kubeward(
        "pki", "sign", "--csr", "admin.csr", "--ca-dir", ".", "--profile", "client",
        "--out", "admin2.crt", cwd=course,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert signed.stderr.count("note: .: the CA is a version 1 self-signed certificate") == 1
    assert run("openssl", "verify", "-CAfile", "ca.crt", "admin2.crt", cwd=course).returncode == 0
    check = kubeward("pki", "check", "--dir", ".", cwd=course)
    authorities = check.stdout.split("CERTIFICATE AUTHORITY   EXPIRES", 1)[1]
    assert authorities.splitlines()[1].startswith("ca ")
    renewed = kubeward("pki", "renew", "admin", "--dir", ".", cwd=course)
    assert renewed.returncode == 0 and renewed.stdout == "renewed admin\n", renewed.stderr
    assert run("openssl", "verify", "-CAfile", "ca.crt", "admin.crt", cwd=course).returncode == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def curl_api(course: Path) -> subprocess.CompletedProcess[str]:
    """The course's curl against `kubeward serve` with the course's files."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeward", "serve", "--bind-address", "127.0.0.1",
         "--secure-port", str(port), "--tls-cert-file", "apiserver.crt",
         "--tls-private-key-file", "apiserver.key", "--client-ca-file", "ca.crt",
         "--data-dir", "data"],
        cwd=course, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and "is ready" in proc.stdout.readline()
        return run(
            "curl", "-sS", f"https://127.0.0.1:{port}/api", "--key", "admin.key", "--cert",
            "admin.crt", "--cacert", "ca.crt", cwd=course,
        )  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_audit_flags_the_server_certificate_curl_refuses_and_its_fix_works(course: Path) -> None:
    audit = findings(course)
    assert "server-key-usage-unsuitable" in audit["apiserver.crt"]
    assert audit["ca.crt"] >= {"version-1-ca"} and "signer-not-a-ca" not in audit["ca.crt"]
    refused = curl_api(course)
    assert refused.returncode != 0 and "unsuitable certificate purpose" in refused.stderr
    fixed = kubeward("pki", "renew", "apiserver", "--dir", ".", cwd=course)
    assert fixed.returncode == 0, fixed.stderr
    answered = curl_api(course)
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["kind"] == "APIVersions"
    assert "server-key-usage-unsuitable" not in findings(course)["apiserver.crt"]


def test_findings_do_not_depend_on_the_file_name(course: Path, tmp_path_factory) -> None:
    renamed = tmp_path_factory.mktemp("renamed")
    shutil.copy(course / "ca.crt", renamed / "ca.crt")
    shutil.copy(course / "ca.key", renamed / "ca.key")
    for old, new in (("apiserver", "web"), ("admin", "someone")):
        shutil.copy(course / f"{old}.crt", renamed / f"{new}.crt")
        shutil.copy(course / f"{old}.key", renamed / f"{new}.key")
    before, after = findings(course), findings(renamed)
    assert after["web.crt"] == before["apiserver.crt"]
    assert after["someone.crt"] == before["admin.crt"]


def test_a_v3_ca_without_basic_constraints_is_refused_as_openssl_refuses_it(tmp_path: Path) -> None:
    authority = CertificateAuthority.create("stand-in", datetime.timedelta(days=5))
    key = authority.key
    name = x509.Name.from_rfc4514_string("CN=v3-without-extensions")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(authority.cert.not_valid_before_utc)
        .not_valid_after(authority.cert.not_valid_after_utc)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "ca.crt").write_bytes(certificate_pem(cert))
    (tmp_path / "ca.key").write_bytes(private_key_pem(key))
    user_key = generate_private_key("ecdsa-p256")
    (tmp_path / "u.key").write_bytes(private_key_pem(user_key))
    assert run("openssl", "req", "-new", "-key", "u.key", "-subj", "/CN=u", "-out", "u.csr",
               cwd=tmp_path).returncode == 0  # fmt: skip
    refused = kubeward("pki", "sign", "--csr", "u.csr", "--ca-dir", ".", "--profile", "client",
                       cwd=tmp_path)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: ca.crt: not a CA certificate (no basicConstraints CA:TRUE, and not a version 1 "
        "self-signed certificate)"
    )
    signed = run("openssl", "x509", "-req", "-in", "u.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-out", "u.crt", cwd=tmp_path)  # fmt: skip
    assert signed.returncode == 0
    verify = run("openssl", "verify", "-CAfile", "ca.crt", "u.crt", cwd=tmp_path)
    assert verify.returncode != 0 and "invalid CA certificate" in verify.stdout + verify.stderr
    assert "signer-not-a-ca" in findings(tmp_path)["ca.crt"]
