"""The authentication seam.

Rules:
 1. ``authenticate`` returns None when the request carries no credential of the authenticator's
    kind ("not mine"), an :class:`AuthResponse` when it does and the credential is good, and
    raises :class:`AuthenticationError` when it is its kind but invalid (401).
 2. Authenticators see an :class:`AuthRequest`, never the HTTP framework's request, so each can
    be tested without a server.
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
