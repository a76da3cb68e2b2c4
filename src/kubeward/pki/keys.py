"""Private keys: generating them, encoding them, and telling what they are.

Rules:
 1. The algorithms offered are the ones Kubernetes components accept for TLS:
    ``rsa-2048`` (kubeadm's default), ``rsa-3072``, ``rsa-4096``, ``ecdsa-p256``, ``ecdsa-p384``
    and ``ed25519``. RSA keys use the public exponent 65537.
 2. Private keys are encoded as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``), which every
    Kubernetes component, etcd and openssl read. Writing them 0600 is the caller's job
    (:mod:`kubeward.fileio`).
 3. Key material is never part of a description: :func:`describe_key` gives the type, size and
    the SHA-256 fingerprint of the public half only.
 4. Many RSA keys are generated on a thread pool: the generation releases the GIL, and it is
    most of the cost of a ``pki init``.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kubeward.errors import InputError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

DEFAULT_ALGORITHM = "rsa-2048"
KEY_ALGORITHMS: tuple[str, ...] = (
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
)
_RSA_BITS = {"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ecdsa-p256": ec.SECP256R1,
    "ecdsa-p384": ec.SECP384R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def check_algorithm(algorithm: str) -> str:
    """Return ``algorithm`` if it is one of :data:`KEY_ALGORITHMS`.

    Raises:
        InputError: it is not.
    """
    if algorithm not in KEY_ALGORITHMS:
        raise InputError(
            f"key algorithm {algorithm!r}: unsupported (choose one of {', '.join(KEY_ALGORITHMS)})"
        )
    return algorithm


def generate_private_key(algorithm: str = DEFAULT_ALGORITHM) -> PrivateKey:
    """A new private key of ``algorithm`` (one of :data:`KEY_ALGORITHMS`)."""
    check_algorithm(algorithm)
    if algorithm in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[algorithm])
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm]())
    return ed25519.Ed25519PrivateKey.generate()


def generate_private_keys(algorithm: str, count: int) -> list[PrivateKey]:
    """``count`` new keys; RSA keys are generated in parallel on all cores."""
    check_algorithm(algorithm)
    if count <= 0:
        return []
    if algorithm not in _RSA_BITS or count == 1:
        return [generate_private_key(algorithm) for _ in range(count)]
    workers = min(count, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keygen") as pool:
        return list(pool.map(lambda _: generate_private_key(algorithm), range(count)))


def private_key_pem(key: PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """The public half as SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``), like ``sa.pub``."""
    public = key.public_key() if isinstance(key, PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_der(key: PrivateKey | PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo: two keys are the same key exactly when these bytes are."""
    public = key.public_key() if isinstance(key, PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def same_public_key(a: PrivateKey | PublicKey, b: PrivateKey | PublicKey) -> bool:
    """True when ``a`` and ``b`` are halves of (or are) the same key pair."""
    return public_key_der(a) == public_key_der(b)


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    """The :data:`KEY_ALGORITHMS` name that would generate a key like ``key``.

    Sizes and curves outside the list map to the nearest stronger choice (an RSA-1024 key
    renews as ``rsa-2048``; a P-521 key as ``ecdsa-p384``), so renewing never weakens a key.
    """
    public = key.public_key() if isinstance(key, PrivateKey) else key
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size > 3072:
            return "rsa-4096"
        return "rsa-3072" if public.key_size > 2048 else "rsa-2048"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return "ecdsa-p256" if public.curve.name == "secp256r1" else "ecdsa-p384"
    return "ed25519"


@dataclass(frozen=True)
class KeyDescription:
    """What a key is, without any of its secret: ``RSA 2048``, ``ECDSA P-256``, ``Ed25519``."""

    type: str
    bits: int
    curve: str
    fingerprint_sha256: str

    def label(self) -> str:
        if self.type == "RSA":
            return f"RSA {self.bits}"
        if self.type == "ECDSA":
            return f"ECDSA {self.curve}"
        return self.type

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "bits": self.bits}
        if self.curve:
            out["curve"] = self.curve
        out["publicKeySHA256"] = self.fingerprint_sha256
        return out


def describe_key(key: object) -> KeyDescription:
    """Type, size, curve and public-key fingerprint of a private or public key of any kind."""
    public = key.public_key() if isinstance(key, PrivateKey) else key
    der = b""
    if isinstance(public, PublicKey):
        der = public_key_der(public)
    fingerprint = colon_hex(hashlib.sha256(der).digest()) if der else ""
    if isinstance(public, rsa.RSAPublicKey):
        return KeyDescription("RSA", public.key_size, "", fingerprint)
    if isinstance(public, ec.EllipticCurvePublicKey):
        curve = _CURVE_NAMES.get(public.curve.name, public.curve.name)
        return KeyDescription("ECDSA", public.curve.key_size, curve, fingerprint)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return KeyDescription("Ed25519", 256, "", fingerprint)
    size = int(getattr(public, "key_size", 0))
    kind = type(public).__name__.replace("PublicKey", "").replace("PrivateKey", "").strip("_")
    return KeyDescription(kind.upper() or "UNKNOWN", size, "", fingerprint)


def as_supported_private_key(key: object, source: str) -> PrivateKey:
    """``key`` if it is RSA, ECDSA or Ed25519; an :class:`InputError` naming ``source`` otherwise."""
    if isinstance(key, PrivateKey):
        return key
    kind = type(key).__name__.replace("PrivateKey", "").lstrip("_") or "unknown"
    raise InputError(f"{source}: {kind} keys are not supported (use RSA, ECDSA or Ed25519)")


def as_supported_public_key(key: object, source: str) -> PublicKey:
    """``key`` if it is RSA, ECDSA or Ed25519; an :class:`InputError` naming ``source`` otherwise."""
    if isinstance(key, PublicKey):
        return key
    kind = type(key).__name__.replace("PublicKey", "").lstrip("_") or "unknown"
    raise InputError(f"{source}: {kind} keys are not supported (use RSA, ECDSA or Ed25519)")


def colon_hex(data: bytes) -> str:
    """``AB:CD:...`` as openssl prints fingerprints and key identifiers."""
    return ":".join(f"{byte:02X}" for byte in data)
