"""An issuer's signing keys: OpenID discovery, then its JWKS, refreshed when a token needs it.

Rules (go-oidc's provider and remote key set, as kube-apiserver uses them):
 1. Discovery is ``GET {discoveryURL or issuer URL}/.well-known/openid-configuration`` (the
    discovery URL is used as given); the document's ``issuer`` must be the configured issuer
    URL, and its ``jwks_uri`` names the keys.
 2. The HTTPS client is injected (:class:`JSONFetcher`), trusting the configured PEM
    certificate authority (or the system's when none is given).
 3. Keys are fetched when first needed and again when a token names a key id not held (the
    issuer rotated its keys), as go-oidc does; requests that arrive while a fetch is in flight
    wait for it rather than fail or fetch again. Beyond go-oidc, one key id causes a fetch at
    most once every ``per_key_refresh`` seconds, so a token replayed with a made-up key id
    cannot hammer the issuer. (There is no limit across key ids: one would make a rotation
    just after a fetch for another id invisible until the limit passed.)
 4. Only asymmetric keys are kept (RSA, EC); a JWKS entry that cannot be read is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import jwt
from jwt import PyJWK

from kubeward.authn.oidc.config import JWTAuthenticatorConfig
from kubeward.errors import ServiceUnavailable, StatusError

log = logging.getLogger("kubeward.apiserver")

DISCOVERY_PATH = "/.well-known/openid-configuration"


class JSONFetcher(Protocol):
    """``GET url`` over HTTPS trusting ``ca_pem`` (the system's trust when empty) → JSON."""

    async def get_json(self, url: str, ca_pem: str) -> dict[str, Any]: ...


class IssuerKeys:
    def __init__(
        self,
        config: JWTAuthenticatorConfig,
        fetcher: JSONFetcher,
        *,
        per_key_refresh: float = 10.0,
    ) -> None:
        self.config = config
        self.fetcher = fetcher
        self.per_key_refresh = per_key_refresh
        self._keys: dict[str, PyJWK] = {}
        self._unnamed: list[PyJWK] = []
        self._fetched_at: float | None = None
        self._asked_for: dict[str, float] = {}
        self._in_flight: asyncio.Future[None] | None = None

    @property
    def loaded(self) -> bool:
        return self._fetched_at is not None

    def key(self, kid: str | None) -> PyJWK | None:
        if kid:
            return self._keys.get(kid)
        return self._unnamed[0] if len(self._unnamed) == 1 else None

    def may_refresh(self, kid: str | None) -> bool:
        """Rule 3: may a token naming ``kid`` (not held) cause a fetch now?"""
        now = time.monotonic()
        last = self._asked_for.get(kid or "")
        if last is not None and now - last < self.per_key_refresh:
            return False
        if len(self._asked_for) > 1024:
            self._asked_for.clear()
        self._asked_for[kid or ""] = now
        return True

    async def ensure(self, kid: str | None) -> None:
        """Rule 3: fetch the keys if ``kid`` is not held and a fetch is due, or wait for the one
        in flight (ServiceUnavailable when the issuer cannot be read)."""
        if self.key(kid) is not None:
            return
        if self._in_flight is None:
            if not self.may_refresh(kid):
                return
            self._in_flight = asyncio.ensure_future(self.refresh())
            self._in_flight.add_done_callback(self._done)
        await asyncio.shield(self._in_flight)

    def _done(self, future: asyncio.Future[None]) -> None:
        self._in_flight = None
        if not future.cancelled():
            future.exception()  # retrieved: the waiters raise it

    async def refresh(self) -> None:
        """Rules 1, 3 and 4 (ServiceUnavailable when the issuer cannot be read)."""
        self._fetched_at = time.monotonic()
        url = self.config.discovery_url or self.config.issuer_url.rstrip("/") + DISCOVERY_PATH
        ca = self.config.certificate_authority
        try:
            discovery = await self.fetcher.get_json(url, ca)
            if discovery.get("issuer") != self.config.issuer_url:
                raise ServiceUnavailable(
                    f"oidc: issuer did not match the issuer returned by provider, expected"
                    f' "{self.config.issuer_url}" got "{discovery.get("issuer")}"'
                )
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ServiceUnavailable(f"{url}: no jwks_uri in the discovery document")
            document = await self.fetcher.get_json(jwks_uri, ca)
        except ServiceUnavailable:
            raise
        except StatusError as exc:
            raise ServiceUnavailable(f"{url}: {exc}") from exc
        keys: dict[str, PyJWK] = {}
        unnamed: list[PyJWK] = []
        for entry in document.get("keys") or []:
            if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC"):
                continue
            try:
                key = PyJWK.from_dict(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                log.warning("%s: skipping a JWKS key that cannot be read", jwks_uri)
                continue
            if entry.get("kid"):
                keys[str(entry["kid"])] = key
            else:
                unnamed.append(key)
        self._keys, self._unnamed = keys, unnamed
        log.info("%s: %d signing keys", self.config.issuer_url, len(keys) + len(unnamed))
