import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kubeward.errors import InputError
from kubeward.pki.keys import (
    KEY_ALGORITHMS,
    algorithm_of,
    describe_key,
    generate_private_key,
    generate_private_keys,
    private_key_pem,
    public_key_pem,
    same_public_key,
)

FAST = [a for a in KEY_ALGORITHMS if a not in ("rsa-3072", "rsa-4096")]


@pytest.mark.parametrize(
    ("algorithm", "kind", "label"),
    [
        ("rsa-2048", rsa.RSAPrivateKey, "RSA 2048"),
        ("ecdsa-p256", ec.EllipticCurvePrivateKey, "ECDSA P-256"),
        ("ecdsa-p384", ec.EllipticCurvePrivateKey, "ECDSA P-384"),
        ("ed25519", ed25519.Ed25519PrivateKey, "Ed25519"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_generate_and_describe(algorithm: str, kind: type, label: str) -> None:
    key = generate_private_key(algorithm)
    assert isinstance(key, kind)
    assert describe_key(key).label() == label
    assert algorithm_of(key) == algorithm


def test_unknown_algorithm_is_input_error() -> None:
    with pytest.raises(InputError, match="rsa-1024"):
        generate_private_key("rsa-1024")


@pytest.mark.parametrize("algorithm", FAST, ids=str)
def test_private_key_pem_is_unencrypted_pkcs8(algorithm: str) -> None:
    key = generate_private_key(algorithm)
    pem = private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(pem, None)
    assert same_public_key(loaded, key)  # type: ignore[arg-type]
    assert public_key_pem(key).startswith(b"-----BEGIN PUBLIC KEY-----")


def test_generate_many_rsa_keys_in_parallel_gives_distinct_keys() -> None:
    keys = generate_private_keys("rsa-2048", 3)
    assert (
        len({k.public_key().public_numbers().n for k in keys if isinstance(k, rsa.RSAPrivateKey)})
        == 3
    )


def test_weak_rsa_renews_as_at_least_2048() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert algorithm_of(weak) == "rsa-2048"


def test_description_never_contains_key_material() -> None:
    key = generate_private_key("ecdsa-p256")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    text = str(describe_key(key).to_dict())
    assert str(key.private_numbers().private_value) not in text
    assert "PRIVATE" not in text
