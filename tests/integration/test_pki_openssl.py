"""The PKI against the real openssl CLI: verification, SANs, and the course's openssl commands."""

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT_CAS = {"ca": "pki/ca.crt", "etcd": "pki/etcd/ca.crt", "front-proxy": "pki/front-proxy-ca.crt"}
LEAVES = [
    ("pki/apiserver.crt", "ca"),
    ("pki/apiserver-kubelet-client.crt", "ca"),
    ("pki/kubelet-w1.crt", "ca"),
    ("pki/apiserver-etcd-client.crt", "etcd"),
    ("pki/etcd/server.crt", "etcd"),
    ("pki/etcd/peer.crt", "etcd"),
    ("pki/etcd/server-e2.crt", "etcd"),
    ("pki/etcd/peer-e3.crt", "etcd"),
    ("pki/etcd/healthcheck-client.crt", "etcd"),
    ("pki/front-proxy-client.crt", "front-proxy"),
    ("admin.conf", "ca"),
    ("super-admin.conf", "ca"),
    ("controller-manager.conf", "ca"),
    ("scheduler.conf", "ca"),
    ("kube-proxy.conf", "ca"),
    ("kubelet-w1.conf", "ca"),
]


def kubeward(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "kubeward", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def openssl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("openssl") / "cluster"
    kubeward(
        "pki",
        "init",
        "--dir",
        str(root),
        "--node-name",
        "cp-1",
        "--advertise-address",
        "10.0.0.10",
        "--apiserver-cert-extra-sans",
        "api.example.com,192.0.2.7",
        "--node",
        "w1=10.0.0.21",
        "--etcd-member",
        "e1=10.0.0.11",
        "--etcd-member",
        "e2=10.0.0.12",
        "--etcd-member",
        "e3=10.0.0.13",
    )
    return root


def _cert_file(cluster: Path, name: str, tmp_path: Path) -> Path:
    if not name.endswith(".conf"):
        return cluster / name
    doc = yaml.safe_load((cluster / name).read_text())
    out = tmp_path / f"{name}.crt"
    out.write_bytes(base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]))
    return out


@pytest.mark.parametrize(("name", "ca"), LEAVES, ids=[n for n, _ in LEAVES])
def test_openssl_verifies_against_the_right_ca_only(
    cluster: Path, tmp_path: Path, name: str, ca: str
) -> None:
    cert = _cert_file(cluster, name, tmp_path)
    good = openssl("verify", "-CAfile", str(cluster / ROOT_CAS[ca]), str(cert))
    assert good.returncode == 0 and good.stdout.strip().endswith("OK"), good.stderr
    for other, path in ROOT_CAS.items():
        if other != ca:
            bad = openssl("verify", "-CAfile", str(cluster / path), str(cert))
            assert bad.returncode != 0


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "pki/apiserver.crt",
            [
                "DNS:cp-1",
                "DNS:kubernetes",
                "DNS:kubernetes.default",
                "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local",
                "DNS:localhost",
                "DNS:api.example.com",
                "IP Address:10.96.0.1",
                "IP Address:10.0.0.10",
                "IP Address:127.0.0.1",
                "IP Address:192.0.2.7",
            ],
        ),
        (
            "pki/etcd/server-e2.crt",
            [
                "DNS:e2",
                "DNS:localhost",
                "IP Address:10.0.0.12",
                "IP Address:127.0.0.1",
                "IP Address:0:0:0:0:0:0:0:1",
            ],
        ),
        ("pki/kubelet-w1.crt", ["DNS:w1", "IP Address:10.0.0.21"]),
    ],
    ids=["apiserver", "etcd-member", "kubelet"],
)
def test_openssl_shows_the_sans(cluster: Path, file: str, expected: list[str]) -> None:
    result = openssl("x509", "-in", str(cluster / file), "-noout", "-ext", "subjectAltName")
    assert result.returncode == 0, result.stderr
    shown = {part.strip() for part in result.stdout.splitlines()[1].split(",")}
    assert set(expected) <= shown


def test_openssl_reads_profiles_and_keys(cluster: Path) -> None:
    text = openssl("x509", "-in", str(cluster / "pki/ca.crt"), "-noout", "-text").stdout
    assert (
        "CA:TRUE" in text and "Certificate Sign" in text and "Basic Constraints: critical" in text
    )
    text = openssl("x509", "-in", str(cluster / "pki/apiserver.crt"), "-noout", "-text").stdout
    assert (
        "CA:FALSE" in text
        and "TLS Web Server Authentication" in text
        and "Key Encipherment" in text
    )
    assert "sha256WithRSAEncryption" in text and "Authority Key Identifier" in text
    cert_mod = openssl(
        "x509", "-in", str(cluster / "pki/apiserver.crt"), "-noout", "-modulus"
    ).stdout
    key_mod = openssl("rsa", "-in", str(cluster / "pki/apiserver.key"), "-noout", "-modulus").stdout
    assert cert_mod and cert_mod == key_mod
    assert openssl("pkey", "-in", str(cluster / "pki/sa.key"), "-noout").returncode == 0
    assert openssl("pkey", "-pubin", "-in", str(cluster / "pki/sa.pub"), "-noout").returncode == 0


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory, cluster: Path) -> Path:
    """The course's openssl sequence, by hand."""
    work = tmp_path_factory.mktemp("course")
    for step in (
        ["genrsa", "-out", "akshay.key", "2048"],
        ["req", "-new", "-key", "akshay.key", "-subj", "/CN=akshay", "-out", "akshay.csr"],
        [
            "x509",
            "-req",
            "-in",
            "akshay.csr",
            "-CA",
            str(cluster / "pki/ca.crt"),
            "-CAkey",
            str(cluster / "pki/ca.key"),
            "-CAcreateserial",
            "-out",
            "akshay.crt",
        ],
        ["x509", "-in", "akshay.crt", "-outform", "DER", "-out", "akshay.der"],
        ["req", "-in", "akshay.csr", "-outform", "DER", "-out", "akshay-der.csr"],
        ["rsa", "-in", "akshay.key", "-traditional", "-out", "akshay-pkcs1.key"],
        ["pkcs8", "-topk8", "-nocrypt", "-in", "akshay.key", "-out", "akshay-pkcs8.key"],
        [
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "akshay.key",
            "-outform",
            "DER",
            "-out",
            "akshay-der.key",
        ],
        [
            "pkcs8",
            "-topk8",
            "-in",
            "akshay.key",
            "-passout",
            "pass:hunter2",
            "-out",
            "akshay-enc.key",
        ],
    ):
        result = openssl(*step, cwd=work)
        assert result.returncode == 0, (step, result.stderr)
    (work / "pass.txt").write_text("hunter2\n")
    return work


@pytest.mark.parametrize(
    ("file", "fact"),
    [
        ("akshay.crt", "Subject: CN=akshay"),
        ("akshay.der", "Subject: CN=akshay"),
        ("akshay.csr", "CertificateSigningRequest:"),
        ("akshay-der.csr", "Signature valid: yes"),
        ("akshay.key", "PrivateKey: RSA 2048"),
        ("akshay-pkcs1.key", "PrivateKey: RSA 2048"),
        ("akshay-pkcs8.key", "PrivateKey: RSA 2048"),
        ("akshay-der.key", "PrivateKey: RSA 2048"),
    ],
    ids=str,
)
def test_inspect_reads_what_openssl_made(course: Path, file: str, fact: str) -> None:
    out = kubeward("pki", "inspect", str(course / file)).stdout
    assert fact in out
    assert "BEGIN" not in out


def test_encrypted_openssl_key_needs_its_passphrase(course: Path) -> None:
    failed = kubeward("pki", "inspect", str(course / "akshay-enc.key"), check=False)
    assert failed.returncode == 1 and failed.stderr.count("\n") == 1
    assert (
        "akshay-enc.key: private key is encrypted" in failed.stderr
        and "Traceback" not in failed.stderr
    )
    ok = kubeward(
        "pki",
        "inspect",
        str(course / "akshay-enc.key"),
        "--passphrase-file",
        str(course / "pass.txt"),
    )
    assert "RSA 2048" in ok.stdout


@pytest.mark.parametrize("csr", ["akshay.csr", "akshay-der.csr"], ids=["pem", "der"])
def test_sign_an_openssl_csr_and_openssl_verifies_it(
    cluster: Path, course: Path, tmp_path: Path, csr: str
) -> None:
    out = tmp_path / "signed.crt"
    kubeward(
        "pki",
        "sign",
        "--csr",
        str(course / csr),
        "--ca-dir",
        str(cluster),
        "--profile",
        "client",
        "--out",
        str(out),
    )
    assert openssl("verify", "-CAfile", str(cluster / "pki/ca.crt"), str(out)).returncode == 0
    text = openssl("x509", "-in", str(out), "-noout", "-text").stdout
    assert "CN=akshay" in text.replace(" = ", "=") and "TLS Web Client Authentication" in text


def test_csr_from_an_openssl_key_is_signed_by_openssl(
    cluster: Path, course: Path, tmp_path: Path
) -> None:
    kubeward(
        "pki",
        "csr",
        "--key",
        str(course / "akshay-pkcs1.key"),
        "--cn",
        "jane",
        "--org",
        "dev",
        "--out",
        str(tmp_path / "j.csr"),
    )
    assert openssl("req", "-in", str(tmp_path / "j.csr"), "-noout", "-verify").returncode == 0
    signed = openssl(
        "x509",
        "-req",
        "-in",
        str(tmp_path / "j.csr"),
        "-CA",
        str(cluster / "pki/ca.crt"),
        "-CAkey",
        str(cluster / "pki/ca.key"),
        "-CAcreateserial",
        "-out",
        str(tmp_path / "j.crt"),
    )
    assert signed.returncode == 0, signed.stderr
    assert "Subject: CN=jane,O=dev" in kubeward("pki", "inspect", str(tmp_path / "j.crt")).stdout


def test_audit_finds_what_tutorials_get_wrong(cluster: Path, course: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(cluster, tree)
    pki = tree / "pki"
    ca, key = str(pki / "ca.crt"), str(pki / "ca.key")
    steps = [
        ["genrsa", "-out", "weak-client.key", "1024"],
        ["req", "-new", "-key", "weak-client.key", "-subj", "/CN=weak", "-out", "weak.csr"],
        [
            "x509",
            "-req",
            "-in",
            "weak.csr",
            "-CA",
            ca,
            "-CAkey",
            key,
            "-CAcreateserial",
            "-days",
            "200",
            "-out",
            "weak-client.crt",
        ],
        [
            "x509",
            "-req",
            "-sha1",
            "-in",
            str(course / "akshay.csr"),
            "-CA",
            ca,
            "-CAkey",
            key,
            "-CAcreateserial",
            "-days",
            "200",
            "-out",
            "sha1-client.crt",
        ],
        [
            "x509",
            "-req",
            "-md5",
            "-in",
            str(course / "akshay.csr"),
            "-CA",
            ca,
            "-CAkey",
            key,
            "-CAcreateserial",
            "-days",
            "200",
            "-out",
            "md5-client.crt",
        ],
    ]
    for step in steps:
        assert openssl(*step, cwd=pki).returncode == 0, step
    shutil.copy(course / "akshay.key", pki / "sha1-client.key")
    shutil.copy(course / "akshay.key", pki / "md5-client.key")
    for name in ("sha1-client.key", "md5-client.key", "weak-client.key"):
        (pki / name).chmod(0o600)
    result = kubeward("pki", "audit", str(tree), "-o", "json", check=False)
    report = json.loads(result.stdout)
    codes = {(f["subject"], f["code"]) for f in report["findings"]}
    assert ("pki/weak-client.crt", "weak-rsa-key") in codes
    assert ("pki/sha1-client.crt", "sha1-signature") in codes
    assert ("pki/md5-client.crt", "md5-signature") in codes
    assert result.returncode == 5 and report["exitCode"] == 5
    verified = {c["name"]: c["verifiedBy"] for c in report["certificates"]}
    assert verified["md5-client"] == verified["weak-client"] == "ca"


def test_fresh_rsa_tree_audits_clean(cluster: Path) -> None:
    result = kubeward("pki", "audit", str(cluster))
    assert "No problems found" in result.stdout
