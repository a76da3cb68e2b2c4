"""The authentication seam.

Rules:
 1. ``authenticate`` returns None when the request carries no credential of the authenticator's
    kind ("not mine"), an :class:`AuthResponse` when it does and the credential is good, and
    raises :class:`AuthenticationError` when it is its kind but invalid (401).
 2. Authenticators see an :class:`AuthRequest`, never the HTTP framework's request, so each can
    be tested without a server.
 3. A token authenticator that asks another service (the token webhook) also has
    ``authenticate_token_async``; its plain ``authenticate_token`` answers from its cache only.
    The union awaits it on the request path and in TokenReview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509

from kubeward.api.user import UserInfo


@dataclass(frozen=True)
class AuthRequest:
    headers: Mapping[str, str]
    # The certificate chain the client sent (leaf first, then its intermediates), not verified
    # by TLS (the x509 authenticator does that); empty without one.
    peer_certificates: tuple[x509.Certificate, ...] = ()
    path: str = "/"

    def bearer_token(self) -> str | None:
        value = self.headers.get("Authorization") or self.headers.get("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        return token or None


@dataclass(frozen=True)
class AuthResponse:
    user: UserInfo
    authenticator: str
    audiences: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


class Authenticator(Protocol):
    name: str

    def authenticate(self, request: AuthRequest) -> AuthResponse | None: ...


class TokenAuthenticator(Protocol):
    """Authenticates a bearer token (also used by TokenReview)."""

    name: str

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None: ...


class RemoteTokenAuthenticator(TokenAuthenticator, Protocol):
    """A token authenticator that may have to ask another service (rule 3)."""

    async def authenticate_token_async(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None: ...


async def verify_token_with(
    authenticator: TokenAuthenticator, token: str, audiences: tuple[str, ...]
) -> AuthResponse | None:
    """``authenticator``'s answer, awaited when it asks another service (rule 3)."""
    ask = getattr(authenticator, "authenticate_token_async", None)
    if ask is not None:
        response: AuthResponse | None = await ask(token, audiences)
        return response
    return authenticator.authenticate_token(token, audiences)
