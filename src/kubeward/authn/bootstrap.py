"""The bootstrap token authenticator (``--enable-bootstrap-token-auth``), as kube-apiserver's.

A bootstrap token ``<id>.<secret>`` (``[a-z0-9]{6}.[a-z0-9]{16}``) is backed by a Secret of type
``bootstrap.kubernetes.io/token`` named ``bootstrap-token-<id>`` in ``kube-system``. A bearer
token of any other shape is not mine; one of this shape with no such Secret is not mine either
(another authenticator may know it), as upstream. Otherwise the Secret is checked, in order, and
the first failure is an :class:`AuthenticationError` whose message is the reason the server logs
with the 401 (upstream logs the same checks and answers 401):

 1. the Secret is not marked for deletion;
 2. its ``type`` is ``bootstrap.kubernetes.io/token`` and it has data;
 3. ``token-secret`` equals the token's secret, compared in constant time;
 4. ``token-id`` equals the token's id;
 5. ``expiration`` (RFC 3339), when present, is in the future — an unparseable one counts as
    expired;
 6. ``usage-bootstrap-authentication`` is ``true``;
 7. every group of ``auth-extra-groups`` (comma-separated) matches
    ``system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]``.

The user is ``system:bootstrap:<id>`` in ``system:bootstrappers`` and the extra groups. The
Secrets are read through a :class:`SecretLookup` the server keeps current from its informer.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kubeward.api.meta import parse_time
from kubeward.api.user import BOOTSTRAPPERS_GROUP, UserInfo
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import AuthenticationError

# k8s.io/cluster-bootstrap/token/api names.
SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"
USER_PREFIX = "system:bootstrap:"
TOKEN_ID_KEY = "token-id"
TOKEN_SECRET_KEY = "token-secret"
EXPIRATION_KEY = "expiration"
DESCRIPTION_KEY = "description"
EXTRA_GROUPS_KEY = "auth-extra-groups"
USAGE_PREFIX = "usage-bootstrap-"
USAGE_AUTHENTICATION = "usage-bootstrap-authentication"
USAGE_SIGNING = "usage-bootstrap-signing"
KNOWN_USAGES = ("authentication", "signing")

TOKEN_PATTERN = re.compile(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z")
GROUP_PATTERN = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")


class SecretLookup(Protocol):
    """Current Secrets of ``kube-system`` by name; None when absent."""

    def get(self, name: str) -> Mapping[str, Any] | None: ...


def parse_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed bootstrap token, else None."""
    found = TOKEN_PATTERN.match(token)
    return (found.group(1), found.group(2)) if found else None


def secret_data(secret: Mapping[str, Any], key: str) -> str:
    """A data value of the Secret, decoded (empty when absent or not base64 UTF-8)."""
    value = (secret.get("data") or {}).get(key)
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def expiration_problem(secret: Mapping[str, Any], now: float) -> str | None:
    """Rule 5: why the token has expired, or None when it has not."""
    text = secret_data(secret, EXPIRATION_KEY)
    if not text:
        return None
    stamp = parse_time(text)
    if stamp is None:
        return f"has an unparseable expiration time ({text}): treating it as expired"
    if stamp.timestamp() <= now:
        return f"expired at {stamp.astimezone(datetime.UTC).isoformat()}"
    return None


def extra_groups(secret: Mapping[str, Any]) -> tuple[str, ...]:
    """Rule 7: the groups of ``auth-extra-groups``.

    Raises:
        ValueError: a group does not match the bootstrap group pattern.
    """
    groups: list[str] = []
    for raw in secret_data(secret, EXTRA_GROUPS_KEY).split(","):
        group = raw.strip()
        if not group:
            continue
        if not GROUP_PATTERN.match(group):
            raise ValueError(
                f"bootstrap group {group!r} is invalid (must match {GROUP_PATTERN.pattern})"
            )
        if group not in groups:
            groups.append(group)
    return tuple(groups)


class BootstrapTokenAuthenticator:
    """Bearer tokens backed by bootstrap token Secrets (see the module rules)."""

    name = "bootstrap"

    def __init__(self, lookup: SecretLookup, clock: Callable[[], float] = time.time) -> None:
        self._lookup = lookup
        self._clock = clock

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        token = request.bearer_token()
        return None if token is None else self.authenticate_token(token)

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        parsed = parse_token(token)
        if parsed is None:
            return None
        token_id, token_secret = parsed
        name = SECRET_PREFIX + token_id
        secret = self._lookup.get(name)
        if secret is None:
            return None
        where = f"Bootstrap secret {SECRET_NAMESPACE}/{name} matching bearer token"

        def refuse(why: str) -> AuthenticationError:
            return AuthenticationError(f"{where} {why}")

        if (secret.get("metadata") or {}).get("deletionTimestamp"):
            raise refuse("is deleted and awaiting removal")
        if secret.get("type") != SECRET_TYPE or not secret.get("data"):
            raise refuse(f"has invalid type, expected {SECRET_TYPE}")
        stored = secret_data(secret, TOKEN_SECRET_KEY).encode("utf-8")
        if not hmac.compare_digest(stored, token_secret.encode("utf-8")):
            raise refuse(f"has invalid value for key {TOKEN_SECRET_KEY}")
        if secret_data(secret, TOKEN_ID_KEY) != token_id:
            raise refuse(f"has invalid value for key {TOKEN_ID_KEY}")
        expired = expiration_problem(secret, self._clock())
        if expired is not None:
            raise refuse(expired)
        if secret_data(secret, USAGE_AUTHENTICATION) != "true":
            raise refuse(f"not marked {USAGE_AUTHENTICATION}=true")
        try:
            groups = extra_groups(secret)
        except ValueError as exc:
            raise refuse(f"has invalid value for key {EXTRA_GROUPS_KEY}: {exc}") from exc
        user = UserInfo(
            name=USER_PREFIX + token_id,
            groups=(BOOTSTRAPPERS_GROUP, *(g for g in groups if g != BOOTSTRAPPERS_GROUP)),
        )
        return AuthResponse(user, self.name, audiences=audiences)
