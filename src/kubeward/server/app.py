"""The API server: everything a request needs, and the aiohttp application that serves it.

:class:`APIServer` holds what ``server.wiring.builder`` assembles once at start (the kinds and their
stores, the authenticator union, the authorizer chain, the handlers, priority and fairness, the
limits and timeouts). ``build_application`` composes the request path from it — the filters of
``server.filters`` around the handler of ``server.handler`` — and returns the aiohttp
application. Each request then:

 1. gets a :class:`~kubeward.server.filters.RequestState`, which the filters fill in;
 2. runs through the chain (recovery, request info, timeout, authentication, audit,
    impersonation, priority and fairness, authorization, handler);
 3. gets, when its response starts, the headers the filters asked for (``Warning``, the
    priority-and-fairness UIDs), and the filters waiting for that moment are told (a watch
    gives its seat back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kubeward.api.registry.store import Store
from kubeward.api.request_info import RequestInfo
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.api.user import UserInfo
from kubeward.authn.union import UnionAuthenticator
from kubeward.authz.interfaces import Authorizer
from kubeward.server.filters import (
    STATE_KEY,
    ChainSettings,
    Handler,
    RequestState,
    attributes_for,
    build_handler_chain,
    forbidden,
    forbidden_message,
    state_of,
)
from kubeward.server.flowcontrol import FlowControl
from kubeward.server.handler import KUBERNETES_VERSION, APIHandler
from kubeward.server.http import warning_header
from kubeward.server.resources import ResourceHandlers
from kubeward.server.transport import ConnectionGuards

__all__ = [
    "KUBERNETES_VERSION",
    "APIServer",
    "VirtualHandler",
    "attributes_for",
    "build_application",
    "forbidden",
    "forbidden_message",
]

VirtualHandler = Callable[
    [web.Request, RequestInfo, UserInfo, bytes], Awaitable[web.StreamResponse]
]


@dataclass
class APIServer:
    """Everything a request needs, assembled once at start by ``server.wiring.builder``."""

    scheme: Scheme
    stores: dict[ResourceType, Store]
    authenticator: UnionAuthenticator
    authorizer: Authorizer
    handlers: ResourceHandlers
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    max_body_bytes: int = 3 * 1024 * 1024
    request_timeout: float = 60.0
    request_body_timeout: float = 60.0
    server_address: str = "127.0.0.1:6443"
    openapi: Any = None
    # Priority and fairness; None turns it off (the plain in-flight limit applies instead).
    flow_control: FlowControl | None = None
    connections: ConnectionGuards = field(default_factory=ConnectionGuards)
    virtual: dict[tuple[str, str, str], VirtualHandler] = field(default_factory=dict)
    health_checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    # GET handlers of non-resource paths, authorized as any non-resource URL (e.g. /debug/...).
    non_resource: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(
        default_factory=dict
    )
    # Run when the application shuts down: the HTTPS clients of the webhooks it calls.
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._chain: Handler | None = None

    @property
    def transports(self) -> list[asyncio.BaseTransport]:
        """Every open client connection (stopping drops the ones whose TLS close is stuck)."""
        return self.connections.transports()

    def chain_settings(self) -> ChainSettings:
        return ChainSettings(
            authenticator=self.authenticator,
            authorizer=self.authorizer,
            request_timeout_seconds=self.request_timeout,
            flow_control=self.flow_control,
            max_requests_inflight=self.max_requests_inflight,
            max_mutating_requests_inflight=self.max_mutating_requests_inflight,
        )

    @property
    def chain(self) -> Handler:
        """The request path, composed on first use (the filters read the settings once)."""
        if self._chain is None:
            self._chain = build_handler_chain(APIHandler(self), self.chain_settings())
        return self._chain

    async def handle(self, request: web.Request) -> web.StreamResponse:
        guard = self.connections.guard_of(request.transport)
        if guard is not None:
            guard.request_started()
        state = RequestState(request)
        request[STATE_KEY] = state
        try:
            return await self.chain(state)
        finally:
            if guard is not None:
                guard.request_finished()


async def _response_starting(request: web.Request, response: web.StreamResponse) -> None:
    """Headers the filters asked for, and the filters waiting for the response to start."""
    state = state_of(request)
    if state is None:
        return
    for name, value in state.response_headers.items():
        response.headers[name] = value
    for warning in state.warnings:
        response.headers.add("Warning", warning_header(warning))
    state.response_started()


def build_application(server: APIServer) -> web.Application:
    app = web.Application(client_max_size=server.max_body_bytes + 1)
    app.router.add_route("*", "/{tail:.*}", server.handle)
    app.on_response_prepare.append(_response_starting)

    async def shut_down(_: web.Application) -> None:
        for close in server.on_shutdown:
            await close()

    app.on_cleanup.append(shut_down)
    return app
