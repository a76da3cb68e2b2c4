"""GET a JSON document over HTTPS, trusting a given CA: OpenID discovery and JWKS.

One aiohttp session per trust anchor (the PEM CA, or the system's trust when empty), reused
across calls and closed by ``close``. Failures are the errors of ``client.api``:
``ServiceUnavailable`` when the server cannot be reached or answers with something other than
a JSON object, the answer's ``StatusError`` for an HTTP error.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import orjson

from kubeward.client.status import error_from_response
from kubeward.errors import ServiceUnavailable, StatusError


class HTTPSFetcher:
    def __init__(self, *, timeout: float = 10.0, user_agent: str = "kube-apiserver") -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def _session(self, ca_pem: str) -> aiohttp.ClientSession:
        session = self._sessions.get(ca_pem)
        if session is None or session.closed:
            context = ssl.create_default_context(cadata=ca_pem or None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                headers={"Accept": "application/json", "User-Agent": self.user_agent},
            )
            self._sessions[ca_pem] = session
        return session

    async def get_json(self, url: str, ca_pem: str) -> dict[str, Any]:
        try:
            async with self._session(ca_pem).get(
                url, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise error_from_response(response.status, raw)
        except StatusError:
            raise
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError, OSError, ValueError) as exc:
            raise ServiceUnavailable(f"Get {url!r}: {exc or type(exc).__name__}") from exc
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ServiceUnavailable(f"Get {url!r}: not JSON") from exc
        if not isinstance(document, dict):
            raise ServiceUnavailable(f"Get {url!r}: not a JSON object")
        return document

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
