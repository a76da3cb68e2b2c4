"""Assembling an :class:`APIServer` from a :class:`ServerConfig`, and running it.

This is the one place that turns flags into components: the storage backend (by URL, through
``storage.factory``), the stores of every served kind, the authenticator union, the authorizer
chain (through ``authz.modes``), the admission chain (through ``admission.registry``), the
RBAC kinds' escalation checks, the shared informers over the server's own stores
(``controllers.factory``) and the in-process controllers kube-apiserver itself runs (the
default namespaces, the ``kubernetes`` Service, CustomResourceDefinitions, admission policy
status, bootstrap signing). Namespace deletion, the service-account controllers, quota status
and volume protection are kube-controller-manager's (``controllers.manager``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from kubeward.api.allocation.ranges import IPRange, PortRange
from kubeward.api.allocation.services import ServiceAllocations
from kubeward.api.features import served_optional
from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import NODES
from kubeward.api.resources.core_services import SERVICES
from kubeward.api.resources.scheduling import ensure_system_priority_classes
from kubeward.api.scheme import ResourceType
from kubeward.authn.factory import (
    AuthenticationOptions,
    JWTOptions,
    TokenWebhookOptions,
    build_authenticator,
)
from kubeward.authz.modes import AuthorizerChain, WebhookOptions, build_authorizer, rbac_rules
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.structured import ConfiguredAuthorizer, StructuredOptions
from kubeward.client.fetch import HTTPSFetcher
from kubeward.client.webhook import URLWebhookClient, WebhookClient
from kubeward.controllers.admissionpolicystatus import AdmissionPolicyStatusController
from kubeward.controllers.base import Controller
from kubeward.controllers.crds import CRDController
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.kubernetes_service import (
    KubernetesServiceController,
    ensure_kubernetes_service,
    repair_service_allocations,
)
from kubeward.controllers.namespaces import ensure_default_namespaces
from kubeward.controllers.sources import StoreSources
from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.server import tables_adapter
from kubeward.server.app import KUBERNETES_VERSION, APIServer, build_application
from kubeward.server.config import ServerConfig
from kubeward.server.endpoints import (
    authz_reviews,
    binding,
    eviction,
    kubelet_streams,
    resource_metrics,
    reviews,
    scale,
)
from kubeward.server.endpoints.kubelet_connection import KubeletConnector
from kubeward.server.endpoints.openapi_handler import OpenAPIHandler
from kubeward.server.flowcontrol import FlowControl, FlowControlWiring
from kubeward.server.resources import ResourceHandlers
from kubeward.server.tls import server_ssl_context
from kubeward.server.transport import (
    CONNECTION_LOG,
    ConnectionGuards,
    ConnectionTimeouts,
    GuardedSite,
)
from kubeward.server.watch import Broadcasters
from kubeward.server.wiring.admission_wiring import build_admission
from kubeward.server.wiring.bootstrap_wiring import BootstrapWiring
from kubeward.server.wiring.node_graph_wiring import NodeGraphWiring
from kubeward.server.wiring.rbac_wiring import RBACWiring, attach_escalation_checks
from kubeward.server.wiring.serviceaccount_wiring import ServiceAccountOptions, ServiceAccountWiring
from kubeward.server.wiring.storage_backends import StorageBackends
from kubeward.storage.factory import backend_from_etcd, backend_from_url
from kubeward.storage.interfaces import Backend

log = logging.getLogger("kubeward.apiserver")


@dataclass
class RunningServer:
    server: APIServer
    backend: Backend
    runner: web.AppRunner
    broadcasters: Broadcasters
    background: list[asyncio.Task[None]]
    port: int
    # Informers started after start-up (kinds added at run time) are not in ``background``.
    informers: InformerFactory | None = None
    # The backends of --etcd-servers-overrides (``backend`` is the default one).
    overrides: StorageBackends | None = None

    async def stop(self) -> None:
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.informers is not None:
            await self.informers.stop()
        await self.broadcasters.close()
        await self.runner.cleanup()
        # A TLS close waits up to 30 s for the peer's close_notify; a stopped server does not.
        for transport in list(self.server.transports):
            if isinstance(transport, asyncio.Transport):
                transport.abort()
        await self.backend.close()
        if self.overrides is not None:
            await self.overrides.close()
        # Let the closed connections' callbacks run before the caller stops the loop.
        await asyncio.sleep(0.1)


class _StoreFollower:
    """Keeps the server's stores in step with the scheme as kinds come and go at run time.

    A kind added while the server runs (a CustomResourceDefinition becoming established) gets a
    store over the same backend; a removed kind loses its store, and its watchers' streams end.
    """

    def __init__(
        self, stores: dict[ResourceType, Store], broadcasters: Broadcasters, backend: Backend
    ) -> None:
        self._stores = stores
        self._broadcasters = broadcasters
        self._backend = backend
        self._closing: set[asyncio.Task[None]] = set()

    def __call__(self, rt: ResourceType, added: bool) -> None:
        if added:
            if rt.stored and rt.strategy is not None:
                self._stores[rt] = Store(rt, rt.strategy(rt), self._backend)
            return
        store = self._stores.pop(rt, None)
        if store is not None:
            task = asyncio.get_running_loop().create_task(self._broadcasters.discard(store))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)


@dataclass(frozen=True)
class ServerParts:
    """The assembled server and the wirings that still have start-up work and tasks to run."""

    server: APIServer
    broadcasters: Broadcasters
    informers: InformerFactory
    rbac: RBACWiring
    service_accounts: ServiceAccountWiring
    crds: CRDController
    flow_control: FlowControlWiring | None = None
    bootstrap: BootstrapWiring | None = None
    node_graph: NodeGraphWiring | None = None
    policy_status: Controller | None = None


class WebhookClients:
    """Makes the webhooks' HTTPS clients (``client.webhook``) and closes them at shutdown."""

    def __init__(self) -> None:
        self.clients: list[WebhookClient | URLWebhookClient] = []

    def maker(self, user_agent: str) -> Callable[[Path], WebhookClient]:
        def make(path: Path) -> WebhookClient:
            client = WebhookClient(path, user_agent=user_agent)
            self.clients.append(client)
            return client

        return make

    def url_maker(self) -> Callable[[str, str], URLWebhookClient]:
        def make(url: str, ca_pem: str) -> URLWebhookClient:
            client = URLWebhookClient(url, ca_pem)
            self.clients.append(client)
            return client

        return make

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


def webhook_options(config: ServerConfig, clients: WebhookClients) -> WebhookOptions | None:
    """The Webhook authorization mode's options."""
    if config.authorization_webhook_config_file is None:
        return None
    return WebhookOptions(
        config.authorization_webhook_config_file,
        clients.maker("kube-apiserver-authorization-webhook"),
        config.authorization_webhook,
    )


def authorizer_chain(
    config: ServerConfig, rbac_index: RBACIndex, clients: WebhookClients
) -> AuthorizerChain:
    """``--authorization-config``'s chain (followed when the file changes), or the modes'."""
    if config.authorization_config_file is not None:
        options = StructuredOptions(
            config.authorization_config_file,
            clients.maker("kube-apiserver-authorization-webhook"),
            config.authorization_webhook.backoff,
            config.authorization_policy_file,
        )
        return ConfiguredAuthorizer(options, rbac_index=rbac_index)
    return build_authorizer(
        list(config.authorization_modes),
        rbac_index=rbac_index,
        policy_file=config.authorization_policy_file,
        webhook=webhook_options(config, clients),
    )


def token_webhook_options(
    config: ServerConfig, clients: WebhookClients
) -> TokenWebhookOptions | None:
    """The token-authentication webhook's options."""
    if config.authentication_token_webhook_config_file is None:
        return None
    return TokenWebhookOptions(
        config.authentication_token_webhook_config_file,
        clients.maker("kube-apiserver-authentication-webhook"),
        config.authentication_token_webhook,
    )


async def build_server(
    config: ServerConfig, backend: Backend, backends: StorageBackends | None = None
) -> ServerParts:
    """The server's parts over ``backend`` (and ``backends``' overrides, already started)."""
    backends = backends if backends is not None else StorageBackends(backend)
    scheme, strategies = build_scheme(served_optional(config.features))
    stores = {rt: Store(rt, strategies[rt], backends.for_type(rt)) for rt in scheme if rt.stored}
    # Service addresses and node ports are allocated in storage (api.allocation.services).
    stores[SERVICES].hooks = ServiceAllocations(
        backend,
        IPRange.parse(config.service_cluster_ip_range),
        PortRange.parse(config.service_node_port_range),
    )
    service_accounts = ServiceAccountWiring.create(
        ServiceAccountOptions.from_config(config), stores
    )
    bootstrap = BootstrapWiring(config.enable_bootstrap_token_auth)
    webhook_clients = WebhookClients()
    fetcher = HTTPSFetcher()
    jwt = None
    if config.authentication_config_file is not None or config.oidc.given:
        jwt = JWTOptions(fetcher, config.authentication_config_file, config.oidc)
    authenticator = build_authenticator(
        AuthenticationOptions(
            client_ca_file=config.client_ca_file,
            token_auth_file=config.token_auth_file,
            basic_auth_file=config.basic_auth_file,
            anonymous=config.anonymous_auth,
            jwt=jwt,
            token_webhook=token_webhook_options(config, webhook_clients),
            api_audiences=config.api_audiences or config.service_account_issuers[:1],
        ),
        [*service_accounts.token_authenticators(), *bootstrap.token_authenticators()],
    )
    rbac_index = RBACIndex()
    authorizer = authorizer_chain(config, rbac_index, webhook_clients)
    rbac = rbac_rules(authorizer, rbac_index)
    broadcasters = Broadcasters()
    scheme.subscribe(_StoreFollower(stores, broadcasters, backend))
    flow_control = None
    if config.enable_priority_and_fairness:
        # Upstream's request wait limit: a quarter of the request timeout.
        flow_control = FlowControl(
            config.max_requests_inflight + config.max_mutating_requests_inflight,
            wait_limit=config.request_timeout_seconds / 4,
        )
    # One informer per kind for everything in the process that follows storage, fed by the
    # same watch fan-out the API's watchers use.
    informers = InformerFactory(StoreSources(stores, broadcasters.for_store))
    handlers = ResourceHandlers(
        broadcasters,
        table_builder=tables_adapter.build,
        node_store=stores[NODES],
        min_request_timeout=config.min_request_timeout_seconds,
        max_body_bytes=config.max_request_body_bytes,
    )
    server = APIServer(
        scheme=scheme,
        stores=stores,
        authenticator=authenticator,
        authorizer=authorizer,
        handlers=handlers,
        max_requests_inflight=config.max_requests_inflight,
        max_mutating_requests_inflight=config.max_mutating_requests_inflight,
        max_body_bytes=config.max_request_body_bytes,
        request_timeout=float(config.request_timeout_seconds),
        request_body_timeout=config.request_body_timeout_seconds,
        server_address=f"{config.advertise_address}:{config.secure_port}",
        openapi=OpenAPIHandler(scheme, KUBERNETES_VERSION["gitVersion"]),
        flow_control=flow_control,
        connections=ConnectionGuards(
            ConnectionTimeouts(
                tls_handshake=config.tls_handshake_timeout_seconds,
                request_header=config.request_header_timeout_seconds,
                idle_connection=config.idle_connection_timeout_seconds,
            )
        ),
    )
    server.on_shutdown.append(webhook_clients.close)
    server.on_shutdown.append(fetcher.close)

    reviews.register(server)
    scale.register(server)
    eviction.register(server)
    binding.register(server)
    kubelets = KubeletConnector(
        certificate=config.kubelet_client_certificate,
        key=config.kubelet_client_key,
        authority=config.kubelet_certificate_authority,
        preferred_address_types=config.kubelet_preferred_address_types,
    )
    kubelet_streams.register(server, kubelets)
    resource_metrics.register(server, kubelets)
    authz_reviews.register(server, authorizer, authorizer, rbac_index, authorizer.abac)
    handlers.admission, handlers.object_reader = build_admission(
        stores,
        authorizer,
        config.enable_admission_plugins,
        config.disable_admission_plugins,
        informers=informers,
        webhook_transport=webhook_clients.url_maker(),
    )
    attach_escalation_checks(stores, authorizer, rbac)
    service_accounts.register(server, informers)  # token endpoints and the object index
    bootstrap.register(
        informers,
        stores,
        server=f"https://{server.server_address}",
        ca_pem=read_bytes(config.client_ca_file) if config.client_ca_file else b"",
    )

    async def storage_ok() -> bool:
        await backend.current_revision()
        return True

    server.health_checks["etcd"] = storage_ok
    server.health_checks.update(backends.health_checks())
    return ServerParts(
        server,
        broadcasters,
        informers,
        RBACWiring(rbac_index, stores, informers),
        service_accounts,
        CRDController(scheme, stores, informers),
        FlowControlWiring(flow_control, stores, informers) if flow_control else None,
        bootstrap,
        NodeGraphWiring(authorizer.node.graph, scheme, informers) if authorizer.node else None,
        AdmissionPolicyStatusController(stores, informers),
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
        backend = (
            backend_from_etcd(config.etcd)
            if config.etcd is not None
            else backend_from_url(config.storage_url)
        )
    await backend.start()
    overrides = StorageBackends(backend, config.etcd)
    try:
        await overrides.start()
    except BaseException:
        await overrides.close()
        await backend.close()
        raise
    parts: ServerParts | None = None
    try:
        parts = await build_server(config, backend, overrides)
        server = parts.server
        await ensure_default_namespaces(server.stores)
        await ensure_system_priority_classes(server.stores)
        await parts.rbac.prepare()  # starts the informers; returns once RBAC's have synced
        await parts.service_accounts.prepare()
        if parts.bootstrap is not None:
            await parts.bootstrap.prepare()
        if parts.node_graph is not None:
            await parts.node_graph.prepare()
        await parts.crds.prepare()
        if parts.flow_control is not None:
            await parts.flow_control.prepare()
        app = build_application(server)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=config.idle_connection_timeout_seconds,
            logger=CONNECTION_LOG,
        )
        await runner.setup()
        site = GuardedSite(
            runner,
            config.bind_address,
            config.secure_port,
            ssl_context=ssl_context,
            guards=server.connections,
            backlog=1024,
        )
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise InputError(listen_error(config, exc, port_flag)) from exc
    except BaseException:
        if parts is not None:
            await parts.informers.stop()
            await parts.broadcasters.close()
        await backend.close()
        await overrides.close()
        raise
    port = site.bound_port
    ip_range = IPRange.parse(config.service_cluster_ip_range)
    try:
        await repair_service_allocations(server.stores)
        await ensure_kubernetes_service(server.stores, ip_range, config.advertise_address, port)
    except BaseException:
        await runner.cleanup()
        await parts.informers.stop()
        await parts.broadcasters.close()
        await backend.close()
        await overrides.close()
        raise
    kubernetes_service = KubernetesServiceController(
        server.stores, parts.informers, ip_range, config.advertise_address, port
    )
    parts.informers.start()
    background = [
        *parts.informers.tasks(),
        asyncio.create_task(kubernetes_service.run(), name="kubernetes-service-controller"),
        *(
            [asyncio.create_task(parts.policy_status.run(), name="policy-status-controller")]
            if parts.policy_status is not None
            else []
        ),
        *parts.rbac.tasks(),
        asyncio.create_task(parts.crds.run(), name="crd-controller"),
        *(parts.flow_control.tasks() if parts.flow_control is not None else []),
        *(parts.bootstrap.tasks() if parts.bootstrap is not None else []),
    ]
    log.info("serving securely on %s:%d", config.bind_address, port)
    return RunningServer(
        server, backend, runner, parts.broadcasters, background, port, parts.informers, overrides
    )


async def serve_until_signalled(
    config: ServerConfig,
    on_ready: Callable[[RunningServer], None] | None = None,
    *,
    port_flag: str = "--secure-port",
    replicas: Sequence[ServerConfig] = (),
) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly (open watches are ended first).

    ``replicas`` are further API servers started after the first (``kubeward up --etcd
    --replicas N``: each with its own storage client and caches over the same etcd).
    """
    running = await start_server(config, port_flag=port_flag)
    others: list[RunningServer] = []
    try:
        for replica in replicas:
            others.append(await start_server(replica, port_flag=port_flag))
    except BaseException:
        for server in [*others, running]:
            await server.stop()
        raise
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
        for server in others:
            await server.stop()
        await running.stop()
