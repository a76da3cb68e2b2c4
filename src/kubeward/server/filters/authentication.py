"""Authentication: who is asking, from the client certificate and the request headers.

Rules:
 1. The chain of certificates the client sent (not judged by TLS: the x509 authenticator
    verifies it, ``server.tls`` rule 2) and the headers go to the authenticator union
    (``authn.union``); its answer sets ``state.requester`` and ``state.user`` (impersonation
    may replace the latter).
 2. Credentials that are presented but invalid are a 401 ``Unauthorized`` whose message says
    nothing more; the reason is logged in one line with the peer's address, as
    kube-apiserver's "Unable to authenticate the request", without header values.
 3. Warnings the authenticators attach (legacy basic auth, a token about to expire) become
    ``Warning`` headers on the response.
 4. Client certificates are parsed once per distinct certificate: keep-alive clients present
    the same one on every request.
"""

from __future__ import annotations

import logging
import ssl
from typing import Protocol

from aiohttp import web
from cryptography import x509

from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import AuthenticationError, Unauthorized
from kubeward.server.filters.interfaces import Handler, RequestState
from kubeward.server.tls import peer_certificate_chain

log = logging.getLogger("kubeward.apiserver")

_CERTIFICATE_CACHE_SIZE = 4096


class RequestAuthenticator(Protocol):
    """The union of authenticators: an answer for every request, anonymous included."""

    async def authenticate_async(self, request: AuthRequest) -> AuthResponse: ...


class Authentication:
    def __init__(self, authenticator: RequestAuthenticator) -> None:
        self.authenticator = authenticator
        self._certificates: dict[bytes, x509.Certificate] = {}

    def peer_certificate(self, der: bytes) -> x509.Certificate:
        """Rule 4."""
        cert = self._certificates.get(der)
        if cert is None:
            if len(self._certificates) >= _CERTIFICATE_CACHE_SIZE:
                self._certificates.clear()
            cert = self._certificates[der] = x509.load_der_x509_certificate(der)
        return cert

    def _peer(self, request: web.Request) -> tuple[x509.Certificate, ...]:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if isinstance(ssl_object, ssl.SSLObject):
            return tuple(self.peer_certificate(der) for der in peer_certificate_chain(ssl_object))
        return ()

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        request = state.request
        auth_request = AuthRequest(
            headers=request.headers, peer_certificates=self._peer(request), path=request.path
        )
        try:
            answer = await self.authenticator.authenticate_async(auth_request)
        except AuthenticationError as exc:
            transport = request.transport
            peername = transport.get_extra_info("peername") if transport is not None else None
            where = f"{peername[0]}:{peername[1]}" if peername else request.remote
            log.warning("401 %s %s from %s: %s", request.method, request.path, where, exc)
            raise Unauthorized("Unauthorized") from exc
        state.requester = state.user = answer.user
        state.warnings.extend(answer.warnings)
        return await next(state)
