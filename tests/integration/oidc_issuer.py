"""A test OpenID issuer: discovery and JWKS over real HTTPS, and real RS256 ID tokens.

Nothing of the authenticator is mocked: kube-apiserver's side fetches
``/.well-known/openid-configuration`` and the JWKS from this server, over TLS, trusting the
issuer's own CA, exactly as it would from Dex or Keycloak.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile

HOUR = datetime.timedelta(hours=1)


@dataclass
class Issuer:
    url: str
    ca_pem: str
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    jwks_fetches: int = 0

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**public, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def token(
        self,
        *,
        kid: str = "key-1",
        key: rsa.RSAPrivateKey | None = None,
        lifetime: float = 300,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": "kubeward",
            "iat": now,
            "exp": now + int(lifetime),
            **claims,
        }
        return jwt.encode(body, key or self.keys[kid], algorithm="RS256", headers={"kid": kid})


@contextmanager
def running_issuer(directory: Path) -> Iterator[Issuer]:
    directory.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority.create("test-oidc-ca", HOUR)
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(
        key.public_key(),
        build_subject("issuer"),
        Profile.SERVER,
        HOUR,
        alt_names=AltNames.parse(["127.0.0.1", "localhost"]),
    )
    (directory / "issuer.crt").write_bytes(certificate_pem(cert))
    (directory / "issuer.key").write_bytes(private_key_pem(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "issuer.crt", directory / "issuer.key")

    state: dict[str, Any] = {}
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    async def discovery(_: web.Request) -> web.Response:
        issuer: Issuer = state["issuer"]
        return web.json_response({"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"})

    async def keys(_: web.Request) -> web.Response:
        issuer: Issuer = state["issuer"]
        issuer.jwks_fetches += 1
        return web.json_response(issuer.jwks())

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/keys", keys)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = runner.addresses[0][1]
        issuer = Issuer(f"https://127.0.0.1:{port}", ca.cert_pem.decode())
        issuer.add_key("key-1")
        state["issuer"] = issuer
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the test issuer did not start")
    try:
        yield state["issuer"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
