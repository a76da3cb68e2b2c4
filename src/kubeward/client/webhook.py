"""The HTTPS side of kube-apiserver's webhooks: one review posted to the URL a kubeconfig names.

A webhook configuration file is a kubeconfig: the cluster's ``server`` is the webhook's full
URL (path included), its ``certificate-authority`` the CA the webhook's serving certificate
must chain to, and the user's client certificate (or token) what the API server presents.
The answer is decoded JSON; failures are the errors ``client.api`` maps them to
(``ServiceUnavailable`` when unreachable, the answer's ``StatusError`` otherwise).
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import aiohttp
import orjson

from kubeward.client.api import APIClient
from kubeward.client.status import error_from_response
from kubeward.errors import ServiceUnavailable, StatusError


class WebhookClient:
    """A ``ReviewTransport`` for the authorization and token-authentication webhooks."""

    def __init__(self, kubeconfig: str | os.PathLike[str], *, user_agent: str) -> None:
        self._client = APIClient.from_kubeconfig(kubeconfig, user_agent=user_agent)
        self.server = self._client.server

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        return await self._client.request("POST", "", body=review, timeout=timeout)

    async def close(self) -> None:
        await self._client.close()


class URLWebhookClient:
    """A ``ReviewTransport`` for an admission webhook: its ``url``, trusting its ``caBundle``.

    The API server presents no client certificate here (kube-apiserver does so only when
    ``--admission-control-config-file`` names one, which kubeward does not read yet).
    """

    def __init__(self, url: str, ca_pem: str) -> None:
        self.server = url
        context = ssl.create_default_context(cadata=ca_pem or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context = context
        self._session: aiohttp.ClientSession | None = None

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._context),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        try:
            async with self._session.post(
                self.server,
                data=orjson.dumps(review),
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise error_from_response(response.status, raw)
        except StatusError:
            raise
        except TimeoutError as exc:
            raise ServiceUnavailable(f'Post "{self.server}": context deadline exceeded') from exc
        except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise ServiceUnavailable(f'Post "{self.server}": {exc}') from exc
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ServiceUnavailable(f'Post "{self.server}": the answer is not JSON') from exc
        if not isinstance(answer, dict):
            raise ServiceUnavailable(f'Post "{self.server}": the answer is not a JSON object')
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
