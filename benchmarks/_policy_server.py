"""An authorization webhook for ``benchmarks/authz_modes.py``: SubjectAccessReview v1 over mTLS.

Run as ``python benchmarks/_policy_server.py DIR``. It makes a serving CA and a client CA (with
kubeward's own PKI code), serves HTTPS on a free port of 127.0.0.1 requiring a client
certificate from the client CA (as tests/integration/webhook_server.py does, but in its own
process and on uvloop, so the client being measured does not share its interpreter), writes
``DIR/webhook.kubeconfig`` (the API server's ``--authorization-webhook-config-file``), prints
``ready`` and serves until killed.

Its policy is the one the benchmark writes as ABAC lines and RBAC bindings (:func:`allowed`):
``user-I`` may get, list and watch pods in namespace ``ns-(I mod NAMESPACES)``.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import sys
from pathlib import Path
from typing import Any

import orjson
import uvloop
import yaml
from aiohttp import web

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile

NAMESPACES = 50
READ = ("get", "list", "watch")
HOUR = datetime.timedelta(hours=1)


def own_namespace(user: int) -> str:
    return f"ns-{user % NAMESPACES}"


def allowed(spec: dict[str, Any]) -> bool:
    """The policy, from a SubjectAccessReview's spec."""
    user = str(spec.get("user", ""))
    attributes = spec.get("resourceAttributes") or {}
    if not user.startswith("user-") or not user[5:].isdigit():
        return False
    return (
        attributes.get("namespace") == own_namespace(int(user[5:]))
        and attributes.get("resource") == "pods"
        and not attributes.get("group")
        and attributes.get("verb") in READ
    )


def _issue(directory: Path, name: str, ca: CertificateAuthority, profile: Profile) -> list[str]:
    key = generate_private_key("ecdsa-p256")
    alt = AltNames.parse(["127.0.0.1", "localhost"]) if profile is Profile.SERVER else None
    cert = ca.issue(key.public_key(), build_subject(name), profile, HOUR, alt_names=alt)
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(certificate_pem(cert))
    key_file.write_bytes(private_key_pem(key))
    return [str(cert_file), str(key_file)]


def write_kubeconfig(directory: Path, url: str, client: list[str]) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "policy",
                "cluster": {"server": url, "certificate-authority": str(directory / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": "kube-apiserver",
                "user": {"client-certificate": client[0], "client-key": client[1]},
            }
        ],
        "contexts": [
            {"name": "policy", "context": {"cluster": "policy", "user": "kube-apiserver"}}
        ],
        "current-context": "policy",
    }
    (directory / "webhook.kubeconfig").write_text(yaml.safe_dump(doc))


async def handle(request: web.Request) -> web.Response:
    review = orjson.loads(await request.read())
    answer = {
        "apiVersion": review.get("apiVersion"),
        "kind": "SubjectAccessReview",
        "status": {"allowed": allowed(review.get("spec") or {})},
    }
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def serve(directory: Path) -> None:
    server_ca = CertificateAuthority.create("policy-ca", HOUR)
    client_ca = CertificateAuthority.create("policy-client-ca", HOUR)
    (directory / "ca.crt").write_bytes(server_ca.cert_pem)
    (directory / "client-ca.crt").write_bytes(client_ca.cert_pem)
    serving = _issue(directory, "policy", server_ca, Profile.SERVER)
    client = _issue(directory, "kube-apiserver", client_ca, Profile.CLIENT)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*serving)
    context.load_verify_locations(directory / "client-ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS
    app = web.Application()
    app.router.add_post("/authorize", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    write_kubeconfig(directory, f"https://127.0.0.1:{port}/authorize", client)
    print("ready", flush=True)
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    uvloop.run(serve(Path(sys.argv[1])))
