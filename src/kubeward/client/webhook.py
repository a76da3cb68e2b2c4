"""The HTTPS side of kube-apiserver's webhooks, named in either of the two ways the API names them.

**By a kubeconfig** (the authorization and token-authentication webhooks): the cluster's
``server`` is the webhook's full URL (path included), its ``certificate-authority`` the CA the
webhook's serving certificate must chain to, and the user's client certificate (or token) what
the API server presents. :class:`WebhookClient` posts a review and returns the decoded answer;
failures are the errors ``client.api`` maps them to (``ServiceUnavailable`` when unreachable,
the answer's ``StatusError`` otherwise).

**By a URL and a ``caBundle``** (a CRD's conversion webhook, ``api.customresources.conversion``,
and admission webhooks through :class:`URLWebhookClient`): :func:`post_json`, with these rules:

 1. HTTPS only, TLS 1.2 or newer. The server's certificate must chain to the endpoint's
    ``caBundle`` (the system's roots when there is none) and carry the endpoint's server name
    (the service's ``<name>.<namespace>.svc`` or the URL's host).
 2. One POST of ``application/json``, bounded by the timeout as a whole.
 3. Every failure is :class:`~kubeward.errors.WebhookCallError`, worded as Go's HTTP client
    words it (``Post "<url>": <why>``); aiohttp's and ssl's exceptions never leave this module.
"""

from __future__ import annotations

import errno
import os
import ssl
from typing import Any

import aiohttp
import orjson

from kubeward.api.customresources.conversion import WebhookEndpoint
from kubeward.client.api import APIClient
from kubeward.errors import ServiceUnavailable, WebhookCallError


class WebhookClient:
    """A ``ReviewTransport`` for the authorization and token-authentication webhooks."""

    def __init__(self, kubeconfig: str | os.PathLike[str], *, user_agent: str) -> None:
        self._client = APIClient.from_kubeconfig(kubeconfig, user_agent=user_agent)
        self.server = self._client.server

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        return await self._client.request("POST", "", body=review, timeout=timeout)

    async def close(self) -> None:
        await self._client.close()


_MAX_ANSWER_BYTES = 3 * 1024 * 1024  # as kube-apiserver's webhook client reads at most


# Connection failures, as Go's net package words them.
_DIAL_REASONS = {
    errno.ECONNREFUSED: "connect: connection refused",
    errno.EHOSTUNREACH: "connect: no route to host",
    errno.ENETUNREACH: "connect: network is unreachable",
}
# OpenSSL's verification codes, as Go's crypto/x509 words the same failures.
_X509_REASONS = {
    2: "x509: certificate signed by unknown authority",
    10: "x509: certificate has expired or is not yet valid",
    18: "x509: certificate signed by unknown authority",
    19: "x509: certificate signed by unknown authority",
    20: "x509: certificate signed by unknown authority",
    21: "x509: certificate signed by unknown authority",
    62: "x509: certificate is not valid for this host",
}


def _x509_reason(error: Exception) -> str:
    code = getattr(error, "verify_code", None)
    if isinstance(code, int) and code in _X509_REASONS:
        return _X509_REASONS[code]
    return str(getattr(error, "verify_message", "") or error)


def _ssl_context(endpoint: WebhookEndpoint) -> ssl.SSLContext:
    try:
        if endpoint.ca_bundle:
            context = ssl.create_default_context(cadata=endpoint.ca_bundle.decode("ascii"))
        else:
            context = ssl.create_default_context()
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
        raise WebhookCallError(f"unable to load root certificates: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def post_json(endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes:
    """Rules 1 to 3: the answer's body.

    Raises:
        WebhookCallError: no connection, a TLS failure, a timeout or an HTTP error status.
    """
    if not endpoint.url.startswith("https://"):
        raise WebhookCallError(f'Post "{endpoint.url}": only https is allowed')
    context = _ssl_context(endpoint)
    where = f'Post "{endpoint.url}"'
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(
                endpoint.url,
                data=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                ssl=context,
                server_hostname=endpoint.server_name or None,
            ) as response,
        ):
            answer = await response.content.read(_MAX_ANSWER_BYTES)
            if response.status >= 300:
                raise WebhookCallError(
                    f"the server responded with the status code {response.status} but did "
                    "not return more information"
                )
            return answer
    except TimeoutError as exc:
        raise WebhookCallError(
            f"{where}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        ) from exc
    except aiohttp.ClientConnectorCertificateError as exc:
        raise WebhookCallError(
            f"{where}: tls: failed to verify certificate: {_x509_reason(exc.certificate_error)}"
        ) from exc
    except aiohttp.ClientConnectorError as exc:
        reason = _DIAL_REASONS.get(exc.os_error.errno or 0, exc.strerror)
        raise WebhookCallError(f"{where}: dial tcp {exc.host}:{exc.port}: {reason}") from exc
    except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
        raise WebhookCallError(f"{where}: {exc}") from exc


class URLWebhookClient:
    """A ``ReviewTransport`` for an admission webhook: its ``url``, trusting its ``caBundle``.

    It posts with :func:`post_json` (rules 1-3); a failure is ``ServiceUnavailable`` with Go's
    wording, and an answer that is not a JSON object is one too. The API server presents no
    client certificate (kube-apiserver does so only when ``--admission-control-config-file``
    names one, which kubeward does not read yet).
    """

    def __init__(self, url: str, ca_pem: str) -> None:
        self.server = url
        self._endpoint = WebhookEndpoint(url, ca_pem.encode("ascii", errors="replace"))

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            raw = await post_json(self._endpoint, orjson.dumps(review), timeout)
        except WebhookCallError as exc:
            raise ServiceUnavailable(str(exc)) from exc
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ServiceUnavailable(f'Post "{self.server}": the answer is not JSON') from exc
        if not isinstance(answer, dict):
            raise ServiceUnavailable(f'Post "{self.server}": the answer is not a JSON object')
        return answer

    async def close(self) -> None:
        """Nothing is kept open: each call has its own session, as ``post_json`` makes it."""
