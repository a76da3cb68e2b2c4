"""ClientCredentials against a real TLS server: mutual TLS with a throwaway CA made here."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeward.errors import InputError
from kubeward.kubeconfig.tls import ClientCredentials, transient_file

Key = ec.EllipticCurvePrivateKey


def _name(cn: str, org: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class TestCA:
    """A minimal CA for the tests (deliberately not kubeward.pki: this checks the TLS helper)."""

    __test__ = False
    key: Key = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("test-ca"))
            .issuer_name(_name("test-ca"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self, cn: str, *, org: str = "", server_names: tuple[str, ...] = ()
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn, org))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_names:
            sans: list[x509.GeneralName] = []
            for name in server_names:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(name)))
                except ValueError:
                    sans.append(x509.DNSName(name))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Server:
    port: int
    client_subjects: list[str]


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture
def server(ca: TestCA, tmp_path: Path) -> Iterator[Server]:
    """A TLS 1.2+ server on 127.0.0.1 that requires a client certificate from ``ca``."""
    cert, key = ca.issue("kube-apiserver", server_names=("kubernetes", "localhost"))
    (tmp_path / "server.pem").write_bytes(cert + key)
    (tmp_path / "server-ca.pem").write_bytes(ca.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tmp_path / "server.pem")
    context.load_verify_locations(tmp_path / "server-ca.pem")
    context.verify_mode = ssl.CERT_OPTIONAL
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    seen: list[str] = []

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
                    names = [pair for rdn in peer.get("subject", ()) for pair in rdn]
                    seen.append(next((str(p[1]) for p in names if p[0] == "commonName"), ""))
                    conn.sendall(b"ok")
            except (ssl.SSLError, OSError):
                seen.append("<handshake failed>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield Server(listener.getsockname()[1], seen)
    stop.set()
    thread.join(timeout=10)
    listener.close()


def _connect(creds: ClientCredentials) -> bytes:
    url = creds.server.removeprefix("https://")
    host, port = url.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        creds.ssl_context.wrap_socket(raw, server_hostname=creds.server_hostname) as conn,
    ):
        assert conn.version() in ("TLSv1.2", "TLSv1.3")
        return conn.recv(2)


def _kubeconfig(
    cluster: dict[str, Any], user: dict[str, Any], *, namespace: str = ""
) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": context}],
        "current-context": "ctx",
    }


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_kubeconfig_tls_handshake_with_embedded_client_certificate(
    ca: TestCA, server: Server
) -> None:
    cert, key = ca.issue("jane", org="dev")
    doc = _kubeconfig(
        {"server": f"https://localhost:{server.port}", "certificate-authority-data": _b64(ca.pem)},
        {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
        namespace="team",
    )
    creds = ClientCredentials.from_kubeconfig(doc)
    assert creds.has_client_certificate
    assert creds.namespace == "team"
    assert creds.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert _connect(creds) == b"ok"
    assert server.client_subjects == ["jane"]


def test_kubeconfig_tls_files_resolve_against_the_kubeconfig_folder(
    ca: TestCA, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = ca.issue("file-user")
    pki = tmp_path / "conf" / "pki"
    pki.mkdir(parents=True)
    (pki / "ca.crt").write_bytes(ca.pem)
    (pki / "user.crt").write_bytes(cert)
    (pki / "user.key").write_bytes(key)
    doc = _kubeconfig(
        {"server": f"https://localhost:{server.port}", "certificate-authority": "pki/ca.crt"},
        {"client-certificate": "pki/user.crt", "client-key": "pki/user.key"},
    )
    path = tmp_path / "conf" / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.chdir(tmp_path)  # not the kubeconfig's folder
    assert _connect(ClientCredentials.from_kubeconfig(path)) == b"ok"
    assert server.client_subjects == ["file-user"]


def test_kubeconfig_tls_rejects_a_server_from_another_ca(ca: TestCA, server: Server) -> None:
    doc = _kubeconfig(
        {
            "server": f"https://localhost:{server.port}",
            "certificate-authority-data": _b64(TestCA().pem),
        },
        {},
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        _connect(ClientCredentials.from_kubeconfig(doc))


@pytest.mark.parametrize(
    ("tls_server_name", "works"),
    [("kubernetes", True), ("", False)],
    ids=["tls-server-name-used", "ip-not-in-certificate"],
)
def test_kubeconfig_tls_server_name(
    ca: TestCA, server: Server, tls_server_name: str, works: bool
) -> None:
    cluster = {
        "server": f"https://127.0.0.1:{server.port}",
        "certificate-authority-data": _b64(ca.pem),
        "tls-server-name": tls_server_name,
    }
    creds = ClientCredentials.from_kubeconfig(_kubeconfig(cluster, {}))
    if works:
        assert creds.server_hostname == "kubernetes"
        assert _connect(creds) == b"ok"
        assert server.client_subjects == [""]  # anonymous: no client certificate
    else:
        with pytest.raises(ssl.SSLCertVerificationError):
            _connect(creds)


def test_kubeconfig_tls_insecure_skip_verify_connects_to_unknown_ca(server: Server) -> None:
    cluster = {"server": f"https://127.0.0.1:{server.port}", "insecure-skip-tls-verify": True}
    assert _connect(ClientCredentials.from_kubeconfig(_kubeconfig(cluster, {}))) == b"ok"


def test_kubeconfig_tls_bearer_token_from_token_file(tmp_path: Path, ca: TestCA) -> None:
    (tmp_path / "token").write_text("abc.def\n")
    doc = _kubeconfig(
        {"server": "https://k:6443", "certificate-authority-data": _b64(ca.pem)},
        {"tokenFile": "token"},
    )
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(doc))
    creds = ClientCredentials.from_kubeconfig(path)
    assert creds.authorization_header() == "Bearer abc.def"
    basic = _kubeconfig({"server": "https://k"}, {"username": "a", "password": "b"})
    assert ClientCredentials.from_kubeconfig(basic).authorization_header() == "Basic YTpi"


def _encrypted(key_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_pem, None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


def _bad_inputs(ca: TestCA) -> list[tuple[dict[str, Any], str]]:
    cert, key = ca.issue("x")
    _, other_key = ca.issue("y")
    ok_cluster = {"server": "https://k:6443", "certificate-authority-data": _b64(ca.pem)}
    return [
        (
            _kubeconfig(ok_cluster, {"client-certificate-data": _b64(cert)}),
            'user "u": has a client certificate but no client key',
        ),
        (
            _kubeconfig(
                ok_cluster,
                {"client-certificate-data": _b64(cert), "client-key-data": _b64(other_key)},
            ),
            'user "u": the client key does not match the client certificate',
        ),
        (
            _kubeconfig(
                ok_cluster,
                {"client-certificate-data": _b64(cert), "client-key-data": _b64(_encrypted(key))},
            ),
            'user "u": the client key is encrypted',
        ),
        (
            _kubeconfig({**ok_cluster, "insecure-skip-tls-verify": True}, {}),
            'cluster "c": specifying a root certificates file with the insecure flag',
        ),
        (
            _kubeconfig({**ok_cluster, "certificate-authority-data": _b64(b"junk")}, {}),
            'cluster "c": certificate-authority-data: not a PEM or DER certificate bundle',
        ),
        (
            _kubeconfig({"server": "http://k:8080"}, {}),
            "cluster \"c\": server 'http://k:8080' is not an https:// URL",
        ),
        (
            _kubeconfig(ok_cluster, {"exec": {"command": "x"}}),
            'user "u": exec credential plugins and auth providers are not supported',
        ),
        (
            _kubeconfig(ok_cluster, {"token": "t", "username": "u"}),
            'user "u": username/password or bearer token may be set, but not both',
        ),
        (
            {**_kubeconfig(ok_cluster, {}), "current-context": "nope"},
            'kubeconfig: context "nope" does not exist',
        ),
        (
            {**_kubeconfig(ok_cluster, {}), "current-context": ""},
            "kubeconfig: no current-context is set",
        ),
    ]


BAD_IDS = [
    "cert-without-key",
    "key-mismatch",
    "encrypted-key",
    "insecure-with-ca",
    "junk-ca",
    "plain-http",
    "exec-plugin",
    "token-and-basic",
    "unknown-context",
    "no-current-context",
]


@pytest.mark.parametrize("case", range(len(BAD_IDS)), ids=BAD_IDS)
def test_kubeconfig_tls_bad_input_is_one_line(ca: TestCA, case: int) -> None:
    doc, message = _bad_inputs(ca)[case]
    with pytest.raises(InputError) as raised:
        ClientCredentials.from_kubeconfig(doc)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_kubeconfig_tls_missing_referenced_file(tmp_path: Path) -> None:
    doc = _kubeconfig(
        {"server": "https://k", "certificate-authority": str(tmp_path / "no.crt")}, {}
    )
    with pytest.raises(InputError, match=r"no\.crt: no such file"):
        ClientCredentials.from_kubeconfig(doc)


@pytest.mark.parametrize("in_memory", [True, False], ids=["memfd", "temporary-file"])
def test_kubeconfig_tls_transient_file_leaves_nothing_on_disk(
    in_memory: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with transient_file(b"secret key", in_memory=in_memory) as path:
        assert Path(path).read_bytes() == b"secret key"
        if in_memory:
            assert path.startswith("/proc/self/fd/")
            assert list(tmp_path.iterdir()) == []
        else:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(tmp_path.iterdir()) == []


def test_kubeconfig_tls_default_locations_merge_kubeconfig_files(
    ca: TestCA, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = ca.issue("merged-user")
    first = _kubeconfig({"server": "https://unused:1"}, {})
    first["current-context"] = ""
    second = _kubeconfig(
        {"server": f"https://localhost:{server.port}", "certificate-authority-data": _b64(ca.pem)},
        {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
    )
    second["contexts"][0]["name"] = "other"
    second["current-context"] = "other"
    (tmp_path / "first").write_text(yaml.safe_dump(first))
    (tmp_path / "second").write_text(yaml.safe_dump(second))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'first'}:{tmp_path / 'second'}")
    creds = ClientCredentials.from_default_locations()
    # The first file's cluster "c" and user "u" win; the current context comes from the second.
    assert (creds.context_name, creds.server) == ("other", "https://unused:1")
    creds = ClientCredentials.from_default_locations(str(tmp_path / "second"))
    assert _connect(creds) == b"ok"
    assert server.client_subjects == ["merged-user"]
