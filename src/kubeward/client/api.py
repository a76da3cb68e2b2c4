"""The HTTPS client: verbs on resources, over one aiohttp session built from a kubeconfig.

Rules:

 1. TLS and credentials come from ``kubeconfig.tls.ClientCredentials`` and nothing else (client
    certificate, bearer or basic, impersonation headers); connections are kept alive and reused.
 2. Every error answer becomes the ``StatusError`` its ``Status`` body names (``reason`` first,
    then the HTTP code), carrying the server's message and causes; a body that is not a
    ``Status`` still maps by code.
 3. A server that cannot be reached is reported as ``ServiceUnavailable`` naming the server
    and what went wrong: ``ServerUnreachable`` (refused, reset, timeout: retry later) or
    ``TLSFailure`` (a handshake failure: retrying will not help). aiohttp's exceptions never
    leave this module.
 4. ``watch`` yields events until the server ends the stream; an ``ERROR`` event is raised as
    its Status (``Gone`` for an expired resourceVersion), so the caller relists.
"""

from __future__ import annotations

import builtins
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from kubeward.api.meta import JSONObject
from kubeward.api.scheme import ResourceType
from kubeward.client.status import error_from_response
from kubeward.errors import ServiceUnavailable, StatusError
from kubeward.kubeconfig.tls import ClientCredentials

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


class ServerUnreachable(ServiceUnavailable):
    """No connection could be made (refused, reset, timed out): worth retrying later."""


class TLSFailure(ServiceUnavailable):
    """The TLS handshake failed (server not trusted, client certificate refused): not retried."""


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch stream: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK``."""

    type: str
    object: JSONObject


class APIClient:
    """Calls one API server as one identity. Use as ``async with APIClient.from_kubeconfig(p)``."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        user_agent: str = "kubeward",
        max_connections: int = 16,
    ) -> None:
        """``max_connections`` bounds the connection pool (0: unbounded, for a client that
        holds one watch per kind, as the controller-manager's does)."""
        self.credentials = credentials
        self.max_connections = max_connections
        self.server = credentials.server
        headers = {"Accept": JSON, "User-Agent": user_agent}
        self._authorization = credentials.authorization_header() or ""
        if credentials.impersonate_user:
            headers["Impersonate-User"] = credentials.impersonate_user
        self._headers = headers
        self._impersonate_groups = credentials.impersonate_groups
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | os.PathLike[str],
        context: str | None = None,
        *,
        user_agent: str = "kubeward",
        max_connections: int = 16,
    ) -> APIClient:
        """A client for ``context`` of the kubeconfig at ``path`` (InputError if unusable)."""
        return cls(
            ClientCredentials.from_kubeconfig(path, context),
            user_agent=user_agent,
            max_connections=max_connections,
        )

    async def __aenter__(self) -> APIClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self.credentials.ssl_context, limit=self.max_connections
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                json_serialize=lambda o: orjson.dumps(o).decode(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def use_credentials(self, credentials: ClientCredentials) -> None:
        """Switch to new credentials (a rotated client certificate): later calls use them; the
        connections made with the old ones are closed, so open watches end and are resumed."""
        self.credentials = credentials
        self._authorization = credentials.authorization_header() or ""
        await self.close()

    def set_bearer_token(self, token: str) -> None:
        """Send ``token`` from the next request on (a refreshed service-account token)."""
        self._authorization = f"Bearer {token}"

    # --- addressing -------------------------------------------------------------------------
    @staticmethod
    def path(rt: ResourceType, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The URL path of a collection, an object or a subresource of ``rt``."""
        base = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
        if rt.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{rt.resource}"
        if name:
            base += f"/{quote(name, safe='')}"
        if subresource:
            base += f"/{subresource}"
        return base

    # --- the verbs --------------------------------------------------------------------------
    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> JSONObject:
        return await self.request("GET", self.path(rt, namespace, name))

    async def list(
        self, rt: ResourceType, namespace: str = "", params: Mapping[str, str] | None = None
    ) -> JSONObject:
        return await self.request("GET", self.path(rt, namespace), params=params)

    async def create(self, rt: ResourceType, obj: JSONObject, namespace: str = "") -> JSONObject:
        return await self.request("POST", self.path(rt, namespace), body=obj)

    async def update(
        self, rt: ResourceType, obj: JSONObject, *, namespace: str = "", subresource: str = ""
    ) -> JSONObject:
        """PUT ``obj`` (conditional on its ``metadata.resourceVersion`` when it has one)."""
        name = str((obj.get("metadata") or {}).get("name") or "")
        return await self.request("PUT", self.path(rt, namespace, name, subresource), body=obj)

    async def patch(
        self,
        rt: ResourceType,
        name: str,
        patch: Any,
        *,
        namespace: str = "",
        subresource: str = "",
        content_type: str = MERGE_PATCH,
    ) -> JSONObject:
        return await self.request(
            "PATCH",
            self.path(rt, namespace, name, subresource),
            body=patch,
            content_type=content_type,
        )

    async def delete(
        self,
        rt: ResourceType,
        name: str,
        namespace: str = "",
        *,
        uid: str = "",
        propagation_policy: str = "",
    ) -> JSONObject:
        """DELETE; with ``uid``, only if the object is still that one (a precondition);
        ``propagation_policy`` is ``Background``, ``Foreground`` or ``Orphan``."""
        body: JSONObject = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if uid:
            body["preconditions"] = {"uid": uid}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        return await self.request("DELETE", self.path(rt, namespace, name), body=body)

    async def create_raw(self, path: str, obj: JSONObject) -> JSONObject:
        """POST to any path (reviews such as ``subjectaccessreviews``)."""
        return await self.request("POST", path, body=obj)

    async def watch(
        self,
        rt: ResourceType,
        namespace: str = "",
        *,
        resource_version: str = "",
        timeout_seconds: int = 300,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Events after ``resource_version`` until the server ends the stream (rule 4).

        ``params`` adds query parameters, such as ``fieldSelector`` and ``labelSelector``.
        """
        params = {
            **(params or {}),
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        if resource_version:
            params["resourceVersion"] = resource_version
        url = self.server + self.path(rt, namespace)
        session = self._open()
        try:
            async with session.get(
                url,
                params=params,
                headers=self._extra_headers(),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=10, sock_read=timeout_seconds + 30
                ),
            ) as response:
                if response.status >= 400:
                    raise error_from_response(response.status, await response.read())
                async for line in response.content:
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    kind = str(event.get("type", ""))
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        raise error_from_response(
                            int(obj.get("code") or 500), line, status_body=obj
                        )
                    yield WatchEvent(kind, obj)
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise self._unreachable(exc) from exc
        except orjson.JSONDecodeError as exc:
            raise ServiceUnavailable(f"{self.server}: watch stream is not JSON ({exc})") from exc

    # --- the transport ----------------------------------------------------------------------
    def _extra_headers(self) -> builtins.list[tuple[str, str]]:
        headers = [("Impersonate-Group", g) for g in self._impersonate_groups]
        if self._authorization:
            headers.append(("Authorization", self._authorization))
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = JSON,
        timeout: float = 60.0,
    ) -> JSONObject:
        """One call; the decoded JSON answer, or the mapped ``StatusError`` (rules 2 and 3)."""
        session = self._open()
        headers = self._extra_headers()
        data: bytes | None = None
        if body is not None:
            data = orjson.dumps(body)
            headers.append(("Content-Type", content_type))
        try:
            async with session.request(
                method,
                self.server + path,
                data=data,
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise error_from_response(response.status, raw)
        except StatusError:
            raise
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise self._unreachable(exc) from exc
        if not raw:
            return {}
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ServiceUnavailable(
                f"{self.server}: answered {method} {path} with non-JSON"
            ) from exc
        return decoded if isinstance(decoded, dict) else {"value": decoded}

    def _unreachable(self, exc: BaseException) -> ServiceUnavailable:
        what = str(exc) or type(exc).__name__
        if isinstance(exc, ssl.SSLError | aiohttp.ClientSSLError):
            return TLSFailure(f"{self.server}: TLS handshake with the API server failed: {what}")
        return ServerUnreachable(f"{self.server}: cannot reach the API server: {what}")
