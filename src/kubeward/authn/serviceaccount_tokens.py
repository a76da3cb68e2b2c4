"""Issuing service-account tokens: the JWT claims Kubernetes writes, signed with the SA key.

Rules:
 1. Bound tokens (TokenRequest) carry ``iss`` (the first ``--service-account-issuer``), ``sub``
    ``system:serviceaccount:NS:NAME``, ``aud``, ``exp``, ``iat``, ``nbf``, ``jti`` and the private
    ``kubernetes.io`` claim with the namespace, the service account's name and uid, and the
    bound object's (``pod``, ``secret`` or ``node``) name and uid; a pod-bound token also names
    the pod's node when the pod is scheduled, as Kubernetes 1.30+ does.
 2. Legacy tokens (the token controller's Secrets) carry the pre-1.24 claims: ``iss``
    ``kubernetes/serviceaccount``, ``sub`` and the four ``kubernetes.io/serviceaccount/*``
    claims — and no ``exp``: they are valid as long as their Secret exists.
 3. The header names the algorithm the key dictates and the key's id.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from kubeward.api.user import service_account_username
from kubeward.authn.serviceaccount_keys import SigningKey, algorithm_for, key_id

LEGACY_ISSUER = "kubernetes/serviceaccount"
PRIVATE_CLAIM = "kubernetes.io"
LEGACY_NAMESPACE_CLAIM = "kubernetes.io/serviceaccount/namespace"
LEGACY_SECRET_NAME_CLAIM = "kubernetes.io/serviceaccount/secret.name"
LEGACY_SA_NAME_CLAIM = "kubernetes.io/serviceaccount/service-account.name"
LEGACY_SA_UID_CLAIM = "kubernetes.io/serviceaccount/service-account.uid"

BOUND_KINDS = ("Pod", "Secret", "Node")


@dataclass(frozen=True)
class ObjectRef:
    """A named object with its uid (the service account, a bound object, a node)."""

    name: str
    uid: str

    def claim(self) -> dict[str, str]:
        return {"name": self.name, "uid": self.uid}


@dataclass(frozen=True)
class BoundObject:
    kind: str  # one of BOUND_KINDS
    ref: ObjectRef


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: int  # unix seconds


class TokenIssuer:
    """Signs bound and legacy service-account tokens with one private key."""

    def __init__(self, issuer: str, signing_key: SigningKey, *, clock: Any = time.time) -> None:
        self.issuer = issuer
        self._key = signing_key
        self._headers = {"kid": key_id(signing_key)}
        self._algorithm = algorithm_for(signing_key)
        self._clock = clock

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def issue(
        self,
        *,
        namespace: str,
        service_account: ObjectRef,
        audiences: tuple[str, ...],
        expiration_seconds: int,
        bound: BoundObject | None = None,
        node: ObjectRef | None = None,
    ) -> IssuedToken:
        """A bound token (rule 1)."""
        now = int(self._clock())
        expires = now + expiration_seconds
        private: dict[str, Any] = {
            "namespace": namespace,
            "serviceaccount": service_account.claim(),
        }
        if bound is not None:
            private[bound.kind.lower()] = bound.ref.claim()
        if node is not None:
            private["node"] = node.claim()
        claims: dict[str, Any] = {
            "aud": list(audiences),
            "exp": expires,
            "iat": now,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            PRIVATE_CLAIM: private,
            "nbf": now,
            "sub": service_account_username(namespace, service_account.name),
        }
        return IssuedToken(self._sign(claims), expires)

    def issue_legacy(self, *, namespace: str, service_account: ObjectRef, secret_name: str) -> str:
        """A token that never expires, for a ``kubernetes.io/service-account-token`` Secret (rule 2)."""
        claims = {
            "iss": LEGACY_ISSUER,
            LEGACY_NAMESPACE_CLAIM: namespace,
            LEGACY_SECRET_NAME_CLAIM: secret_name,
            LEGACY_SA_NAME_CLAIM: service_account.name,
            LEGACY_SA_UID_CLAIM: service_account.uid,
            "sub": service_account_username(namespace, service_account.name),
        }
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=self._algorithm, headers=self._headers)
