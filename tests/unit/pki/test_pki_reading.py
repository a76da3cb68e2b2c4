import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kubeward.errors import InputError
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.csr import build_csr, csr_pem
from kubeward.pki.keys import generate_private_key, private_key_pem, same_public_key
from kubeward.pki.reading import decode, read_certificates, read_csr, read_private_key

CA = CertificateAuthority.create("kubernetes", datetime.timedelta(days=10), algorithm="ecdsa-p256")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = certificate_pem(CA.cert)
DER = CA.cert.public_bytes(serialization.Encoding.DER)


def _key_bytes(
    encoding: serialization.Encoding,
    fmt: serialization.PrivateFormat,
    password: bytes | None = None,
) -> bytes:
    algorithm = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return RSA_KEY.private_bytes(encoding, fmt, algorithm)


@pytest.mark.parametrize(
    "data",
    [PEM, DER, PEM + PEM, b"junk before\n" + PEM],
    ids=["pem", "der", "chain", "leading-text"],
)
def test_read_certificates(data: bytes) -> None:
    certs = read_certificates(data, "ca.crt")
    assert certs[0] == CA.cert


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"hello world", "not a PEM or DER certificate"),
        (PEM[: len(PEM) // 2], "truncated PEM"),
        (DER[:100], "not a PEM or DER certificate"),
        (PEM.replace(b"MII", b"M!I", 1), "damaged CERTIFICATE block"),
        (private_key_pem(RSA_KEY), "no certificate in it"),
        (b"", "not a PEM or DER certificate"),
    ],
    ids=["garbage", "truncated-pem", "truncated-der", "damaged-base64", "a-key", "empty"],
)
def test_bad_certificates_name_the_file_and_problem(data: bytes, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        read_certificates(data, "some/ca.crt")
    message = str(caught.value)
    assert message.startswith("some/ca.crt: ")
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "data",
    [
        _key_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL),
        _key_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
        _key_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8),
        _key_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL),
        PEM + _key_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
    ],
    ids=["pkcs1-pem", "pkcs8-pem", "pkcs8-der", "pkcs1-der", "cert-then-key"],
)
def test_read_private_key_formats(data: bytes) -> None:
    assert same_public_key(read_private_key(data, "k.key"), RSA_KEY)


def test_encrypted_key_needs_passphrase_and_the_right_one() -> None:
    data = _key_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, b"s3cret")
    with pytest.raises(InputError, match=r"k\.key: private key is encrypted; give its passphrase"):
        read_private_key(data, "k.key")
    with pytest.raises(InputError, match="wrong passphrase"):
        read_private_key(data, "k.key", b"nope")
    assert same_public_key(read_private_key(data, "k.key", b"s3cret"), RSA_KEY)


def test_csr_pem_and_der() -> None:
    request = build_csr(RSA_KEY, "jane", ["dev"])
    assert read_csr(csr_pem(request), "j.csr").subject == request.subject
    der = request.public_bytes(serialization.Encoding.DER)
    assert read_csr(der, "j.csr").subject == request.subject
    with pytest.raises(InputError, match=r"j\.csr: no certificate request"):
        read_csr(PEM, "j.csr")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PEM, "Certificate"),
        (DER, "Certificate"),
        (csr_pem(build_csr(RSA_KEY, "jane")), "CertificateSigningRequest"),
        (_key_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8), "PrivateKey"),
        (private_key_pem(generate_private_key("ed25519")), "PrivateKey"),
        (b"apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n", "Kubeconfig"),
    ],
    ids=["pem-cert", "der-cert", "csr", "der-key", "ed25519-key", "kubeconfig"],
)
def test_decode_recognises_everything(data: bytes, kind: str) -> None:
    assert decode(data, "x").kind == kind


def test_decode_refuses_unknown_text() -> None:
    with pytest.raises(
        InputError, match="x: not a PEM or DER certificate, certificate request or key"
    ):
        decode(b"just: yaml\n", "x")
