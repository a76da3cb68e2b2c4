"""Webhook token authentication: ask a remote service who a bearer token belongs to.

This is how kube-apiserver reaches identity services it does not speak itself — the course's
"third-party id services like LDAP" — through a bridge answering TokenReview
(``--authentication-token-webhook-config-file``). Rules
(``k8s.io/apiserver/plugin/pkg/authenticator/token/webhook``):

 1. The remote is named by a kubeconfig; the HTTPS client is injected
    (``webhook_calls.ReviewTransport``) and retried with upstream's backoff.
 2. The request is a TokenReview of ``authentication.k8s.io/v1`` or ``v1beta1``
    (``--authentication-token-webhook-version``, v1beta1 by default) with the token and the
    audiences asked for.
 3. ``status.authenticated`` true: the user is ``status.user`` (username, uid, groups, extra).
    False with ``status.error``: the token is refused with that error (401); false without one:
    the token is not the webhook's (the next authenticator, if any, is asked).
 4. Audiences: the answer's audiences (or, when it names none, the API server's) must meet the
    ones asked for, else the token is not accepted.
 5. Answers — acceptances and refusals alike — are cached for ``cache_ttl``
    (``--authentication-token-webhook-cache-ttl``, 2 m) by a SHA-256 of the token and the
    audiences; the token itself is never kept. A failed call is not cached: it refuses the
    token (401) and is logged.
 6. The plain ``authenticate_token`` answers from the cache only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import AuthenticationError, KubewardError
from kubeward.expiring import ExpiringCache
from kubeward.webhook_calls import Backoff, ReviewTransport, post_review

log = logging.getLogger(__name__)

GROUP = "authentication.k8s.io"
KIND = "TokenReview"
VERSIONS = ("v1", "v1beta1")


@dataclass(frozen=True)
class TokenWebhookSettings:
    version: str = "v1beta1"
    cache_ttl: float = 120.0
    timeout: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)


@dataclass(frozen=True)
class _Answer:
    """A cached answer: a response, or the refusal's error ("" for not the webhook's)."""

    response: AuthResponse | None
    error: str = ""


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def user_of(status: dict[str, Any]) -> UserInfo:
    user = _mapping(status.get("user"))
    extra = _mapping(user.get("extra"))
    return UserInfo(
        name=str(user.get("username") or ""),
        uid=str(user.get("uid") or ""),
        groups=_strings(user.get("groups")),
        extra={str(k): _strings(v) for k, v in extra.items()},
    )


class WebhookTokenAuthenticator:
    """Rules 1-6."""

    name = "webhook"

    def __init__(
        self,
        transport: ReviewTransport,
        settings: TokenWebhookSettings,
        api_audiences: tuple[str, ...] = (),
    ) -> None:
        self.transport = transport
        self.settings = settings
        self.api_audiences = api_audiences
        self._cache: ExpiringCache[bytes, _Answer] = ExpiringCache()

    def _key(self, token: str, audiences: tuple[str, ...]) -> bytes:
        digest = hashlib.sha256(token.encode())
        for audience in audiences:
            digest.update(b"\0" + audience.encode())
        return digest.digest()

    @staticmethod
    def _give(answer: _Answer) -> AuthResponse | None:
        if answer.error:
            raise AuthenticationError(answer.error)
        return answer.response

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        """Rule 6."""
        cached = self._cache.get(self._key(token, audiences))
        return None if cached is None else self._give(cached)

    async def authenticate_token_async(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        key = self._key(token, audiences)
        cached = self._cache.get(key)
        if cached is not None:
            return self._give(cached)
        review: dict[str, Any] = {
            "apiVersion": f"{GROUP}/{self.settings.version}",
            "kind": KIND,
            "spec": {"token": token, **({"audiences": list(audiences)} if audiences else {})},
        }
        try:
            answer = await post_review(
                self.transport, review, self.settings.timeout, self.settings.backoff
            )
        except KubewardError as exc:
            log.error(
                "Failed to make webhook authenticator request: %s: %s", self.transport.server, exc
            )
            raise AuthenticationError(f"webhook authentication failed: {exc}") from exc
        decided = self._decide(answer, audiences)
        self._cache.put(key, decided, self.settings.cache_ttl)
        return self._give(decided)

    def _decide(self, answer: dict[str, Any], audiences: tuple[str, ...]) -> _Answer:
        """Rules 3 and 4."""
        if (
            answer.get("apiVersion") != f"{GROUP}/{self.settings.version}"
            or answer.get("kind") != KIND
        ):
            return _Answer(
                None, f"the token webhook answered with {answer.get('kind')!s}, not a {KIND}"
            )
        status = _mapping(answer.get("status"))
        if status.get("authenticated") is not True:
            return _Answer(None, str(status.get("error") or ""))
        granted = audiences
        if audiences:
            answered = _strings(status.get("audiences")) or self.api_audiences
            granted = tuple(a for a in audiences if a in answered)
            if not granted:
                return _Answer(None)
        user = user_of(status)
        if not user.name:
            return _Answer(None, "the token webhook authenticated a user without a username")
        return _Answer(AuthResponse(user, self.name, audiences=granted))

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)
