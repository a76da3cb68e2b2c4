"""The service-account token authenticator: bound (TokenRequest) and legacy (Secret) JWTs.

A token is "mine" when it is a JWT whose issuer is one of ``--service-account-issuer`` (or the
legacy ``kubernetes/serviceaccount``), or whose key id is one of the configured keys; anything
else is left to the other authenticators. A token that is mine is checked, in order, and the
first failure is an :class:`AuthenticationError` whose message names the check (the server logs
it with the 401):

 1. algorithm: in the allow-list (RS256, ES256/384/512) — ``none`` and HMAC are refused before
    any key is touched;
 2. key: the ``kid`` names a configured verification key (a token without ``kid`` is tried
    against every key of its algorithm), so removing a key from ``--service-account-key-file``
    revokes what it signed;
 3. signature (a tampered payload fails here);
 4. issuer: one of ``--service-account-issuer`` (bound tokens) or the legacy issuer;
 5. audience: bound tokens must share an audience with the request's (the API audiences when
    the request names none); legacy tokens carry none and are only valid for the API audiences;
 6. time: ``exp`` and ``nbf`` with a skew of 60 s (go-jose's default leeway); legacy tokens have
    neither;
 7. the service account still exists with the uid in the token (a recreated account with the
    same name does not inherit old tokens);
 8. a bound pod, secret or node still exists with the uid in the token (deleting the pod
    revokes its tokens), and a legacy token's Secret still exists and still holds this token.
    An object marked for deletion (graceful pod deletion) counts as gone once its
    ``deletionTimestamp`` is more than 60 s old, as upstream's validator does.

Rules 1–3 are cached by the token's SHA-256 until the token expires (legacy: for an hour); 4–8
run on every request — 7 and 8 read an :class:`ObjectLookup` that the server keeps current from
storage, so they cost a dictionary lookup each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from jwt.algorithms import get_default_algorithms

from kubeward.api.meta import parse_time
from kubeward.api.user import (
    SERVICE_ACCOUNT_GROUP_PREFIX,
    SERVICE_ACCOUNTS_GROUP,
    UserInfo,
    service_account_username,
)
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.authn.serviceaccount_keys import ALLOWED_ALGORITHMS, KeySet, PublicKeyEntry
from kubeward.authn.serviceaccount_tokens import (
    LEGACY_ISSUER,
    LEGACY_NAMESPACE_CLAIM,
    LEGACY_SA_NAME_CLAIM,
    LEGACY_SA_UID_CLAIM,
    LEGACY_SECRET_NAME_CLAIM,
    PRIVATE_CLAIM,
)
from kubeward.errors import AuthenticationError

LEEWAY_SECONDS = 60
DELETION_GRACE_SECONDS = 60
_LEGACY_CACHE_SECONDS = 3600
_CACHE_LIMIT = 10_000
SECRET_TOKEN_TYPE = "kubernetes.io/service-account-token"

# Extra keys of the user, as upstream's serviceaccount.UserInfo sets them.
EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_NODE_NAME = "authentication.kubernetes.io/node-name"
EXTRA_NODE_UID = "authentication.kubernetes.io/node-uid"
EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


class ObjectLookup(Protocol):
    """Current objects by resource, namespace and name (rules 7 and 8); None when absent."""

    def get(self, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class _Verified:
    claims: Mapping[str, Any]
    cache_until: float


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# PyJWT's algorithm objects, used directly on the signing input (rule 3).
_ALGORITHMS = {name: get_default_algorithms()[name] for name in ALLOWED_ALGORITHMS}


@dataclass(frozen=True)
class _ParsedToken:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes | None  # None: the segment is not base64url


def _b64url(segment: str) -> bytes:
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _parse(token: str) -> _ParsedToken | None:
    """A compact JWS split and decoded, or None when it is not one (then it is not mine)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    try:
        signature: bytes | None = _b64url(parts[2])
    except ValueError:
        signature = None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    return _ParsedToken(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


class ServiceAccountAuthenticator:
    """Bearer tokens signed with the service-account keys (see the module rules)."""

    name = "serviceaccount"

    def __init__(
        self,
        *,
        issuers: Iterable[str],
        keys: KeySet,
        api_audiences: Iterable[str],
        lookup: ObjectLookup,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = tuple(issuers)
        self.api_audiences = tuple(api_audiences) or self.issuers[:1]
        self.keys = keys
        self._lookup = lookup
        self._clock = clock
        self._cache: dict[bytes, _Verified] = {}

    # --- the seams ------------------------------------------------------------------------
    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        digest = hashlib.sha256(token.encode("utf-8")).digest()
        cached = self._cache.get(digest)
        if cached is not None and cached.cache_until > self._clock():
            claims = cached.claims
        else:
            parsed = _parse(token)
            if parsed is None or not self._is_mine(parsed.header, parsed.payload):
                return None
            claims = self._verified_claims(digest, parsed)
        legacy = claims.get("iss") == LEGACY_ISSUER
        if legacy:
            return self._legacy(token, claims, audiences)
        return self._bound(claims, audiences)

    def _is_mine(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
        issuer = payload.get("iss")
        if issuer in self.issuers or issuer == LEGACY_ISSUER:
            return True
        kid = header.get("kid")
        return isinstance(kid, str) and self.keys.by_kid(kid) is not None

    # --- rules 1-3 (cached) ---------------------------------------------------------------
    def _verified_claims(self, digest: bytes, parsed: _ParsedToken) -> Mapping[str, Any]:
        now = self._clock()
        claims = self._verify_signature(parsed)
        exp = claims.get("exp")
        until = (
            float(exp) + LEEWAY_SECONDS
            if isinstance(exp, int | float)
            else now + _LEGACY_CACHE_SECONDS
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._evict(now)
        self._cache[digest] = _Verified(claims, until)
        return claims

    def _evict(self, now: float) -> None:
        for key in [k for k, v in self._cache.items() if v.cache_until <= now]:
            del self._cache[key]
        while len(self._cache) >= _CACHE_LIMIT:
            del self._cache[next(iter(self._cache))]

    def forget_keys(self) -> None:
        """Drop cached verifications (call after the key set changes)."""
        self._cache.clear()

    def _verify_signature(self, parsed: _ParsedToken) -> Mapping[str, Any]:
        algorithm = parsed.header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise AuthenticationError(
                f"service-account token: algorithm {algorithm!r} is not allowed"
            )
        kid = parsed.header.get("kid")
        candidates: list[PublicKeyEntry]
        if isinstance(kid, str) and kid:
            entry = self.keys.by_kid(kid)
            if entry is None:
                raise AuthenticationError(f"service-account token: unknown key id {kid!r}")
            candidates = [entry]
        else:
            candidates = list(self.keys.entries())
        candidates = [e for e in candidates if e.algorithm == algorithm]
        if not candidates:
            raise AuthenticationError(f"service-account token: no configured key signs {algorithm}")
        if parsed.signature is None:
            raise AuthenticationError("service-account token: signature is not base64url")
        verifier = _ALGORITHMS[algorithm]
        for entry in candidates:
            if verifier.verify(parsed.signing_input, entry.key, parsed.signature):
                return parsed.payload
        raise AuthenticationError("service-account token: invalid signature")

    # --- rules 4-8 (every request) --------------------------------------------------------
    def _bound(self, claims: Mapping[str, Any], audiences: tuple[str, ...]) -> AuthResponse:
        issuer = claims.get("iss")
        if issuer not in self.issuers:
            raise AuthenticationError(f"service-account token: issuer {issuer!r} is not accepted")
        wanted = audiences or self.api_audiences
        token_audiences = claims.get("aud")
        if isinstance(token_audiences, str):
            token_audiences = [token_audiences]
        if not isinstance(token_audiences, list):
            token_audiences = []
        matched = tuple(a for a in wanted if a in token_audiences)
        if not matched:
            raise AuthenticationError(
                f"service-account token: audiences {token_audiences} do not include any of {list(wanted)}"
            )
        now = self._clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float):
            raise AuthenticationError("service-account token: bound token without exp")
        if now > exp + LEEWAY_SECONDS:
            raise AuthenticationError("service-account token: expired")
        if isinstance(nbf, int | float) and now + LEEWAY_SECONDS < nbf:
            raise AuthenticationError("service-account token: not valid yet (nbf in the future)")
        private = claims.get(PRIVATE_CLAIM)
        if not isinstance(private, dict):
            raise AuthenticationError(f"service-account token: no {PRIVATE_CLAIM} claim")
        namespace = str(private.get("namespace") or "")
        sa = private.get("serviceaccount") or {}
        sa_name, sa_uid = str(sa.get("name") or ""), str(sa.get("uid") or "")
        self._check_exists("serviceaccounts", namespace, sa_name, sa_uid, "service account")
        extra: dict[str, tuple[str, ...]] = {}
        pod = private.get("pod")
        if isinstance(pod, dict):
            self._check_exists(
                "pods", namespace, str(pod.get("name")), str(pod.get("uid")), "bound pod"
            )
            extra[EXTRA_POD_NAME] = (str(pod.get("name")),)
            extra[EXTRA_POD_UID] = (str(pod.get("uid")),)
        secret = private.get("secret")
        if isinstance(secret, dict):
            self._check_exists(
                "secrets",
                namespace,
                str(secret.get("name")),
                str(secret.get("uid")),
                "bound secret",
            )
        node = private.get("node")
        if isinstance(node, dict):
            if pod is None:  # a node-bound token: the node itself must still exist
                self._check_exists(
                    "nodes", "", str(node.get("name")), str(node.get("uid")), "bound node"
                )
            extra[EXTRA_NODE_NAME] = (str(node.get("name")),)
            if node.get("uid"):
                extra[EXTRA_NODE_UID] = (str(node.get("uid")),)
        jti = claims.get("jti")
        if isinstance(jti, str) and jti:
            extra[EXTRA_CREDENTIAL_ID] = (f"JTI={jti}",)
        return self._response(namespace, sa_name, sa_uid, matched, extra)

    def _legacy(
        self, token: str, claims: Mapping[str, Any], audiences: tuple[str, ...]
    ) -> AuthResponse:
        if audiences and not any(a in self.api_audiences for a in audiences):
            raise AuthenticationError(
                f"service-account token: legacy token is not valid for audiences {list(audiences)}"
            )
        namespace = str(claims.get(LEGACY_NAMESPACE_CLAIM) or "")
        sa_name = str(claims.get(LEGACY_SA_NAME_CLAIM) or "")
        sa_uid = str(claims.get(LEGACY_SA_UID_CLAIM) or "")
        secret_name = str(claims.get(LEGACY_SECRET_NAME_CLAIM) or "")
        if not (namespace and sa_name and secret_name):
            raise AuthenticationError("service-account token: legacy claims are incomplete")
        self._check_exists("serviceaccounts", namespace, sa_name, sa_uid, "service account")
        secret = self._lookup.get("secrets", namespace, secret_name)
        if secret is None or self._deleted_long_ago(secret):
            raise AuthenticationError(
                f"service-account token: legacy token Secret {namespace}/{secret_name} no longer exists"
            )
        stored = ((secret.get("data") or {}).get("token")) or ""
        try:
            stored_token = base64.b64decode(stored).decode("utf-8") if stored else ""
        except ValueError:
            stored_token = ""
        if stored_token != token:
            raise AuthenticationError(
                f"service-account token: legacy token does not match Secret {namespace}/{secret_name}"
            )
        return self._response(namespace, sa_name, sa_uid, audiences or self.api_audiences, {})

    def _check_exists(self, resource: str, namespace: str, name: str, uid: str, what: str) -> None:
        obj = self._lookup.get(resource, namespace, name)
        where = f"{namespace}/{name}" if namespace else name
        if obj is None:
            raise AuthenticationError(f"service-account token: {what} {where} no longer exists")
        meta = obj.get("metadata") or {}
        if self._deleted_long_ago(obj):
            raise AuthenticationError(f"service-account token: {what} {where} was deleted")
        if uid and meta.get("uid") != uid:
            raise AuthenticationError(
                f"service-account token: {what} {where} has uid {meta.get('uid')!r}, the token names {uid!r}"
            )

    def _deleted_long_ago(self, obj: Mapping[str, Any]) -> bool:
        """Rule 7/8: marked for deletion more than the grace period ago (a terminating pod
        keeps its token for a minute, as upstream, so it can shut down cleanly)."""
        stamp = (obj.get("metadata") or {}).get("deletionTimestamp")
        if not stamp:
            return False
        deleted = parse_time(str(stamp))
        return deleted is None or deleted.timestamp() < self._clock() - DELETION_GRACE_SECONDS

    def _response(
        self,
        namespace: str,
        name: str,
        uid: str,
        audiences: tuple[str, ...],
        extra: dict[str, tuple[str, ...]],
    ) -> AuthResponse:
        user = UserInfo(
            name=service_account_username(namespace, name),
            uid=uid,
            groups=(SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNT_GROUP_PREFIX}{namespace}"),
            extra=extra,
        )
        return AuthResponse(user, self.name, audiences=audiences)
