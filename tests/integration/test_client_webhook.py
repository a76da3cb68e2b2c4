"""The webhook client (``client/webhook.py``) against a real HTTPS server on 127.0.0.1:
the caBundle decides trust, the server name is checked, the timeout bounds the call, and every
failure is a ``WebhookCallError`` worded as Go's HTTP client words it."""

from __future__ import annotations

import asyncio
import datetime
import gc
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kubeward.api.customresources.conversion import WebhookEndpoint
from kubeward.client.webhook import post_json
from kubeward.errors import WebhookCallError
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile

DAY = datetime.timedelta(days=1)


class Server:
    def __init__(self, tmp: Path) -> None:
        self.ca = CertificateAuthority.create("webhook-ca", DAY)
        key = generate_private_key()
        cert = self.ca.issue(
            key.public_key(),
            build_subject("hook.example.svc"),
            Profile.SERVER,
            DAY,
            alt_names=AltNames(dns=("hook.example.svc",), ips=(ipaddress.ip_address("127.0.0.1"),)),
        )
        (tmp / "c.crt").write_bytes(certificate_pem(cert))
        (tmp / "c.key").write_bytes(private_key_pem(key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp / "c.crt", tmp / "c.key")
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.startswith("/slow"):
                    server.release.wait(10)
                status = 500 if self.path.startswith("/broken") else 200
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def endpoint(self, path: str, **changes: Any) -> WebhookEndpoint:
        return WebhookEndpoint(
            changes.get("url", f"https://127.0.0.1:{self.port}{path}"),
            changes.get("ca_bundle", self.ca.cert_pem),
            changes.get("server_name", ""),
        )


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    yield running
    running.release.set()
    running.httpd.shutdown()
    running.httpd.server_close()


def call(endpoint: WebhookEndpoint, timeout: float = 5) -> bytes:
    return asyncio.run(post_json(endpoint, b'{"x":1}', timeout))


def test_an_answer_from_a_server_the_ca_bundle_trusts(server: Server) -> None:
    assert call(server.endpoint("/ok")) == b'{"x":1}'
    # A service's name is what the certificate must carry, whatever address is dialled.
    assert call(server.endpoint("/ok", server_name="hook.example.svc")) == b'{"x":1}'


# The timed-out call's TLS connection is still closing (politely, as asyncio closes TLS) when
# this test's event loop ends; in the API server the loop lives on and the close completes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_failures_are_worded_as_gos_client_words_them(server: Server) -> None:
    url = f"https://127.0.0.1:{server.port}"
    stranger = CertificateAuthority.create("stranger", DAY)
    with pytest.raises(WebhookCallError) as untrusted:
        call(server.endpoint("/ok", ca_bundle=stranger.cert_pem))
    assert str(untrusted.value) == (
        f'Post "{url}/ok": tls: failed to verify certificate: '
        "x509: certificate signed by unknown authority"
    )
    with pytest.raises(WebhookCallError) as wrong_name:
        call(server.endpoint("/ok", server_name="other.example.svc"))
    assert "tls: failed to verify certificate" in str(wrong_name.value)
    with pytest.raises(WebhookCallError) as broken:
        call(server.endpoint("/broken"))
    assert "the server responded with the status code 500" in str(broken.value)
    started = time.monotonic()
    with pytest.raises(WebhookCallError) as slow:
        call(server.endpoint("/slow"), timeout=0.3)
    assert str(slow.value) == (
        f'Post "{url}/slow": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"
    )
    assert time.monotonic() - started < 9  # bounded by the timeout, not the server
    gc.collect()  # the closing connection is reported here, under this test's filter
    with pytest.raises(WebhookCallError, match="only https is allowed"):
        call(server.endpoint("/ok", url=f"http://127.0.0.1:{server.port}/ok"))
