"""Client-certificate authentication.

Rules:
 1. The TLS layer has already verified the chain against ``--client-ca-file`` (a certificate
    from another CA fails the handshake); this authenticator checks it again in full and refuses
    a certificate that is expired, not yet valid, not signed by the client CA, or whose extended
    key usage does not include clientAuth (a server-only certificate).
 2. The user is the subject's CommonName; the groups are its Organization values, in order.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthenticationError, AuthRequest, AuthResponse


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                padding.PKCS1v15(),
                cert.signature_hash_algorithm,
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(
                cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
            )
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except Exception:  # cryptography raises InvalidSignature and a few others; any means no
        return False
    return True


class X509Authenticator:
    name = "x509"

    def __init__(self, client_cas: list[x509.Certificate]) -> None:
        self._cas = client_cas
        # Signature checks are the costly part; a certificate's answer never changes.
        self._verified: dict[x509.Certificate, bool] = {}

    def _chains_to_a_client_ca(self, leaf: x509.Certificate) -> bool:
        known = self._verified.get(leaf)
        if known is None:
            if len(self._verified) >= 4096:
                self._verified.clear()
            known = self._verified[leaf] = any(_signed_by(leaf, ca) for ca in self._cas)
        return known

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        if not request.peer_certificates:
            return None
        leaf = request.peer_certificates[0]
        now = datetime.now(UTC)
        subject = leaf.subject.rfc4514_string()
        if leaf.not_valid_after_utc < now:
            raise AuthenticationError(f"x509: certificate {subject} has expired")
        if leaf.not_valid_before_utc > now:
            raise AuthenticationError(f"x509: certificate {subject} is not yet valid")
        if not self._chains_to_a_client_ca(leaf):
            raise AuthenticationError(f"x509: certificate {subject} is signed by unknown authority")
        try:
            eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = None
        if (
            eku is not None
            and ExtendedKeyUsageOID.CLIENT_AUTH not in eku
            and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
        ):
            raise AuthenticationError(
                f"x509: certificate {subject} specifies an incompatible key usage"
            )
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names:
            raise AuthenticationError(f"x509: certificate {subject} has no common name")
        user = str(names[0].value)
        groups = tuple(
            str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        )
        return AuthResponse(UserInfo(name=user, groups=groups), self.name)
