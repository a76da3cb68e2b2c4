"""Calling kube-apiserver's webhooks: the transport seam and the retry schedule.

The authorization webhook (SubjectAccessReview) and the token-authentication webhook
(TokenReview) post one review and read one answer. Rules:
 1. The HTTPS client is injected as a :class:`ReviewTransport` (the server's wiring makes one
    from the webhook's kubeconfig with ``client.webhook``), so the layers that decide hold no
    HTTP code and are tested with a fake.
 2. A call that fails with a connection error, a 429 or a 5xx is retried with exponential
    backoff — upstream's ``DefaultAuthWebhookRetryBackoff``: 500 ms, × 1.5, jitter 0.2,
    5 attempts; each attempt is bounded by the caller's timeout. Any other failure is final.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Protocol

from kubeward.errors import ServiceUnavailable, StatusError


class ReviewTransport(Protocol):
    """Posts one review to the webhook and returns its decoded answer (rule 1).

    Raises ``ServiceUnavailable`` when the webhook cannot be reached, or the ``StatusError``
    of its error answer.
    """

    server: str

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Backoff:
    """Rule 2's retry schedule."""

    initial: float = 0.5
    factor: float = 1.5
    jitter: float = 0.2
    attempts: int = 5

    def delays(self) -> list[float]:
        delay, out = self.initial, []
        for _ in range(self.attempts - 1):
            out.append(delay * (1 + random.uniform(0, self.jitter)))
            delay *= self.factor
        return out


def retryable(exc: StatusError) -> bool:
    """Rule 2: unreachable, 429 and 5xx."""
    return isinstance(exc, ServiceUnavailable) or exc.code == 429 or exc.code >= 500


async def post_review(
    transport: ReviewTransport, review: dict[str, Any], timeout: float, backoff: Backoff
) -> dict[str, Any]:
    """One review, retried as rule 2 says; the last failure is raised."""
    delays = backoff.delays()
    while True:
        try:
            return await transport.post_review(review, timeout)
        except StatusError as exc:
            if not delays or not retryable(exc):
                raise
            await asyncio.sleep(delays.pop(0))
