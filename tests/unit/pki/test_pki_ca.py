import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubeward.errors import InputError
from kubeward.pki.ca import CLOCK_SKEW_ALLOWANCE, CertificateAuthority, certificate_pem
from kubeward.pki.csr import build_csr
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import CertificateUsages, Profile
from kubeward.pki.verify import signed_by

DAY = datetime.timedelta(days=1)
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def rsa_ca() -> CertificateAuthority:
    return CertificateAuthority.create("kubernetes", 3650 * DAY, algorithm="rsa-2048", now=NOW)


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


def test_ca_profile(rsa_ca: CertificateAuthority) -> None:
    cert = rsa_ca.cert
    basic = _ext(cert, x509.BasicConstraints)
    usage = _ext(cert, x509.KeyUsage)
    assert basic.critical and basic.value.ca
    assert usage.critical and usage.value.key_cert_sign and usage.value.digital_signature
    assert _ext(cert, x509.SubjectKeyIdentifier).value.digest
    assert (
        cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha256"
    )
    assert cert.not_valid_before_utc == NOW - CLOCK_SKEW_ALLOWANCE
    assert rsa_ca.common_name == "kubernetes"


@pytest.mark.parametrize(
    ("profile", "ekus"),
    [
        (Profile.SERVER, [ExtendedKeyUsageOID.SERVER_AUTH]),
        (Profile.CLIENT, [ExtendedKeyUsageOID.CLIENT_AUTH]),
        (Profile.PEER, [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
    ],
    ids=["server", "client", "peer"],
)
@pytest.mark.parametrize("algorithm", ["rsa-2048", "ecdsa-p256"], ids=str)
def test_leaf_profiles(
    rsa_ca: CertificateAuthority,
    profile: Profile,
    ekus: list[x509.ObjectIdentifier],
    algorithm: str,
) -> None:
    key = generate_private_key(algorithm)
    alt = AltNames.parse(["node-1", "10.0.0.1"])
    cert = rsa_ca.issue(
        key.public_key(), build_subject("node-1"), profile, 365 * DAY, alt_names=alt, now=NOW
    )
    assert (
        _ext(cert, x509.BasicConstraints).critical
        and not _ext(cert, x509.BasicConstraints).value.ca
    )
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert usage.value.key_encipherment is (algorithm == "rsa-2048")
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == ekus
    assert AltNames.of(cert) == alt
    aki = _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == _ext(rsa_ca.cert, x509.SubjectKeyIdentifier).value.digest
    assert signed_by(cert, rsa_ca.cert)
    assert cert.not_valid_before_utc == NOW - CLOCK_SKEW_ALLOWANCE
    assert cert.not_valid_after_utc == NOW + 365 * DAY


def test_serials_are_random_and_large(rsa_ca: CertificateAuthority) -> None:
    key = generate_private_key("ecdsa-p256")
    serials = {
        rsa_ca.issue_client_certificate(key.public_key(), "u", [], DAY).serial_number
        for _ in range(3)
    }
    assert len(serials) == 3 and min(serials).bit_length() > 64


def test_leaf_never_outlives_its_ca() -> None:
    ca = CertificateAuthority.create("short", 10 * DAY, algorithm="ecdsa-p256", now=NOW)
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(key.public_key(), build_subject("x"), Profile.CLIENT, 365 * DAY, now=NOW)
    assert cert.not_valid_after_utc == ca.cert.not_valid_after_utc


def test_client_certificate_names_user_and_groups() -> None:
    ca = CertificateAuthority.create("kubernetes", 10 * DAY, algorithm="ed25519")
    key = generate_private_key("ed25519")
    cert = ca.issue_client_certificate(key.public_key(), "jane", ["dev", "qa"], DAY)
    assert cert.subject.rfc4514_string() == "CN=jane,O=qa,O=dev"
    assert cert.signature_hash_algorithm is None  # Ed25519
    assert signed_by(cert, ca.cert)
    assert certificate_pem(cert) != ca.cert_pem


def test_sign_csr_copies_subject_and_sans_but_usages_come_from_the_profile(
    rsa_ca: CertificateAuthority,
) -> None:
    key = generate_private_key("ecdsa-p256")
    request = build_csr(key, "web", ["team"], AltNames.parse(["web.example.com"]))
    cert = rsa_ca.sign_csr(request, Profile.SERVER, 30 * DAY)
    assert cert.subject == request.subject
    assert AltNames.of(cert).dns == ("web.example.com",)
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_sign_csr_with_kubernetes_usages(rsa_ca: CertificateAuthority) -> None:
    key = generate_private_key("rsa-2048")
    usages = CertificateUsages.from_kubernetes(
        ["digital signature", "key encipherment", "client auth"]
    )
    cert = rsa_ca.sign_csr(build_csr(key, "system:node:w1", ["system:nodes"]), usages, DAY)
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(InputError, match="never becomes a CA"):
        CertificateUsages.from_kubernetes(["cert sign"])
    with pytest.raises(InputError, match="not a Kubernetes key usage"):
        CertificateUsages.from_kubernetes(["world domination"])


def test_sign_csr_refuses_a_tampered_request(rsa_ca: CertificateAuthority) -> None:
    key = generate_private_key("ecdsa-p256")
    der = bytearray(build_csr(key, "jane").public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # flip a bit of the signature
    tampered = x509.load_der_x509_csr(bytes(der))
    with pytest.raises(InputError, match=r"jane\.csr: its signature does not verify"):
        rsa_ca.sign_csr(tampered, Profile.CLIENT, DAY, source="jane.csr")


def test_from_dir_finds_pki_subdirectory_and_names_problems(
    tmp_path: Path, rsa_ca: CertificateAuthority
) -> None:
    root = tmp_path
    with pytest.raises(InputError, match="no CA here"):
        CertificateAuthority.from_dir(root)
    with pytest.raises(InputError, match="no such directory"):
        CertificateAuthority.from_dir(root / "missing")
    (root / "pki").mkdir()
    (root / "pki" / "ca.crt").write_bytes(rsa_ca.cert_pem)
    with pytest.raises(InputError, match=r"pki/ca\.key: no such file"):
        CertificateAuthority.from_dir(root)
    (root / "pki" / "ca.key").write_bytes(private_key_pem(generate_private_key("ecdsa-p256")))
    with pytest.raises(InputError, match="does not match"):
        CertificateAuthority.from_dir(root)
    (root / "pki" / "ca.key").write_bytes(private_key_pem(rsa_ca.key))
    assert CertificateAuthority.from_dir(root).cert == rsa_ca.cert


def test_from_files_refuses_a_leaf_as_ca(tmp_path: Path, rsa_ca: CertificateAuthority) -> None:
    root = tmp_path
    key = generate_private_key("ecdsa-p256")
    leaf = rsa_ca.issue_client_certificate(key.public_key(), "x", [], DAY)
    (root / "ca.crt").write_bytes(certificate_pem(leaf))
    (root / "ca.key").write_bytes(private_key_pem(key))
    with pytest.raises(InputError, match="not a CA certificate"):
        CertificateAuthority.from_dir(root)


def test_issue_refuses_ca_profile_and_bad_validity(rsa_ca: CertificateAuthority) -> None:
    key = generate_private_key("ecdsa-p256")
    with pytest.raises(InputError, match="leaf certificates only"):
        rsa_ca.issue(key.public_key(), build_subject("x"), Profile.CA, DAY)
    with pytest.raises(InputError, match="must be positive"):
        rsa_ca.issue(key.public_key(), build_subject("x"), Profile.CLIENT, -DAY)


def test_usages_without_a_key_usage_bit_give_no_empty_key_usage_extension() -> None:
    import datetime

    from cryptography import x509

    from kubeward.pki.ca import CertificateAuthority
    from kubeward.pki.keys import generate_private_key
    from kubeward.pki.names import build_subject
    from kubeward.pki.profiles import CertificateUsages

    ca = CertificateAuthority.create("test-ca", datetime.timedelta(days=1), algorithm="ecdsa-p256")
    key = generate_private_key("ecdsa-p256")
    usages = CertificateUsages.from_kubernetes(["client auth"])
    cert = ca.issue(key.public_key(), build_subject("jane"), usages, datetime.timedelta(hours=1))
    names = [ext.oid for ext in cert.extensions]
    assert x509.ExtensionOID.KEY_USAGE not in names
    assert x509.ExtensionOID.EXTENDED_KEY_USAGE in names
