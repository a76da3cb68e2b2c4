"""``pods/log``, ``pods/exec``, ``pods/attach``, ``pods/portforward`` and ``nodes/proxy``.

The API server answers these by calling the node's kubelet API over mTLS
(``kubelet_connection``) and relaying the answer, as kube-apiserver's pod and node REST
storage do (pkg/registry/core/pod/strategy.go ``LogLocation``, ``streamLocation``). Rules:
 1. The pod must exist (404 as any get). A container is named by ``container``; without it, a
    pod with one container means that one, and one with several is 400 ``a container name
    must be specified for pod P, choose one of: [A B]`` (and `` or one of the init containers:
    [...]``); a name the pod does not have is 400 ``container C is not valid for pod P``.
 2. Logs: a pod not yet bound has no logs (an empty answer); a container still waiting with
    no terminated instance behind it is 400 ``container "C" in pod "P" is waiting to start:
    REASON`` (one in back-off answers with its last instance's log, and ``previous`` is the
    kubelet's to answer). ``follow``, ``tailLines``,
    ``limitBytes``, ``timestamps`` and ``previous`` are passed on and the kubelet's answer is
    streamed back as it comes.
 3. exec, attach, portforward: the pod must be bound (400 ``pod P does not have a host
    assigned``) and not ended (400 ``cannot exec into a container in a completed pod; current
    phase is PHASE``). The client's WebSocket upgrade is repeated to the kubelet with the same
    subprotocols; the protocol the kubelet chose is the one accepted from the client, and
    messages are relayed both ways until either side closes.
 4. ``nodes/NAME/proxy/PATH`` is the kubelet's ``/PATH`` with the same method, query and body.
    A kubelet's refusal (4xx/5xx) becomes a Status with its code and its text as the message.
 5. Authorization happened before (``get``/``create`` on the subresource); the kubelet then
    authorizes the API server's own identity, its kubelet-client certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import WSMsgType, web

from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.core import NODES, PODS
from kubeward.api.user import UserInfo
from kubeward.errors import BadRequest, InternalError, NotFound, RemoteStatus
from kubeward.server.endpoints.kubelet_connection import (
    KubeletConnector,
    KubeletLocation,
    unreachable,
)

if TYPE_CHECKING:
    from kubeward.server.app import APIServer

JSONObject = dict[str, Any]
LOG_OPTIONS = (
    "follow",
    "tailLines",
    "limitBytes",
    "timestamps",
    "previous",
    "sinceSeconds",
    "sinceTime",
)
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "host"}
)


def _names(containers: list[JSONObject]) -> str:
    return " ".join(str(c.get("name", "")) for c in containers)


def choose_container(pod: JSONObject, asked: str) -> str:
    """Rule 1."""
    spec = pod.get("spec") or {}
    name = str((pod.get("metadata") or {}).get("name", ""))
    containers = spec.get("containers") or []
    init = spec.get("initContainers") or []
    ephemeral = spec.get("ephemeralContainers") or []
    if asked:
        if not any(c.get("name") == asked for c in [*containers, *init, *ephemeral]):
            raise BadRequest(f"container {asked} is not valid for pod {name}")
        return asked
    if len(containers) == 1:
        return str(containers[0].get("name", ""))
    if not containers:
        raise BadRequest(f"a container name must be specified for pod {name}")
    message = (
        f"a container name must be specified for pod {name}, choose one of: [{_names(containers)}]"
    )
    if init:
        message += f" or one of the init containers: [{_names(init)}]"
    raise BadRequest(message)


def waiting_reason(pod: JSONObject, container: str) -> str | None:
    """Rule 2: the reason a container has not started, if it has not."""
    status = pod.get("status") or {}
    for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if c.get("name") == container:
            waiting = (c.get("state") or {}).get("waiting")
            if waiting is None or (c.get("lastState") or {}).get("terminated"):
                return None
            return str(waiting.get("reason", ""))
    return "ContainerCreating" if not status.get("containerStatuses") else None


class KubeletStreams:
    def __init__(self, server: APIServer, connector: KubeletConnector) -> None:
        self.server = server
        self.connector = connector

    async def _pod(self, info: RequestInfo) -> JSONObject:
        store = self.server.stores.get(PODS)
        if store is None:
            raise NotFound("the server could not find the requested resource")
        return await store.get(info.namespace, info.name)

    async def _node_location(self, node_name: str) -> KubeletLocation:
        store = self.server.stores.get(NODES)
        if store is None:
            raise NotFound("the server could not find the requested resource")
        return self.connector.locate(await store.get("", node_name))

    async def log(
        self, request: web.Request, info: RequestInfo, _: UserInfo, __: bytes
    ) -> web.StreamResponse:
        """Rule 2."""
        pod = await self._pod(info)
        container = choose_container(pod, request.query.get("container", ""))
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if not node:
            return web.Response(body=b"", content_type="text/plain")
        reason = waiting_reason(pod, container)
        if reason is not None and request.query.get("previous", "").lower() not in ("1", "true"):
            raise BadRequest(
                f'container "{container}" in pod "{info.name}" is waiting to start: {reason}'
            )
        location = await self._node_location(node)
        query = urllib.parse.urlencode(
            [(k, request.query[k]) for k in LOG_OPTIONS if k in request.query]
        )
        url = location.url(f"/containerLogs/{info.namespace}/{info.name}/{container}", query)
        return await self._relay_http(request, "GET", url, b"")

    async def _relay_http(
        self, request: web.Request, method: str, url: str, body: bytes
    ) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        headers.pop("Authorization", None)
        try:
            async with self.connector.session.request(
                method, url, data=body or None, headers=headers
            ) as upstream:
                if upstream.status >= 400:
                    text = (await upstream.text()).strip()
                    reason = _REASONS.get(upstream.status, "InternalError")
                    raise RemoteStatus(text, upstream.status, reason)
                response = web.StreamResponse(status=upstream.status)
                for key, value in upstream.headers.items():
                    if key.lower() not in _HOP_HEADERS:
                        response.headers[key] = value
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable(url, exc) from None

    async def stream(
        self, request: web.Request, info: RequestInfo, _: UserInfo, __: bytes
    ) -> web.StreamResponse:
        """Rule 3."""
        pod = await self._pod(info)
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        if not node:
            raise BadRequest(f"pod {info.name} does not have a host assigned")
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise BadRequest(
                f"cannot exec into a container in a completed pod; current phase is {phase}"
            )
        location = await self._node_location(node)
        if info.subresource == "portforward":
            path = f"/portForward/{info.namespace}/{info.name}"
        else:
            container = choose_container(pod, request.query.get("container", ""))
            verb = info.subresource
            path = f"/{verb}/{info.namespace}/{info.name}/{container}"
        url = location.url(path, request.query_string)
        return await self.relay_websocket(request, url)

    async def _refusal(self, url: str) -> RemoteStatus:
        """Rule 3: why the kubelet refused an upgrade, asked again without one for its text."""
        try:
            async with self.connector.session.get(url) as answer:
                text = (await answer.text()).strip()
                code = answer.status
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable(url, exc) from None
        reason = _REASONS.get(code, "InternalError")
        return RemoteStatus(f"unable to upgrade connection: {text}", code, reason)

    async def relay_websocket(self, request: web.Request, url: str) -> web.StreamResponse:
        protocols = [
            p.strip()
            for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
            if p.strip()
        ]
        if request.headers.get("Upgrade", "").lower() != "websocket":
            # SPDY (kubectl's fallback) is not spoken: the kubelet's answer to a plain request
            # says why it would refuse anyway, else that an upgrade is required.
            raise await self._refusal(url)
        try:
            upstream = await self.connector.session.ws_connect(
                url, protocols=protocols, max_msg_size=0, autoping=True
            )
        except aiohttp.WSServerHandshakeError:
            raise await self._refusal(url) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable(url, exc) from None
        client = web.WebSocketResponse(
            protocols=(upstream.protocol,) if upstream.protocol else (), max_msg_size=0
        )
        try:
            await client.prepare(request)
            await _pump_both(client, upstream)
        finally:
            await upstream.close()
            await client.close()
        return client

    async def node_proxy(
        self, request: web.Request, info: RequestInfo, _: UserInfo, body: bytes
    ) -> web.StreamResponse:
        """Rule 4."""
        location = await self._node_location(info.name)
        rest = "/" + "/".join(info.parts[3:])
        url = location.url(rest, request.query_string)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.relay_websocket(request, url)
        return await self._relay_http(request, request.method, url, body)


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == WSMsgType.BINARY:
            await target.send_bytes(message.data)
        elif message.type == WSMsgType.TEXT:
            await target.send_str(message.data)
        else:
            break


async def _pump_both(
    client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse
) -> None:
    """Rule 3: relay until either side closes, then close the other."""
    tasks = [
        asyncio.ensure_future(_pump(client, upstream)),
        asyncio.ensure_future(_pump(upstream, client)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None and not isinstance(
                task.exception(), (ConnectionError, aiohttp.ClientError)
            ):
                raise InternalError(f"stream relay failed: {task.exception()}")
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def register(server: APIServer, connector: KubeletConnector) -> None:
    streams = KubeletStreams(server, connector)
    server.virtual[("", "pods", "log")] = streams.log
    for subresource in ("exec", "attach", "portforward"):
        server.virtual[("", "pods", subresource)] = streams.stream
    server.virtual[("", "nodes", "proxy")] = streams.node_proxy
    server.on_shutdown.append(connector.close)
