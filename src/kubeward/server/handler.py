"""The innermost stage of the request path: read the body, route, call the handler.

Rules:
 1. The body of a POST, PUT, PATCH or DELETE is read here, after authorization, with two
    bounds: at most ``--max-request-body-bytes`` (413 beyond; a declared Content-Length over it
    is refused before reading), and at most ``--request-body-timeout`` seconds for all of it. A
    body that trickles in slower is cut off as Go's ``http.Server`` ``ReadTimeout`` cuts it: the
    connection is closed without an answer. A body that has not fully arrived with the headers
    is awaited inside ``state.waiting_for_client()``: the request holds no priority-and-fairness
    seat while its client is sending.
 2. Non-resource paths: ``/version``, health (``/healthz``, ``/livez``, ``/readyz`` and their
    ``/<check>`` and ``?verbose`` forms), discovery, extra non-resource handlers, OpenAPI.
 3. Resource paths: the kind must be served and the verb (or the subresource's verb) allowed
    for it (404, 405 otherwise); virtual kinds (reviews, token requests, CSR subresources) go
    to their handler, stored kinds to the REST verbs of ``server.resources``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from kubeward import __version__
from kubeward.api import discovery
from kubeward.api.request_info import RequestInfo
from kubeward.api.scheme import ResourceType
from kubeward.errors import MethodNotAllowed, NotFound, RequestEntityTooLarge, Timeout
from kubeward.server.filters.interfaces import RequestState
from kubeward.server.http import json_response
from kubeward.server.resources import RequestContext

if TYPE_CHECKING:
    from kubeward.server.app import APIServer

log = logging.getLogger("kubeward.apiserver")

KUBERNETES_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4"}
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
READINESS_ONLY = frozenset({"etcd"})  # checks /livez leaves out
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def read_body(request: web.Request, max_bytes: int, timeout_seconds: float) -> bytes:
    """Rule 1."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestEntityTooLarge("the request body is too large", None)
    chunks: list[bytes] = []
    size = 0
    scope = asyncio.timeout(timeout_seconds)
    try:
        async with scope:
            async for chunk in request.content.iter_chunked(65536):
                size += len(chunk)
                if size > max_bytes:
                    raise RequestEntityTooLarge("the request body is too large")
                chunks.append(chunk)
    except TimeoutError:
        if not scope.expired():
            raise
        log.info(
            "closing the connection of %s %s from %s: the body took longer than %g s",
            request.method,
            request.path,
            request.remote,
            timeout_seconds,
        )
        if request.transport is not None:
            request.transport.close()
        # Answered for the record; the closed connection takes no answer, quietly (rule 1).
        raise Timeout(f"the request body was not received within {timeout_seconds:g}s") from None
    return b"".join(chunks)


class APIHandler:
    """Routes an authorized request to what serves it (rules 2 and 3)."""

    def __init__(self, server: APIServer) -> None:
        self.server = server

    async def __call__(self, state: RequestState) -> web.StreamResponse:
        request = state.request
        body = b""
        if request.method in _BODY_METHODS:
            limit, timeout = self.server.max_body_bytes, self.server.request_body_timeout
            if request.content.is_eof():  # it came with the headers: nothing to wait for
                body = await read_body(request, limit, timeout)
            else:
                async with state.waiting_for_client():
                    body = await read_body(request, limit, timeout)
        return await self.dispatch(state, body)

    async def dispatch(self, state: RequestState, body: bytes) -> web.StreamResponse:
        request, info, user = state.request, state.info, state.user
        if not info.is_resource_request:
            return await self.non_resource(request, info)
        server = self.server
        rt = server.scheme.lookup(info.api_group, info.api_version, info.resource)
        if rt is None or not routable(rt, info):
            raise NotFound("the server could not find the requested resource")
        verb = info.verb
        if info.subresource:
            allowed = rt.subresource(info.subresource)
            if allowed is None:
                raise NotFound("the server could not find the requested resource")
            if verb not in allowed.verbs:
                raise method_not_allowed(request, info)
        elif verb not in rt.verbs:
            raise method_not_allowed(request, info)
        virtual = server.virtual.get((rt.group, rt.resource, info.subresource))
        if virtual is not None:
            return await virtual(request, info, user, body)
        store = server.stores.get(rt)
        if store is None:
            raise NotFound("the server could not find the requested resource")
        ctx = RequestContext(request, info, user, rt, store)
        h = server.handlers
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
        raise method_not_allowed(request, info)

    async def non_resource(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        server = self.server
        path = request.path.rstrip("/") or "/"
        if request.method not in ("GET", "HEAD"):
            raise method_not_allowed(request, info)
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
        if path in HEALTH_PATHS or any(path.startswith(p + "/") for p in HEALTH_PATHS):
            return await self.health(request, path)
        accept = request.headers.get("Accept", "")
        if path in ("/api", "/apis"):
            version = discovery.negotiate_aggregated(accept)
            if version is not None:
                doc = discovery.aggregated(server.scheme, core=path == "/api", version=version)
                content_type = (
                    discovery.AGGREGATED_V2 if version == "v2" else discovery.AGGREGATED_V2BETA1
                )
                return json_response(doc, content_type=content_type)
            if path == "/api":
                return json_response(discovery.api_versions(server.server_address))
            return json_response(discovery.api_group_list(server.scheme))
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            core_doc = discovery.api_resource_list(server.scheme, "", parts[1])
            if core_doc is not None:
                return json_response(core_doc)
        if parts[0] == "apis" and len(parts) == 2:
            group_doc = discovery.api_group(server.scheme, parts[1])
            if group_doc is not None:
                return json_response(group_doc)
        if parts[0] == "apis" and len(parts) == 3:
            group_version_doc = discovery.api_resource_list(server.scheme, parts[1], parts[2])
            if group_version_doc is not None:
                return json_response(group_version_doc)
        extra = server.non_resource.get(path)
        if extra is not None:
            return await extra(request)
        if parts[0] == "openapi" and server.openapi is not None:
            found: web.StreamResponse | None = await server.openapi(request, parts)
            if found is not None:
                return found
        raise NotFound("the server could not find the requested resource")

    async def health(self, request: web.Request, path: str) -> web.StreamResponse:
        base = "/" + path.strip("/").split("/")[0]
        checks: dict[str, Callable[[], Awaitable[bool]]] = {
            "ping": _always_ok,
            **self.server.health_checks,
        }
        wanted = path[len(base) + 1 :] if path != base else ""
        results: list[tuple[str, bool]] = []
        for name, check in checks.items():
            if wanted and name != wanted:
                continue
            if base == "/livez" and (name in READINESS_ONLY or name.startswith("etcd-override-")):
                continue  # a storage outage is not a reason to restart the API server
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


def method_not_allowed(request: web.Request, info: RequestInfo) -> MethodNotAllowed:
    target = " ".join(p for p in (info.resource, info.name) if p)
    return MethodNotAllowed(
        f"the server does not allow this method on the requested resource ({request.method.lower()} {target})".replace(
            " )", ")"
        )
    )


def routable(rt: ResourceType, info: RequestInfo) -> bool:
    """Whether kube-apiserver has a route for this scope, whatever authorization said.

    A cluster-scoped kind has no route under ``/namespaces/NS/`` (but the Namespace object
    itself is ``/namespaces/NS``), and a namespaced kind has no route for a name outside a
    namespace (``/api/v1/secrets/NAME``): a Role in one namespace must never reach nodes, and a
    name granted cluster-wide must not pick an object from every namespace.
    """
    if not rt.namespaced:
        is_namespace_object = (
            rt.resource == "namespaces" and not rt.group and info.name == info.namespace
        )
        return not info.namespace or is_namespace_object
    has_path_name = len(info.parts) > 1
    return bool(info.namespace) or not has_path_name
