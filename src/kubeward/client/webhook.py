"""The HTTPS side of kube-apiserver's webhooks: one review posted to the URL a kubeconfig names.

A webhook configuration file is a kubeconfig: the cluster's ``server`` is the webhook's full
URL (path included), its ``certificate-authority`` the CA the webhook's serving certificate
must chain to, and the user's client certificate (or token) what the API server presents.
The answer is decoded JSON; failures are the errors ``client.api`` maps them to
(``ServiceUnavailable`` when unreachable, the answer's ``StatusError`` otherwise).
"""

from __future__ import annotations

import os
from typing import Any

from kubeward.client.api import APIClient


class WebhookClient:
    """A ``ReviewTransport`` for the authorization and token-authentication webhooks."""

    def __init__(self, kubeconfig: str | os.PathLike[str], *, user_agent: str) -> None:
        self._client = APIClient.from_kubeconfig(kubeconfig, user_agent=user_agent)
        self.server = self._client.server

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        return await self._client.request("POST", "", body=review, timeout=timeout)

    async def close(self) -> None:
        await self._client.close()
