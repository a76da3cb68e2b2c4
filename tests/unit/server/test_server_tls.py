"""The server's TLS context asks for a client certificate without judging it (server/tls.py).

Real OpenSSL handshakes, driven in memory between a server and a client ``SSLObject``.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile
from kubeward.server import tls
from kubeward.server.config import ServerConfig

DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tls")
    ca = CertificateAuthority.create("kubernetes", 10 * DAY)
    key = generate_private_key("ecdsa-p256")
    serving = ca.issue(
        key.public_key(),
        build_subject("kube-apiserver", []),
        Profile.SERVER,
        DAY,
        alt_names=AltNames.parse(["localhost"], "--san"),
    )
    (d / "ca.crt").write_bytes(ca.cert_pem)
    (d / "apiserver.crt").write_bytes(certificate_pem(serving))
    (d / "apiserver.key").write_bytes(private_key_pem(key))
    _client(d, "expired", ca, now=datetime.datetime.now(datetime.UTC) - 3 * DAY)
    _client(d, "foreign", CertificateAuthority.create("KUBERNETES-CA", 10 * DAY))
    return d


def _client(d: Path, name: str, ca: CertificateAuthority, now=None) -> None:
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(key.public_key(), build_subject(name, []), Profile.CLIENT, DAY, now=now)
    (d / f"{name}.pem").write_bytes(certificate_pem(cert) + private_key_pem(key))


def _config(d: Path) -> ServerConfig:
    return ServerConfig(
        tls_cert_file=d / "apiserver.crt",
        tls_private_key_file=d / "apiserver.key",
        client_ca_file=d / "ca.crt",
    )


def handshake(server_context: ssl.SSLContext, d: Path, client: str) -> ssl.SSLObject:
    """A full handshake in memory; returns the server's side. Raises ssl.SSLError on refusal."""
    client_context = ssl.create_default_context(cafile=str(d / "ca.crt"))
    client_context.load_cert_chain(str(d / f"{client}.pem"))
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    server = server_context.wrap_bio(s_in, s_out, server_side=True)
    client_side = client_context.wrap_bio(c_in, c_out, server_hostname="localhost")
    done = {"server": False, "client": False}
    for _ in range(20):
        for name, side in (("client", client_side), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the client's certificate reaches the server with its Finished message.
            return server
    raise AssertionError("the handshake did not finish")


@pytest.mark.parametrize("client", ["expired", "foreign"])
def test_any_client_certificate_completes_the_handshake_for_the_authenticator(files, client):
    context = tls.server_ssl_context(_config(files))
    server = handshake(context, files, client)
    chain = tls.peer_certificate_chain(server)
    # Leaf first; OpenSSL's client adds the CAs it can chain to from its own trust store.
    assert chain[0] == server.getpeercert(binary_form=True)


def test_without_the_hook_dates_are_left_to_the_authenticator(files, monkeypatch):
    monkeypatch.setattr(tls, "request_client_certificate_without_judging", lambda _c: False)
    context = tls.server_ssl_context(_config(files))
    assert context.verify_flags & 0x200000  # X509_V_FLAG_NO_CHECK_TIME
    assert tls.peer_certificate_chain(handshake(context, files, "expired"))
    with pytest.raises(ssl.SSLError):
        handshake(context, files, "foreign")


def test_without_a_client_ca_no_certificate_is_asked_for(files):
    context = tls.server_ssl_context(
        ServerConfig(
            tls_cert_file=files / "apiserver.crt", tls_private_key_file=files / "apiserver.key"
        )
    )
    assert context.verify_mode is ssl.CERT_NONE
    assert tls.peer_certificate_chain(handshake(context, files, "foreign")) == []
