"""The ``Webhook`` authorization mode: ask a remote service with a SubjectAccessReview.

Rules (``k8s.io/apiserver/plugin/pkg/authorizer/webhook``, kube-apiserver's flags):
 1. The remote is named by a kubeconfig (``--authorization-webhook-config-file``): its
    cluster's ``server`` is the URL, its ``certificate-authority`` is trusted, its user's
    client certificate (mTLS) or token is presented. The transport is injected
    (:class:`ReviewTransport`), so this module holds no HTTP code.
 2. Answers are cached by the review's spec: an allow for ``authorized_ttl`` (5 m), anything
    else for ``unauthorized_ttl`` (30 s). A failed call is not cached.
 3. A call that fails with a connection error, a 429 or a 5xx is retried with exponential
    backoff (upstream's 500 ms × 1.5, jitter 0.2, 5 attempts); each attempt is bounded by
    ``timeout``.
 4. A webhook that cannot be asked has no opinion, with the failure as the result's ``error``
    (so the next mode decides; if none allows, the request is a 500, as upstream).
 5. The plain ``authorize`` (for callers that cannot await) answers from the cache only.
 6. It resolves no rules: SelfSubjectRulesReview is marked incomplete, as upstream.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision, RulesResult
from kubeward.authz.webhook.review import decision_of, review_request, review_spec
from kubeward.errors import InputError, KubewardError, ServiceUnavailable, StatusError
from kubeward.expiring import ExpiringCache

log = logging.getLogger(__name__)

MODE_WEBHOOK = "Webhook"
RULES_UNSUPPORTED = "webhook authorizer does not support user rule resolution"


class ReviewTransport(Protocol):
    """Posts one review to the webhook and returns its decoded answer (rule 1).

    Raises ``ServiceUnavailable`` when the webhook cannot be reached, or the ``StatusError``
    of its error answer.
    """

    server: str

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Backoff:
    """Rule 3's retry schedule."""

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


@dataclass(frozen=True)
class WebhookSettings:
    version: str = "v1beta1"  # kube-apiserver's --authorization-webhook-version default
    authorized_ttl: float = 300.0
    unauthorized_ttl: float = 30.0
    timeout: float = 30.0
    backoff: Backoff = Backoff()


def _retryable(exc: KubewardError) -> bool:
    if isinstance(exc, ServiceUnavailable):
        return True
    return isinstance(exc, StatusError) and (exc.code == 429 or exc.code >= 500)


class WebhookAuthorizer:
    """Rules 1-6."""

    def __init__(
        self, transport: ReviewTransport, settings: WebhookSettings, *, name: str = MODE_WEBHOOK
    ) -> None:
        self.name = name
        self.transport = transport
        self.settings = settings
        self._cache: ExpiringCache[bytes, AuthzResult] = ExpiringCache()

    def _key(self, attributes: Attributes) -> tuple[dict[str, Any], bytes]:
        spec = review_spec(attributes, self.settings.version)
        return spec, orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)

    def authorize(self, attributes: Attributes) -> AuthzResult:
        """Rule 5."""
        _, key = self._key(attributes)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        return AuthzResult(Decision.NO_OPINION, authorizer=self.name)

    async def authorize_async(self, attributes: Attributes) -> AuthzResult:
        spec, key = self._key(attributes)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            answer = await self._post(review_request(spec, self.settings.version))
            result = decision_of(answer, self.settings.version, self.name)
        except KubewardError as exc:
            message = f"{self.transport.server}: {exc}"
            log.error("Failed to make webhook authorizer request: %s", message)
            return AuthzResult(Decision.NO_OPINION, "", (), self.name, error=message)
        evaluation_error = (answer.get("status") or {}).get("evaluationError")
        if evaluation_error:
            log.warning("%s: evaluation error: %s", self.transport.server, evaluation_error)
        ttl = (
            self.settings.authorized_ttl
            if result.decision is Decision.ALLOW
            else self.settings.unauthorized_ttl
        )
        self._cache.put(key, result, ttl)
        return result

    async def _post(self, review: dict[str, Any]) -> dict[str, Any]:
        """Rule 3."""
        delays = self.settings.backoff.delays()
        while True:
            try:
                return await self.transport.post_review(review, self.settings.timeout)
            except (StatusError, InputError) as exc:
                if not delays or not _retryable(exc):
                    raise
                await asyncio.sleep(delays.pop(0))

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        """Rule 6."""
        return RulesResult(incomplete=True, evaluation_error=RULES_UNSUPPORTED)
