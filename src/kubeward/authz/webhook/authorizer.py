"""The ``Webhook`` authorization mode: ask a remote service with a SubjectAccessReview.

Rules (``k8s.io/apiserver/plugin/pkg/authorizer/webhook``, kube-apiserver's flags):
 1. The remote is named by a kubeconfig (``--authorization-webhook-config-file``): its
    cluster's ``server`` is the URL, its ``certificate-authority`` is trusted, its user's
    client certificate (mTLS) or token is presented. The transport is injected
    (``webhook_calls.ReviewTransport``), so this module holds no HTTP code.
 2. Answers are cached by the review's spec: an allow for ``authorized_ttl`` (5 m), anything
    else for ``unauthorized_ttl`` (30 s). A failed call is not cached.
 3. A call that fails with a connection error, a 429 or a 5xx is retried with upstream's
    backoff (``webhook_calls``); each attempt is bounded by ``timeout``.
 4. A webhook that cannot be asked has no opinion, with the failure as the result's ``error``
    (so the next mode decides; if none allows, the request is a 500, as upstream).
 5. The plain ``authorize`` (for callers that cannot await) answers from the cache only.
 6. It resolves no rules: SelfSubjectRulesReview is marked incomplete, as upstream.
 7. Configured by ``--authorization-config`` (``authz.structured``), a webhook has a name, a
    ``failurePolicy`` and ``matchConditions`` (``conditions``). The conditions are evaluated
    first, before the cache: one that is false skips the webhook (no opinion, no call). A
    failed call, or a condition that cannot be evaluated, answers the failure policy:
    ``NoOpinion`` (rule 4) or ``Deny`` — a denial that ends the chain, with the failure as its
    ``error`` (so the request is a 500 and a SubjectAccessReview reports ``denied`` with the
    ``evaluationError``, as upstream). A TTL of 0 caches nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision, RulesResult
from kubeward.authz.webhook.conditions import MatchConditions
from kubeward.authz.webhook.review import decision_of, review_request, review_spec
from kubeward.errors import KubewardError
from kubeward.expiring import ExpiringCache
from kubeward.webhook_calls import Backoff, ReviewTransport, post_review

log = logging.getLogger(__name__)

MODE_WEBHOOK = "Webhook"
RULES_UNSUPPORTED = "webhook authorizer does not support user rule resolution"
FAILURE_POLICY_NO_OPINION = "NoOpinion"
FAILURE_POLICY_DENY = "Deny"


@dataclass(frozen=True)
class WebhookSettings:
    version: str = "v1beta1"  # kube-apiserver's --authorization-webhook-version default
    authorized_ttl: float = 300.0
    unauthorized_ttl: float = 30.0
    timeout: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    failure_policy: str = FAILURE_POLICY_NO_OPINION  # rule 7


class WebhookAuthorizer:
    """Rules 1-7."""

    def __init__(
        self,
        transport: ReviewTransport,
        settings: WebhookSettings,
        *,
        name: str = MODE_WEBHOOK,
        conditions: MatchConditions | None = None,
    ) -> None:
        self.name = name
        self.transport = transport
        self.settings = settings
        self.conditions = conditions
        self._cache: ExpiringCache[bytes, AuthzResult] = ExpiringCache()

    def _skipped(self, attributes: Attributes) -> AuthzResult | None:
        """Rule 7: the answer when the conditions keep the webhook out of this request."""
        if not self.conditions:
            return None
        matched, error = self.conditions.evaluate(review_spec(attributes, "v1"))
        if error:
            log.error("%s: match conditions: %s", self.name, error)
            return self._failed(error)
        if not matched:
            return AuthzResult(Decision.NO_OPINION, authorizer=self.name)
        return None

    def _failed(self, message: str) -> AuthzResult:
        """Rules 4 and 7: the failure policy's answer."""
        decision = (
            Decision.DENY
            if self.settings.failure_policy == FAILURE_POLICY_DENY
            else Decision.NO_OPINION
        )
        # No reason and no trail: the failure is the error (a SubjectAccessReview's
        # evaluationError, a 500's message), as upstream reports it.
        return AuthzResult(decision, "", (), self.name, error=message)

    def _remember(self, key: bytes, result: AuthzResult) -> None:
        ttl = (
            self.settings.authorized_ttl
            if result.decision is Decision.ALLOW
            else self.settings.unauthorized_ttl
        )
        if ttl > 0:
            self._cache.put(key, result, ttl)

    def _key(self, attributes: Attributes) -> tuple[dict[str, Any], bytes]:
        spec = review_spec(attributes, self.settings.version)
        return spec, orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)

    def authorize(self, attributes: Attributes) -> AuthzResult:
        """Rule 5."""
        skipped = self._skipped(attributes)
        if skipped is not None:
            return skipped
        _, key = self._key(attributes)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        return AuthzResult(Decision.NO_OPINION, authorizer=self.name)

    async def authorize_async(self, attributes: Attributes) -> AuthzResult:
        skipped = self._skipped(attributes)
        if skipped is not None:
            return skipped
        spec, key = self._key(attributes)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            answer = await post_review(
                self.transport,
                review_request(spec, self.settings.version),
                self.settings.timeout,
                self.settings.backoff,
            )
            result = decision_of(answer, self.settings.version, self.name)
        except KubewardError as exc:
            message = f"{self.transport.server}: {exc}"
            log.error("Failed to make webhook authorizer request: %s", message)
            return self._failed(message)
        evaluation_error = (answer.get("status") or {}).get("evaluationError")
        if evaluation_error:
            log.warning("%s: evaluation error: %s", self.transport.server, evaluation_error)
        self._remember(key, result)
        return result

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        """Rule 6."""
        return RulesResult(incomplete=True, evaluation_error=RULES_UNSUPPORTED)
