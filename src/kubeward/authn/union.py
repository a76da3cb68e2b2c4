"""The union of authenticators that every request passes through.

Rules:
 1. Authenticators are asked in order; the first that recognises the credential decides.
 2. A request that presents a credential nobody accepts is 401 — it never falls through to
    anonymous (a typo in a token must not silently downgrade to system:anonymous).
 3. A request with no credential at all is ``system:anonymous`` in ``system:unauthenticated``
    when anonymous auth is on, and 401 otherwise.
 4. Every authenticated user is also in ``system:authenticated``.
 5. ``authenticate_async`` and ``verify_token_async`` await the token authenticators that ask
    another service (``interfaces`` rule 3); the plain forms take their cached answers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kubeward.api.user import ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, UserInfo
from kubeward.authn.interfaces import (
    Authenticator,
    AuthRequest,
    AuthResponse,
    TokenAuthenticator,
    verify_token_with,
)
from kubeward.errors import AuthenticationError


class UnionAuthenticator:
    name = "union"

    def __init__(
        self,
        authenticators: Sequence[Authenticator],
        token_authenticators: Sequence[TokenAuthenticator] = (),
        *,
        anonymous: bool = False,
    ) -> None:
        self._authenticators = list(authenticators)
        self._token_authenticators = list(token_authenticators)
        self.anonymous = anonymous

    def _request_authenticators(
        self, request: AuthRequest, errors: list[str]
    ) -> AuthResponse | None:
        for authenticator in self._authenticators:
            try:
                response = authenticator.authenticate(request)
            except AuthenticationError as exc:
                errors.append(str(exc))
                continue
            if response is not None:
                return _with_authenticated_group(response)
        return None

    def _no_one(self, request: AuthRequest, errors: list[str]) -> AuthResponse:
        """Rules 2 and 3, once no authenticator took the request."""
        if request.bearer_token() is not None and not errors:
            errors.append("invalid bearer token")
        has_credentials = bool(request.peer_certificates) or bool(
            request.headers.get("Authorization")
        )
        if errors or has_credentials:
            raise AuthenticationError("; ".join(errors) or "unrecognised credentials")
        if self.anonymous:
            return AuthResponse(
                UserInfo(name=ANONYMOUS, groups=(ALL_UNAUTHENTICATED,)), "anonymous"
            )
        raise AuthenticationError("no credentials and anonymous auth is disabled")

    def authenticate(self, request: AuthRequest) -> AuthResponse:
        """Identify the requester.

        Raises:
            AuthenticationError: bad credentials, or none with anonymous auth off.
        """
        errors: list[str] = []
        response = self._request_authenticators(request, errors)
        if response is not None:
            return response
        token = request.bearer_token()
        if token is not None:
            try:
                response = self.verify_token(token)
            except AuthenticationError as exc:
                errors.append(str(exc))
            if response is not None:
                return response
        return self._no_one(request, errors)

    async def authenticate_async(self, request: AuthRequest) -> AuthResponse:
        """:meth:`authenticate`, awaiting the token authenticators that ask a service."""
        errors: list[str] = []
        response = self._request_authenticators(request, errors)
        if response is not None:
            return response
        token = request.bearer_token()
        if token is not None:
            try:
                response = await self.verify_token_async(token)
            except AuthenticationError as exc:
                errors.append(str(exc))
            if response is not None:
                return response
        return self._no_one(request, errors)

    def verify_token(self, token: str, audiences: tuple[str, ...] = ()) -> AuthResponse | None:
        """Bearer-token authentication alone (requests and TokenReview).

        Returns None when no token authenticator knows the token; raises AuthenticationError
        when one recognises it and finds it invalid (expired, revoked, wrong audience, ...).
        """
        for authenticator in self._token_authenticators:
            response = authenticator.authenticate_token(token, audiences)
            if response is not None:
                return _with_authenticated_group(response)
        return None

    async def verify_token_async(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        """:meth:`verify_token`, awaiting the token authenticators that ask a service."""
        for authenticator in self._token_authenticators:
            response = await verify_token_with(authenticator, token, audiences)
            if response is not None:
                return _with_authenticated_group(response)
        return None


def _with_authenticated_group(response: AuthResponse) -> AuthResponse:
    groups = response.user.groups
    if ALL_AUTHENTICATED in groups:
        return response
    return replace(response, user=replace(response.user, groups=(*groups, ALL_AUTHENTICATED)))
