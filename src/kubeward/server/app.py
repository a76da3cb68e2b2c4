"""The API server: the request path from TLS to storage, on aiohttp.

Every request goes through, in order (DESIGN.md, "The request path"):

 1. limits: at most ``--max-requests-inflight`` requests at once (429 beyond, long-running watches
    not counted), a body of at most 3 MiB (413), a request timeout (504);
 2. authentication: the union of authenticators (401 on bad credentials);
 3. authorization: the union of authorizers in ``--authorization-mode`` order (403 with
    Kubernetes' wording when nobody allows);
 4. the handler: discovery, OpenAPI, health, reviews, or the REST verbs on a stored kind,
    where admission and the per-kind strategy run before storage.

Errors at any step are a ``Status`` body with the right code and reason; an unexpected
exception is logged and answered with 500, and the server goes on serving.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography import x509

from kubeward import __version__
from kubeward.api import discovery
from kubeward.api.registry.store import Store
from kubeward.api.request_info import RequestInfo, parse_request_info
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthenticationError, AuthRequest, AuthResponse
from kubeward.authn.union import UnionAuthenticator
from kubeward.authz.interfaces import Attributes, Authorizer, Decision
from kubeward.errors import (
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    StatusDetails,
    StatusError,
    Timeout,
    TooManyRequests,
    Unauthorized,
)
from kubeward.server.http import json_response, status_response, warning_header
from kubeward.server.impersonation import ImpersonationRefused, impersonate
from kubeward.server.resources import RequestContext, ResourceHandlers
from kubeward.server.tls import peer_certificate_chain

log = logging.getLogger("kubeward.apiserver")

KUBERNETES_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4"}

VirtualHandler = Callable[
    [web.Request, RequestInfo, UserInfo, bytes], Awaitable[web.StreamResponse]
]
_LONG_RUNNING_VERBS = frozenset({"watch"})
_HEALTH = ("/healthz", "/livez", "/readyz")


@dataclass
class APIServer:
    """Everything a request needs, assembled once at start by ``server.builder``."""

    scheme: Scheme
    stores: dict[ResourceType, Store]
    authenticator: UnionAuthenticator
    authorizer: Authorizer
    handlers: ResourceHandlers
    client_ca_certs: list[x509.Certificate] = field(default_factory=list)
    max_requests_inflight: int = 400
    max_body_bytes: int = 3 * 1024 * 1024
    request_timeout: float = 60.0
    server_address: str = "127.0.0.1:6443"
    openapi: Any = None
    virtual: dict[tuple[str, str, str], VirtualHandler] = field(default_factory=dict)
    health_checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    # GET handlers of non-resource paths, authorized as any non-resource URL (e.g. /debug/...).
    non_resource: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self._inflight = asyncio.Semaphore(self.max_requests_inflight)
        self._peer_cache: dict[bytes, x509.Certificate] = {}
        # Every client connection, so that stopping can drop the ones whose TLS close is stuck.
        # (uvloop's transports cannot be weakly referenced: closed ones are pruned instead.)
        self.transports: set[asyncio.BaseTransport] = set()
        self._prune_at = 256

    # --- the request path -------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None and transport not in self.transports:
            self._remember(transport)
        try:
            return await self._handle(request)
        except StatusError as exc:
            return status_response(exc)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("internal error serving %s %s", request.method, request.path)
            return status_response(
                InternalError("an error on the server has prevented the request from succeeding")
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        info = parse_request_info(request.method, request.path, request.query)
        auth = self._authenticate(request)
        user = self._impersonate(request, auth.user)
        if info.verb in _LONG_RUNNING_VERBS:
            response = await self._authorized(request, info, user, auth)
        else:
            if self._inflight.locked():
                raise TooManyRequests(
                    "Too many requests, please try again later.",
                    StatusDetails(retry_after_seconds=1),
                )
            async with self._inflight:
                try:
                    # asyncio.timeout, unlike wait_for, runs the handler without a task of its own.
                    async with asyncio.timeout(self.request_timeout):
                        response = await self._authorized(request, info, user, auth)
                except TimeoutError:
                    raise Timeout("request did not complete within the allowed duration") from None
        for warning in auth.warnings:
            if not response.prepared:
                response.headers.add("Warning", warning_header(warning))
        return response

    def _remember(self, transport: asyncio.BaseTransport) -> None:
        self.transports.add(transport)
        if len(self.transports) >= self._prune_at:
            self.transports = {t for t in self.transports if not t.is_closing()}
            self._prune_at = max(256, 2 * len(self.transports))

    def _peer_certificate(self, der: bytes) -> x509.Certificate:
        """Parse a client certificate once; keep-alive clients send the same one every request."""
        cert = self._peer_cache.get(der)
        if cert is None:
            if len(self._peer_cache) >= 4096:
                self._peer_cache.clear()
            cert = self._peer_cache[der] = x509.load_der_x509_certificate(der)
        return cert

    def _authenticate(self, request: web.Request) -> AuthResponse:
        peer: tuple[x509.Certificate, ...] = ()
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if isinstance(ssl_object, ssl.SSLObject):
            # Not verified by TLS: the x509 authenticator judges the chain (server.tls rule 2).
            peer = tuple(self._peer_certificate(der) for der in peer_certificate_chain(ssl_object))
        auth_request = AuthRequest(
            headers=request.headers, peer_certificates=peer, path=request.path
        )
        try:
            return self.authenticator.authenticate(auth_request)
        except AuthenticationError as exc:
            # One line with the peer and the reason, as kube-apiserver's "Unable to authenticate
            # the request"; the client gets only "Unauthorized".
            peername = transport.get_extra_info("peername") if transport is not None else None
            where = f"{peername[0]}:{peername[1]}" if peername else request.remote
            log.warning("401 %s %s from %s: %s", request.method, request.path, where, exc)
            raise Unauthorized("Unauthorized") from exc

    def _impersonate(self, request: web.Request, user: UserInfo) -> UserInfo:
        try:
            return impersonate(request.headers, user, self.authorizer)
        except ImpersonationRefused as exc:
            log.info("403 %s %s: %s", request.method, request.path, exc)
            raise forbidden(exc.attributes, exc.reason) from None

    async def _authorized(
        self, request: web.Request, info: RequestInfo, user: UserInfo, auth: AuthResponse
    ) -> web.StreamResponse:
        attributes = attributes_for(info, user)
        result = self.authorizer.authorize(attributes)
        if result.decision is not Decision.ALLOW:
            raise forbidden(attributes, result.reason)
        body = b""
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = await self._read_body(request)
        return await self._dispatch(request, info, user, body)

    async def _read_body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            raise RequestEntityTooLarge("the request body is too large", None)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise RequestEntityTooLarge("the request body is too large")
            chunks.append(chunk)
        return b"".join(chunks)

    # --- routing ----------------------------------------------------------------------------
    async def _dispatch(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        if not info.is_resource_request:
            return await self._non_resource(request, info)
        rt = self.scheme.lookup(info.api_group, info.api_version, info.resource)
        if rt is None:
            raise NotFound("the server could not find the requested resource")
        verb = info.verb
        if info.subresource:
            allowed = rt.subresource(info.subresource)
            if allowed is None:
                raise NotFound("the server could not find the requested resource")
            if verb not in allowed.verbs:
                raise _method_not_allowed(request, info)
        elif verb not in rt.verbs:
            raise _method_not_allowed(request, info)
        virtual = self.virtual.get((rt.group, rt.resource, info.subresource))
        if virtual is not None:
            return await virtual(request, info, user, body)
        store = self.stores.get(rt)
        if store is None:
            raise NotFound("the server could not find the requested resource")
        ctx = RequestContext(request, info, user, rt, store)
        h = self.handlers
        if verb == "get":
            return await h.get(ctx)
        if verb == "list":
            return await h.list(ctx)
        if verb == "watch":
            return await h.watch(ctx)
        if verb == "create":
            return await h.create(ctx, body)
        if verb == "update":
            return await h.update(ctx, body)
        if verb == "patch":
            return await h.patch(ctx, body)
        if verb == "delete":
            return await h.delete(ctx, body)
        if verb == "deletecollection":
            return await h.delete_collection(ctx, body)
        raise _method_not_allowed(request, info)

    async def _non_resource(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if request.method not in ("GET", "HEAD"):
            raise _method_not_allowed(request, info)
        if path == "/version":
            return json_response(
                {
                    **KUBERNETES_VERSION,
                    "gitCommit": f"kubeward-{__version__}",
                    "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z",
                    "goVersion": "python",
                    "compiler": "kubeward",
                    "platform": "linux/amd64",
                }
            )
        if path in _HEALTH or any(path.startswith(p + "/") for p in _HEALTH):
            return await self._health(request, path)
        accept = request.headers.get("Accept", "")
        if path in ("/api", "/apis"):
            version = discovery.negotiate_aggregated(accept)
            if version is not None:
                doc = discovery.aggregated(self.scheme, core=path == "/api", version=version)
                content_type = (
                    discovery.AGGREGATED_V2 if version == "v2" else discovery.AGGREGATED_V2BETA1
                )
                return json_response(doc, content_type=content_type)
            if path == "/api":
                return json_response(discovery.api_versions(self.server_address))
            return json_response(discovery.api_group_list(self.scheme))
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            core_doc = discovery.api_resource_list(self.scheme, "", parts[1])
            if core_doc is not None:
                return json_response(core_doc)
        if parts[0] == "apis" and len(parts) == 2:
            group_doc = discovery.api_group(self.scheme, parts[1])
            if group_doc is not None:
                return json_response(group_doc)
        if parts[0] == "apis" and len(parts) == 3:
            group_version_doc = discovery.api_resource_list(self.scheme, parts[1], parts[2])
            if group_version_doc is not None:
                return json_response(group_version_doc)
        extra = self.non_resource.get(path)
        if extra is not None:
            return await extra(request)
        if parts[0] == "openapi" and self.openapi is not None:
            found: web.StreamResponse | None = await self.openapi(request, parts)
            if found is not None:
                return found
        raise NotFound("the server could not find the requested resource")

    async def _health(self, request: web.Request, path: str) -> web.StreamResponse:
        base = "/" + path.strip("/").split("/")[0]
        checks = {"ping": _always_ok, **self.health_checks}
        wanted = path[len(base) + 1 :] if path != base else ""
        results: list[tuple[str, bool]] = []
        for name, check in checks.items():
            if wanted and name != wanted:
                continue
            try:
                ok = await check()
            except Exception:
                ok = False
            results.append((name, ok))
        if wanted and not results:
            raise NotFound("the server could not find the requested resource")
        healthy = all(ok for _, ok in results)
        if "verbose" in request.query:
            lines = [
                f"[{'+' if ok else '-'}]{name} {'ok' if ok else 'failed'}" for name, ok in results
            ]
            lines.append(f"{base[1:]} check {'passed' if healthy else 'failed'}")
            text = "\n".join(lines) + "\n"
        else:
            text = "ok" if healthy else "unhealthy"
        return web.Response(
            text=text,
            status=200 if healthy else 500,
            content_type="text/plain",
            headers={"Cache-Control": "no-cache, private", "X-Content-Type-Options": "nosniff"},
        )


async def _always_ok() -> bool:
    return True


def _method_not_allowed(request: web.Request, info: RequestInfo) -> MethodNotAllowed:
    target = " ".join(p for p in (info.resource, info.name) if p)
    return MethodNotAllowed(
        f"the server does not allow this method on the requested resource ({request.method.lower()} {target})".replace(
            " )", ")"
        )
    )


def attributes_for(info: RequestInfo, user: UserInfo) -> Attributes:
    if not info.is_resource_request:
        return Attributes(user=user, verb=info.verb, resource_request=False, path=info.path)
    return Attributes(
        user=user,
        verb=info.verb,
        namespace=info.namespace,
        api_group=info.api_group,
        api_version=info.api_version,
        resource=info.resource,
        subresource=info.subresource,
        name=info.name,
    )


def forbidden_message(attributes: Attributes) -> str:
    """Kubernetes' wording: ``User "jane" cannot list resource "pods" in API group "" in the namespace "default"``."""
    user = attributes.user.name
    if not attributes.resource_request:
        return f'User "{user}" cannot {attributes.verb} path "{attributes.path}"'
    resource = attributes.resource
    if attributes.subresource:
        resource = f"{resource}/{attributes.subresource}"
    if attributes.namespace:
        return (
            f'User "{user}" cannot {attributes.verb} resource "{resource}" in API group '
            f'"{attributes.api_group}" in the namespace "{attributes.namespace}"'
        )
    return f'User "{user}" cannot {attributes.verb} resource "{resource}" in API group "{attributes.api_group}" at the cluster scope'


def forbidden(attributes: Attributes, reason: str = "") -> Forbidden:
    message = forbidden_message(attributes)
    if reason:
        message = f"{message}: {reason}"
    if not attributes.resource_request:
        return Forbidden(f"forbidden: {message}", StatusDetails())
    qualified = (
        f"{attributes.resource}.{attributes.api_group}"
        if attributes.api_group
        else attributes.resource
    )
    if attributes.name:
        text = f'{qualified} "{attributes.name}" is forbidden: {message}'
    else:
        text = f"{qualified} is forbidden: {message}"
    return Forbidden(
        text,
        StatusDetails(name=attributes.name, group=attributes.api_group, kind=attributes.resource),
    )


def build_application(server: APIServer) -> web.Application:
    app = web.Application(client_max_size=server.max_body_bytes + 1)
    app.router.add_route("*", "/{tail:.*}", server.handle)
    return app
