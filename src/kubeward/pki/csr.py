"""Certificate signing requests: ``openssl req -new -key K -subj "/CN=jane/O=dev"`` as a function.

Rules:
 1. The subject is O then CN (see :mod:`kubeward.pki.names`); SANs, when given, go into a
    requested subjectAltName extension, which :meth:`CertificateAuthority.sign_csr` copies.
 2. The request is signed with its own key (SHA-256, or Ed25519), proving possession of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kubeward.pki.keys import PrivateKey
from kubeward.pki.names import AltNames, build_subject


def build_csr(
    key: PrivateKey,
    common_name: str,
    organizations: Sequence[str] = (),
    alt_names: AltNames | None = None,
) -> x509.CertificateSigningRequest:
    """A CSR for ``key`` naming ``CN=common_name`` and ``O=`` each organization."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        build_subject(common_name, organizations)
    )
    if alt_names:
        builder = builder.add_extension(alt_names.to_extension(), critical=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def csr_pem(csr: x509.CertificateSigningRequest) -> bytes:
    """``-----BEGIN CERTIFICATE REQUEST-----`` PEM, as openssl writes it."""
    return csr.public_bytes(serialization.Encoding.PEM)
