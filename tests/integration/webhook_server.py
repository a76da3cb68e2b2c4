"""A small HTTPS service for kube-apiserver's webhooks, run in a thread for the tests.

It is the "third-party tool" of the course (an Open Policy Agent, an LDAP bridge): a real TLS
server on 127.0.0.1 with its own CA, which asks the API server for a client certificate
(mutual TLS) and answers each POSTed review with what ``answer`` returns. Every review it
received is kept in ``received``.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiohttp import web

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile

HOUR = datetime.timedelta(hours=1)
Answer = Callable[[dict[str, Any]], "dict[str, Any] | float"]


@dataclass
class WebhookServer:
    """The running service; ``kubeconfig`` is the API server's webhook configuration file."""

    url: str
    kubeconfig: Path
    ca_bundle: str = ""  # base64 of the serving CA, as a webhook configuration's caBundle
    received: list[dict[str, Any]] = field(default_factory=list)
    client_subjects: list[str] = field(default_factory=list)


def _pem_files(
    directory: Path, name: str, ca: CertificateAuthority, profile: Profile
) -> tuple[Path, Path]:
    key = generate_private_key("ecdsa-p256")
    alt = AltNames.parse(["127.0.0.1", "localhost"]) if profile is Profile.SERVER else None
    cert = ca.issue(key.public_key(), build_subject(name), profile, HOUR, alt_names=alt)
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(certificate_pem(cert))
    key_file.write_bytes(private_key_pem(key))
    return cert_file, key_file


@contextmanager
def running_webhook(
    directory: Path, path: str, answer: Answer, *, client_auth: bool = True
) -> Iterator[WebhookServer]:
    """Serve ``path``; ``answer(review)`` gives the JSON answer, or seconds to stall (timeouts).

    With ``client_auth`` the caller must present a certificate from the client CA (mutual TLS).
    """
    directory.mkdir(parents=True, exist_ok=True)
    server_ca = CertificateAuthority.create("webhook-ca", HOUR)
    client_ca = CertificateAuthority.create("webhook-client-ca", HOUR)
    (directory / "server-ca.crt").write_bytes(server_ca.cert_pem)
    (directory / "client-ca.crt").write_bytes(client_ca.cert_pem)
    serving = _pem_files(directory, "webhook", server_ca, Profile.SERVER)
    client_cert, client_key = _pem_files(directory, "kube-apiserver", client_ca, Profile.CLIENT)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*serving)
    if client_auth:
        context.load_verify_locations(directory / "client-ca.crt")
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the API server must present its cert

    state: dict[str, Any] = {}
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    async def handle(request: web.Request) -> web.Response:
        review = orjson.loads(await request.read())
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(x[0] for x in (peer or {}).get("subject", ()))
        state["server"].received.append(review)
        state["server"].client_subjects.append(subject.get("commonName", ""))
        reply = answer(review)
        if isinstance(reply, float | int):
            await asyncio.sleep(float(reply))
            reply = {
                "apiVersion": review.get("apiVersion"),
                "kind": review.get("kind"),
                "status": {},
            }
        return web.json_response(reply)

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_post(path, handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = runner.addresses[0][1]
        url = f"https://127.0.0.1:{port}{path}"
        config = directory / "webhook.kubeconfig"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "webhook",
                            "cluster": {
                                "server": url,
                                "certificate-authority": str(directory / "server-ca.crt"),
                            },
                        }
                    ],
                    "users": [
                        {
                            "name": "kube-apiserver",
                            "user": {
                                "client-certificate": str(client_cert),
                                "client-key": str(client_key),
                            },
                        }
                    ],
                    "contexts": [
                        {
                            "name": "webhook",
                            "context": {"cluster": "webhook", "user": "kube-apiserver"},
                        }
                    ],
                    "current-context": "webhook",
                }
            )
        )
        bundle = base64.b64encode((directory / "server-ca.crt").read_bytes()).decode()
        state["server"] = WebhookServer(url, config, bundle)
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        state["runner"] = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(state["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the webhook server did not start")
    try:
        yield state["server"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
