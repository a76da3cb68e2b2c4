"""A certificate authority: a CA certificate with its key, issuing and signing leaf certificates.

This is the one place certificates are built, so the profile rules hold everywhere
(``pki init``, ``pki sign``, ``pki renew``, ``config new-user``, and the Certificates API later):

 1. Serial numbers are random (159 bits), never sequential.
 2. notBefore is five minutes in the past, so a peer whose clock is slightly behind accepts a
    certificate issued a moment ago; notAfter never outlives the CA.
 3. Signatures are SHA-256 (Ed25519 keys sign with Ed25519, which has no separate hash).
 4. Every certificate has a subjectKeyIdentifier; every leaf an authorityKeyIdentifier naming
    its CA. basicConstraints and keyUsage are critical; usages follow :mod:`kubeward.pki.profiles`.
 5. A request is signed only if its own signature verifies (proof that the requester holds the
    key); its subject and SANs are copied, never any extension that could make it a CA.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kubeward.errors import InputError
from kubeward.pki.keys import (
    DEFAULT_ALGORITHM,
    PrivateKey,
    PublicKey,
    as_supported_public_key,
    generate_private_key,
)
from kubeward.pki.names import AltNames, build_subject, common_name
from kubeward.pki.profiles import CertificateUsages, Profile, not_a_ca_reason
from kubeward.pki.reading import load_certificate, load_private_key
from kubeward.pki.verify import key_matches

CLOCK_SKEW_ALLOWANCE = datetime.timedelta(minutes=5)
CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"


def certificate_pem(cert: x509.Certificate) -> bytes:
    """The certificate as PEM (``-----BEGIN CERTIFICATE-----``)."""
    return cert.public_bytes(serialization.Encoding.PEM)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _signing_hash(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _check_validity(validity: datetime.timedelta) -> None:
    if validity <= datetime.timedelta(0):
        raise InputError(f"validity {validity}: must be positive")


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(
        cls,
        common_name: str,
        validity: datetime.timedelta,
        *,
        algorithm: str = DEFAULT_ALGORITHM,
        key: PrivateKey | None = None,
        now: datetime.datetime | None = None,
    ) -> CertificateAuthority:
        """A new self-signed CA (``CN=kubernetes``, ``CN=etcd-ca``, ...)."""
        _check_validity(validity)
        key = key if key is not None else generate_private_key(algorithm)
        now = now or _utcnow()
        subject = build_subject(common_name)
        public = key.public_key()
        usages = CertificateUsages.for_profile(Profile.CA, public)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW_ALLOWANCE)
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usages.key_usage_extension(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        return cls(builder.sign(key, _signing_hash(key)), key)

    @classmethod
    def from_files(
        cls,
        cert_path: str | os.PathLike[str],
        key_path: str | os.PathLike[str],
        password: bytes | None = None,
        *,
        validate_key: bool = True,
    ) -> CertificateAuthority:
        """Load a CA; the certificate must say CA:TRUE and the key must be its key.

        ``validate_key=False`` skips the slow RSA consistency check, for keys this tool wrote.

        Raises:
            InputError: a file is missing or unreadable, or the pair is not a CA.
        """
        cert = load_certificate(cert_path)
        reason = not_a_ca_reason(cert)
        if reason:
            raise InputError(f"{cert_path}: not a CA certificate ({reason})")
        key = load_private_key(key_path, password, validate=validate_key)
        if not key_matches(cert, key):
            raise InputError(f"{key_path}: private key does not match {cert_path}")
        return cls(cert, key)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> CertificateAuthority:
        """Load ``ca.crt`` and ``ca.key`` from ``path``, or from ``path/pki`` if they are there.

        Raises:
            InputError: neither place holds a CA, or what is there is unusable.
        """
        base = Path(path)
        for candidate in (base, base / "pki"):
            if (candidate / CA_CERT_FILE).exists() or (candidate / CA_KEY_FILE).exists():
                return cls.from_files(candidate / CA_CERT_FILE, candidate / CA_KEY_FILE)
        if not base.is_dir():
            raise InputError(f"{base}: no such directory")
        raise InputError(f"{base}: no CA here (looked for ca.crt and ca.key in it and in its pki/)")

    @property
    def cert_pem(self) -> bytes:
        return certificate_pem(self.cert)

    @property
    def common_name(self) -> str:
        return common_name(self.cert.subject)

    def issue(
        self,
        public_key: PublicKey,
        subject: x509.Name,
        usages: Profile | CertificateUsages,
        validity: datetime.timedelta,
        *,
        alt_names: AltNames | None = None,
        now: datetime.datetime | None = None,
    ) -> x509.Certificate:
        """Issue a leaf certificate for ``public_key`` (see the module rules)."""
        _check_validity(validity)
        if isinstance(usages, Profile):
            if usages is Profile.CA:
                raise InputError("profile 'ca': this CA issues leaf certificates only")
            usages = CertificateUsages.for_profile(usages, public_key)
        now = now or _utcnow()
        not_after = min(now + validity, self.cert.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW_ALLOWANCE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if usages.key_usage:
            # With no bit asked for, no extension at all, as Go's x509 writes it: an empty
            # keyUsage is invalid and OpenSSL refuses the certificate.
            builder = builder.add_extension(usages.key_usage_extension(), critical=True)
        if usages.extended:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages.extended)), False)
        if alt_names:
            builder = builder.add_extension(alt_names.to_extension(), critical=False)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        ).add_extension(self._authority_key_identifier(), critical=False)
        return builder.sign(self.key, _signing_hash(self.key))

    def issue_client_certificate(
        self,
        public_key: PublicKey,
        common_name: str,
        organizations: Sequence[str],
        validity: datetime.timedelta,
    ) -> x509.Certificate:
        """A client certificate: CN is the Kubernetes user, each O one of its groups."""
        return self.issue(
            public_key, build_subject(common_name, organizations), Profile.CLIENT, validity
        )

    def sign_csr(
        self,
        csr: x509.CertificateSigningRequest,
        profile: Profile | CertificateUsages,
        validity: datetime.timedelta,
        *,
        source: str = "certificate signing request",
        now: datetime.datetime | None = None,
    ) -> x509.Certificate:
        """Sign a CSR with the usages of ``profile`` (or explicit Kubernetes usages).

        Raises:
            InputError: the request's signature does not verify, it has no subject, or its key
                type is not supported.
        """
        if not csr.is_signature_valid:
            raise InputError(
                f"{source}: its signature does not verify (altered, or signed by another key)"
            )
        if not common_name(csr.subject):
            raise InputError(f"{source}: the subject has no common name (CN)")
        public_key = as_supported_public_key(csr.public_key(), source)
        return self.issue(
            public_key, csr.subject, profile, validity, alt_names=AltNames.of(csr), now=now
        )

    def _authority_key_identifier(self) -> x509.AuthorityKeyIdentifier:
        try:
            ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            return x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key())
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
