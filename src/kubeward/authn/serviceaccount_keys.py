"""Service-account signing and verification keys: loading, key ids, algorithms and the JWKS.

Rules:
 1. The signing key is an RSA or ECDSA private key (``--service-account-signing-key-file``);
    verification keys come from ``--service-account-key-file`` files, each holding any number of
    PEM public keys, private keys or certificates, as kube-apiserver reads them. The signing
    key's own public half is always a verification key.
 2. The signature algorithm follows the key: RSA signs RS256; ECDSA P-256, P-384 and P-521 sign
    ES256, ES384 and ES512. Nothing else is ever accepted: never ``none`` and never an HMAC
    algorithm, whose "secret" an attacker could take from the public key.
 3. A key's id (``kid``) is derived as upstream's ``keyIDFromPublicKey``: the unpadded base64url
    SHA-256 of the DER SubjectPublicKeyInfo, so kubeward's ``kid`` and Kubernetes' agree.
 4. The JWKS document lists every verification key with ``use: sig``, its ``kid`` and ``alg``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from kubeward.errors import InputError
from kubeward.fileio import read_bytes

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
VerifyingKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# Rule 2: the only algorithms a service-account token may be signed with.
ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256", "ES384", "ES512"})
_CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def algorithm_for(key: SigningKey | VerifyingKey) -> str:
    """The JWS algorithm a key signs with (rule 2)."""
    public = key.public_key() if isinstance(key, SigningKey) else key
    if isinstance(public, rsa.RSAPublicKey):
        return "RS256"
    name = _CURVE_ALGORITHMS.get(public.curve.name)
    if name is None:
        raise InputError(
            f"ECDSA curve {public.curve.name}: not supported for service-account tokens"
        )
    return name


def key_id(key: SigningKey | VerifyingKey) -> str:
    """Upstream's key id: base64url (no padding) of SHA-256 over the DER public key (rule 3)."""
    public = key.public_key() if isinstance(key, SigningKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PublicKeyEntry:
    """One verification key with its id and algorithm."""

    key: VerifyingKey
    kid: str
    algorithm: str

    @classmethod
    def of(cls, key: VerifyingKey) -> PublicKeyEntry:
        return cls(key, key_id(key), algorithm_for(key))

    def jwk(self) -> dict[str, Any]:
        if isinstance(self.key, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(self.key, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(self.key, as_dict=True)
        jwk.update({"use": "sig", "kid": self.kid, "alg": self.algorithm})
        return jwk


def load_signing_key(path: Path) -> SigningKey:
    """The private key that signs tokens (``--service-account-signing-key-file``).

    Raises:
        InputError: the file holds no RSA or ECDSA private key.
    """
    data = read_bytes(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, SigningKey):
        raise InputError(f"{path}: service-account keys must be RSA or ECDSA")
    algorithm_for(key)
    return key


def load_public_keys(path: Path) -> list[VerifyingKey]:
    """Every key in a ``--service-account-key-file`` (PEM public/private keys or certificates).

    Raises:
        InputError: the file holds no usable key, or an RSA/ECDSA-less block.
    """
    data = read_bytes(path)
    keys: list[VerifyingKey] = []
    for match in _PEM_BLOCK.finditer(data):
        label = match.group(1).decode("ascii")
        block = match.group(0)
        try:
            if label == "CERTIFICATE":
                found: object = x509.load_pem_x509_certificate(block).public_key()
            elif label.endswith("PRIVATE KEY"):
                found = serialization.load_pem_private_key(block, password=None).public_key()
            elif label.endswith("PUBLIC KEY"):
                found = serialization.load_pem_public_key(block)
            else:
                continue
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: unreadable PEM block {label}") from exc
        if not isinstance(found, VerifyingKey):
            raise InputError(f"{path}: service-account keys must be RSA or ECDSA")
        keys.append(found)
    if not keys:
        raise InputError(f"{path}: no PEM public key, private key or certificate found")
    return keys


class KeySet:
    """The verification keys by id (rule 1), and the JWKS document that publishes them."""

    def __init__(self, keys: Iterable[VerifyingKey]) -> None:
        entries: dict[str, PublicKeyEntry] = {}
        for key in keys:
            entry = PublicKeyEntry.of(key)
            entries.setdefault(entry.kid, entry)
        self._entries = entries

    @classmethod
    def from_files(cls, paths: Sequence[Path], signing_key: SigningKey | None = None) -> KeySet:
        keys: list[VerifyingKey] = [] if signing_key is None else [signing_key.public_key()]
        for path in paths:
            keys.extend(load_public_keys(path))
        return cls(keys)

    def __len__(self) -> int:
        return len(self._entries)

    def by_kid(self, kid: str) -> PublicKeyEntry | None:
        return self._entries.get(kid)

    def entries(self) -> tuple[PublicKeyEntry, ...]:
        return tuple(self._entries.values())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [entry.jwk() for entry in self._entries.values()]}
