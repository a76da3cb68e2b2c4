"""The node's HTTPS port: the kubelet API, served with the node's serving certificate.

This issue serves ``/healthz`` only (``ok``, as the kubelet answers it); the rest of the
kubelet API (pods, logs, exec, port-forward, stats) comes with the pods-that-run issue. TLS is
1.2 or newer with the certificate the Certificates API issued to the node
(``kubernetes.io/kubelet-serving``); client certificates from the cluster CA are asked for
but not required, as the kubelet's ``--client-ca-file`` does.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from aiohttp import web


def serving_context(pem_file: Path, client_ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pem_file)
    if client_ca_file is not None:
        context.load_verify_locations(client_ca_file)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


async def start_kubelet_api(
    pem_file: Path, port: int, *, bind: str = "127.0.0.1", client_ca_file: Path | None = None
) -> tuple[web.AppRunner, int]:
    """Serve on ``bind:port`` (0: any free port); the runner and the port bound."""
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, bind, port, ssl_context=serving_context(pem_file, client_ca_file))
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)
