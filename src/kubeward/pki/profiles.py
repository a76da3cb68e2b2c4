"""Certificate profiles: which key usages and extended key usages a certificate carries.

Rules (they are what the audit checks for, too):
 1. A CA certificate has a critical basicConstraints CA:TRUE and a critical keyUsage with
    keyCertSign (plus digitalSignature, and keyEncipherment for RSA keys, as kubeadm sets them).
 2. A leaf has a critical basicConstraints CA:FALSE and a critical keyUsage with
    digitalSignature, plus keyEncipherment when its key is RSA (RSA key exchange); ECDSA and
    Ed25519 keys cannot encipher, so they never get it.
 3. Extended key usages by profile: ``server`` serverAuth, ``client`` clientAuth, ``peer`` both
    (etcd peers dial and answer each other; etcd's server certificate also needs clientAuth).
 4. Usages requested through the Certificates API use Kubernetes' own words
    (``digital signature``, ``key encipherment``, ``client auth``, ...); unknown words are refused.
 5. Which certificates can act as a CA follows OpenSSL (``X509_check_ca``), so that kubeward
    agrees with ``openssl verify`` about the course's own CAs: basicConstraints decides when it is
    present; without it, a version 1 self-signed certificate (what ``openssl x509 -req -signkey``
    makes) is a CA, and so is one whose keyUsage has keyCertSign; otherwise it is not. A keyUsage
    without keyCertSign is never a CA.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubeward.errors import InputError
from kubeward.pki.keys import PublicKey


class Profile(enum.Enum):
    """What a certificate is for."""

    CA = "ca"
    SERVER = "server"
    CLIENT = "client"
    PEER = "peer"


# Kubernetes' usage words (certificates.k8s.io KeyUsage) for key usage bits.
KEY_USAGE_WORDS: dict[str, str] = {
    "digital signature": "digital_signature",
    "signing": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "data encipherment": "data_encipherment",
    "key agreement": "key_agreement",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
}
# ... and for extended key usages.
EXTENDED_USAGE_WORDS: dict[str, x509.ObjectIdentifier] = {
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}
_EKU_WORD_BY_OID = {
    ExtendedKeyUsageOID.SERVER_AUTH: "server auth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "client auth",
    ExtendedKeyUsageOID.CODE_SIGNING: "code signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "email protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timestamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "ocsp signing",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "any",
}
_KEY_USAGE_BITS = (
    ("digital_signature", "digital signature"),
    ("content_commitment", "content commitment"),
    ("key_encipherment", "key encipherment"),
    ("data_encipherment", "data encipherment"),
    ("key_agreement", "key agreement"),
    ("key_cert_sign", "cert sign"),
    ("crl_sign", "crl sign"),
)


@dataclass(frozen=True)
class CertificateUsages:
    """The keyUsage bits and extended key usages a certificate will carry."""

    key_usage: frozenset[str]
    extended: tuple[x509.ObjectIdentifier, ...]
    is_ca: bool = False

    @classmethod
    def for_profile(cls, profile: Profile, public_key: PublicKey) -> CertificateUsages:
        """The usages of a kubeadm-style certificate of ``profile`` for ``public_key``."""
        bits = {"digital_signature"}
        if isinstance(public_key, rsa.RSAPublicKey):
            bits.add("key_encipherment")
        if profile is Profile.CA:
            return cls(frozenset(bits | {"key_cert_sign"}), (), is_ca=True)
        extended = {
            Profile.SERVER: (ExtendedKeyUsageOID.SERVER_AUTH,),
            Profile.CLIENT: (ExtendedKeyUsageOID.CLIENT_AUTH,),
            Profile.PEER: (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        }[profile]
        return cls(frozenset(bits), extended)

    @classmethod
    def from_kubernetes(cls, words: Iterable[str]) -> CertificateUsages:
        """Usages from a CertificateSigningRequest's ``spec.usages`` (``client auth``, ...).

        Raises:
            InputError: a word is not one Kubernetes defines, or asks for a CA certificate.
        """
        bits: set[str] = set()
        extended: list[x509.ObjectIdentifier] = []
        for word in words:
            key = word.strip().lower()
            if key in ("cert sign", "crl sign"):
                raise InputError(f"usage {word!r}: a signed request never becomes a CA")
            if key in KEY_USAGE_WORDS:
                bits.add(KEY_USAGE_WORDS[key])
            elif key in EXTENDED_USAGE_WORDS:
                oid = EXTENDED_USAGE_WORDS[key]
                if oid not in extended:
                    extended.append(oid)
            else:
                raise InputError(f"usage {word!r}: not a Kubernetes key usage")
        return cls(frozenset(bits), tuple(extended))

    def key_usage_extension(self) -> x509.KeyUsage:
        present = self.key_usage
        return x509.KeyUsage(
            digital_signature="digital_signature" in present,
            content_commitment="content_commitment" in present,
            key_encipherment="key_encipherment" in present,
            data_encipherment="data_encipherment" in present,
            key_agreement="key_agreement" in present,
            key_cert_sign="key_cert_sign" in present,
            crl_sign="crl_sign" in present,
            encipher_only=False,
            decipher_only=False,
        )


def profile_of(cert: x509.Certificate) -> Profile:
    """The profile a certificate was issued with, read back from its extensions."""
    if is_ca(cert):
        return Profile.CA
    extended = set(extended_key_usages(cert))
    if {"server auth", "client auth"} <= extended:
        return Profile.PEER
    if "server auth" in extended:
        return Profile.SERVER
    return Profile.CLIENT


def is_ca(cert: x509.Certificate) -> bool:
    """Rule 5: whether OpenSSL accepts the certificate as a CA."""
    return not not_a_ca_reason(cert)


def claims_ca(cert: x509.Certificate) -> bool:
    """basicConstraints says CA:TRUE (whatever its keyUsage says)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def is_v1_root(cert: x509.Certificate) -> bool:
    """A version 1 self-signed certificate: no extensions at all, trusted as a CA by OpenSSL."""
    return cert.version is x509.Version.v1 and cert.issuer == cert.subject


def not_a_ca_reason(cert: x509.Certificate) -> str:
    """Rule 5: why OpenSSL would not accept the certificate as a CA; ``""`` when it would."""
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        return "keyUsage lacks keyCertSign"
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        if is_v1_root(cert) or usage is not None:
            return ""
        return "no basicConstraints CA:TRUE, and not a version 1 self-signed certificate"
    return "" if constraints.ca else "basicConstraints CA:FALSE"


def key_usages(cert: x509.Certificate) -> list[str]:
    """The keyUsage bits in Kubernetes' words (``digital signature``, ``cert sign``, ...)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [word for attribute, word in _KEY_USAGE_BITS if getattr(usage, attribute)]


def extended_key_usages(cert: x509.Certificate | x509.CertificateSigningRequest) -> list[str]:
    """Extended key usages in Kubernetes' words (``server auth``, ``client auth``, or the OID)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [_EKU_WORD_BY_OID.get(oid, oid.dotted_string) for oid in usage]
