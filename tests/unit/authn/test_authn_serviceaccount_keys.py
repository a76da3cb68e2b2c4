"""Service-account key files: what they may hold, key ids, algorithms and the JWKS."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from kubeward.authn.serviceaccount_keys import (
    KeySet,
    algorithm_for,
    key_id,
    load_public_keys,
    load_signing_key,
)
from kubeward.errors import InputError

EC = ec.generate_private_key(ec.SECP256R1())
EC384 = ec.generate_private_key(ec.SECP384R1())
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_private(key: object) -> bytes:
    assert isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_public(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _certificate(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sa")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    ("key", "alg"), [(EC, "ES256"), (EC384, "ES384"), (RSA, "RS256")], ids=["p256", "p384", "rsa"]
)
def test_algorithm_follows_the_key(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, alg: str
) -> None:
    assert algorithm_for(key) == alg
    assert key_id(key) == key_id(key.public_key())
    assert len(key_id(key)) == 43  # unpadded base64url of 32 bytes


def test_key_file_may_mix_public_keys_private_keys_and_certificates(tmp_path: Path) -> None:
    path = tmp_path / "keys.pem"
    path.write_bytes(_pem_public(RSA) + _pem_private(EC384) + _certificate(EC))
    keys = load_public_keys(path)
    assert [key_id(k) for k in keys] == [key_id(RSA), key_id(EC384), key_id(EC)]
    jwks = KeySet(keys).jwks()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in jwks] == [
        ("RSA", "RS256", "sig"),
        ("EC", "ES384", "sig"),
        ("EC", "ES256", "sig"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"nothing here", "no PEM public key"),
        (_pem_private(ed25519.Ed25519PrivateKey.generate()), "must be RSA or ECDSA"),
    ],
    ids=["empty", "ed25519"],
)
def test_unusable_key_files_are_input_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_public_keys(path)
    with pytest.raises(InputError):
        load_signing_key(path)


def test_signing_key_loads(tmp_path: Path) -> None:
    path = tmp_path / "sa.key"
    path.write_bytes(_pem_private(EC))
    assert key_id(load_signing_key(path)) == key_id(EC)
