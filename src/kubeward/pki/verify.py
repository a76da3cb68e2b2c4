"""Who signed what: signature checks and finding a certificate's issuer among known CAs.

A name is only a claim: anyone can write ``Issuer: CN=kubernetes`` into a certificate. So the
rules are:

 1. A certificate is *verified* by a CA only when the CA's public key verifies its signature
    (and the issuer name equals the CA's subject, as TLS chain building requires).
 2. A certificate whose issuer names a known CA but whose signature that CA's key does not
    verify has a *fake issuer* — the forged-certificate case the audit must catch.
 3. A certificate whose issuer names no known CA has its issuer *not found*; a certificate that
    verifies with its own key is *self-signed*.
 4. Old signatures (SHA-1, MD5) are still verified, so that the audit can report them as weak
    rather than as forged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from kubeward.pki.keys import PrivateKey, PublicKey, same_public_key


class IssuerStatus(enum.Enum):
    VERIFIED = "verified"
    SELF_SIGNED = "self-signed"
    FAKE_ISSUER = "fake-issuer"
    NOT_FOUND = "issuer-not-found"


@dataclass(frozen=True)
class IssuerMatch:
    """The outcome of looking for a certificate's issuer; ``issuer`` is set when verified."""

    status: IssuerStatus
    issuer: x509.Certificate | None = None


def signature_verifies(cert: x509.Certificate, signer: PublicKey | object) -> bool:
    """True when ``signer`` (a public key) verifies ``cert``'s signature, names aside."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return False
    data = cert.tbs_certificate_bytes
    try:
        if isinstance(signer, rsa.RSAPublicKey):
            if algorithm is None:
                return False
            pad = cert.signature_algorithm_parameters
            if not isinstance(pad, padding.PSS | padding.PKCS1v15):
                pad = padding.PKCS1v15()
            signer.verify(cert.signature, data, pad, algorithm)
        elif isinstance(signer, ec.EllipticCurvePublicKey):
            if algorithm is None:
                return False
            signer.verify(cert.signature, data, ec.ECDSA(algorithm))
        elif isinstance(signer, ed25519.Ed25519PublicKey):
            signer.verify(cert.signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and the certificate's own key verifies it."""
    return cert.subject == cert.issuer and signature_verifies(cert, cert.public_key())


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """``ca`` issued ``cert``: matching names and a signature ``ca``'s key verifies."""
    return cert.issuer == ca.subject and signature_verifies(cert, ca.public_key())


def find_issuer(cert: x509.Certificate, cas: Iterable[x509.Certificate]) -> IssuerMatch:
    """Which of ``cas`` verifies ``cert`` (see the module rules for the outcomes)."""
    named = False
    for ca in cas:
        if ca.subject != cert.issuer:
            continue
        if ca.fingerprint(hashes.SHA256()) == cert.fingerprint(hashes.SHA256()):
            continue
        named = True
        if signature_verifies(cert, ca.public_key()):
            return IssuerMatch(IssuerStatus.VERIFIED, ca)
    if is_self_signed(cert):
        return IssuerMatch(IssuerStatus.SELF_SIGNED, cert)
    return IssuerMatch(IssuerStatus.FAKE_ISSUER if named else IssuerStatus.NOT_FOUND)


def key_matches(cert: x509.Certificate | x509.CertificateSigningRequest, key: PrivateKey) -> bool:
    """True when ``key`` is the private half of the certificate's (or CSR's) public key."""
    return same_public_key(cert.public_key(), key)  # type: ignore[arg-type]


def signature_hash_name(cert: x509.Certificate) -> str:
    """``sha256``, ``sha1``, ``md5`` ... or ``ed25519`` / the OID name when no hash applies."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return cert.signature_algorithm_oid.dotted_string
    if algorithm is None:
        return cert.signature_algorithm_oid._name.lower()
    return algorithm.name
