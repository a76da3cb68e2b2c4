"""Assembling an :class:`APIServer` from a :class:`ServerConfig`, and running it.

This is the one place that turns flags into components: the storage backend (by URL, through
``storage.factory``), the stores of every served kind, the authenticator union, the authorizer
chain (through ``authz.modes``), admission hooks and the in-process controllers the API server
itself runs (namespace lifecycle).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import NODES
from kubeward.authn.basic import WARNING as BASIC_WARNING
from kubeward.authn.basic import BasicAuthenticator
from kubeward.authn.interfaces import Authenticator, TokenAuthenticator
from kubeward.authn.tokenfile import TokenFileAuthenticator
from kubeward.authn.union import UnionAuthenticator
from kubeward.authn.x509 import X509Authenticator
from kubeward.authz.modes import build_authorizer
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.server import authz_reviews, certificates, reviews, tables_adapter
from kubeward.server.app import APIServer, build_application
from kubeward.server.config import ServerConfig
from kubeward.server.namespaces import NamespaceController, ensure_default_namespaces
from kubeward.server.openapi_handler import OpenAPIHandler
from kubeward.server.rbac_wiring import RBACWiring, escalation_hook
from kubeward.server.resources import ResourceHandlers
from kubeward.server.serviceaccount_wiring import ServiceAccountOptions, ServiceAccountWiring
from kubeward.server.tls import server_ssl_context
from kubeward.server.watch import Broadcasters
from kubeward.storage.factory import backend_from_url
from kubeward.storage.interfaces import Backend

log = logging.getLogger("kubeward.apiserver")


def load_ca_bundle(path: Path) -> list[x509.Certificate]:
    data = read_bytes(path)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise InputError(f"{path}: not a PEM certificate bundle") from exc
    return certs


@dataclass
class RunningServer:
    server: APIServer
    backend: Backend
    runner: web.AppRunner
    broadcasters: Broadcasters
    background: list[asyncio.Task[None]]
    port: int

    async def stop(self) -> None:
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.broadcasters.close()
        await self.runner.cleanup()
        # A TLS close waits up to 30 s for the peer's close_notify; a stopped server does not.
        for transport in list(self.server.transports):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        await self.backend.close()
        # Let the closed connections' callbacks run before the caller stops the loop.
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class ServerParts:
    """The assembled server and the wirings that still have start-up work and tasks to run."""

    server: APIServer
    broadcasters: Broadcasters
    rbac: RBACWiring
    service_accounts: ServiceAccountWiring


async def build_server(config: ServerConfig, backend: Backend) -> ServerParts:
    scheme, strategies = build_scheme()
    stores = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
    client_cas: list[x509.Certificate] = []
    authenticators: list[Authenticator] = []
    token_authenticators: list[TokenAuthenticator] = []
    if config.client_ca_file is not None:
        client_cas = load_ca_bundle(config.client_ca_file)
        authenticators.append(X509Authenticator(client_cas))
    if config.basic_auth_file is not None:
        log.warning("--basic-auth-file is set: %s", BASIC_WARNING)
        authenticators.append(BasicAuthenticator(config.basic_auth_file))
    if config.token_auth_file is not None:
        token_authenticators.append(TokenFileAuthenticator(config.token_auth_file))
    service_accounts = ServiceAccountWiring.create(
        ServiceAccountOptions.from_config(config), stores
    )
    token_authenticators.extend(service_accounts.token_authenticators())
    authenticator = UnionAuthenticator(
        authenticators, token_authenticators, anonymous=config.anonymous_auth
    )
    rbac_index = RBACIndex()
    authorizer = build_authorizer(list(config.authorization_modes), rbac_index=rbac_index)
    rbac = authorizer.rbac if authorizer.rbac is not None else RBACAuthorizer(rbac_index)
    broadcasters = Broadcasters()
    handlers = ResourceHandlers(
        broadcasters,
        table_builder=tables_adapter.build,
        node_store=stores[NODES],
        min_request_timeout=config.min_request_timeout_seconds,
    )
    server = APIServer(
        scheme=scheme,
        stores=stores,
        authenticator=authenticator,
        authorizer=authorizer,
        handlers=handlers,
        client_ca_certs=client_cas,
        max_requests_inflight=config.max_requests_inflight,
        max_body_bytes=config.max_request_body_bytes,
        request_timeout=float(config.request_timeout_seconds),
        server_address=f"{config.advertise_address}:{config.secure_port}",
        openapi=OpenAPIHandler(scheme),
    )
    reviews.register(server)
    certificates.register(server)
    authz_reviews.register(server, authorizer, authorizer, rbac_index)
    handlers.admission.append(escalation_hook(authorizer, rbac))
    service_accounts.register(server, broadcasters)  # token endpoints, admission chain

    async def storage_ok() -> bool:
        await backend.current_revision()
        return True

    server.health_checks["etcd"] = storage_ok
    return ServerParts(
        server, broadcasters, RBACWiring(rbac_index, stores, broadcasters), service_accounts
    )


def listen_error(config: ServerConfig, exc: OSError, port_flag: str = "--secure-port") -> str:
    """One line naming why the port cannot be opened and what to do about it."""
    where = f"cannot listen on {config.bind_address}:{config.secure_port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{where}: the port is already in use (another kubeward or API server?); "
            f"stop it or choose another port with {port_flag}"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{where}: {config.bind_address} is not an address of this machine; "
            "give one of its addresses, 127.0.0.1 or 0.0.0.0 with --bind-address"
        )
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied (ports below 1024 need privileges); choose another port with {port_flag}"
    return f"{where}: {exc.strerror or exc}"


async def start_server(
    config: ServerConfig, backend: Backend | None = None, *, port_flag: str = "--secure-port"
) -> RunningServer:
    """Start serving on ``config.bind_address:config.secure_port`` (port 0 picks a free one).

    Raises:
        InputError: the address cannot be listened on (in use, not local, not permitted), in
            one line that names the flag to change (``port_flag``).
    """
    ssl_context = server_ssl_context(config)
    if backend is None:
        backend = backend_from_url(config.storage_url)
    await backend.start()
    try:
        parts = await build_server(config, backend)
        server = parts.server
        await ensure_default_namespaces(server.stores)
        await parts.rbac.prepare()
        await parts.service_accounts.prepare()
        app = build_application(server)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(
            runner, config.bind_address, config.secure_port, ssl_context=ssl_context, backlog=1024
        )
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise InputError(listen_error(config, exc, port_flag)) from exc
    except BaseException:
        await backend.close()
        raise
    port = config.secure_port
    sockets = getattr(site, "_server", None)
    if sockets is not None and sockets.sockets:
        port = sockets.sockets[0].getsockname()[1]
    controller = NamespaceController(server.stores)
    background = [
        asyncio.create_task(controller.run()),
        *parts.rbac.tasks(),
        *parts.service_accounts.tasks(),
    ]
    log.info("serving securely on %s:%d", config.bind_address, port)
    return RunningServer(server, backend, runner, parts.broadcasters, background, port)


async def serve_until_signalled(
    config: ServerConfig,
    on_ready: Callable[[RunningServer], None] | None = None,
    *,
    port_flag: str = "--secure-port",
) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly (open watches are ended first)."""
    running = await start_server(config, port_flag=port_flag)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if on_ready is not None:
        on_ready(running)
    try:
        await stop.wait()
    finally:
        await running.stop()
