"""Client-certificate authentication: the chain the client sent, verified against --client-ca-file.

kube-apiserver asks for a client certificate in the TLS handshake but does not judge it there
(Go's ``RequestClientCert``); its x509 authenticator verifies the chain and answers 401 with a
logged reason. kubeward does the same (``server.tls`` makes Python's TLS layer accept any client
certificate), so that an expired or foreign certificate is a 401 and a log line that says why,
not a connection reset.

Rules:
 1. A path is built from the leaf, through the intermediates the client sent after it, to a
    certificate of ``--client-ca-file``: each link's issuer name must be the next subject and its
    signature must verify with the next key. An intermediate must be a CA (basicConstraints
    CA:TRUE). A CA of the file is trusted as it is — a v1 or extension-less self-signed root too,
    as the course's ``openssl x509 -req -signkey`` makes and as OpenSSL and Go accept.
 2. Signatures with SHA-1 or MD5 do not verify (Go refuses them). Every certificate of the path
    must be valid now, and every one that has an extended key usage must allow clientAuth (or
    anyExtendedKeyUsage): Go checks the whole chain so.
 3. The user is the leaf subject's CommonName; the groups are its Organization values, in order.
 4. A refusal is :class:`AuthenticationError` whose message (for the server log) is what Go's
    x509 package says, followed by the subject, issuer and validity of the certificate at fault.

Why not ``cryptography.x509.verification``: it refuses v1 certificates and CAs without
basicConstraints outright, which would refuse the course's own CA that kube-apiserver accepts.
Signature checks are the costly part and a chain's answer to them never changes, so the paths
found for a chain are cached; the time and usage checks run on every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import AuthenticationError

_MAX_INTERMEDIATES = 8
_INSECURE_HASHES = (hashes.SHA1, hashes.MD5)
_CACHE_LIMIT = 4096
UNKNOWN_AUTHORITY = "x509: certificate signed by unknown authority"
INCOMPATIBLE_USAGE = "x509: certificate specifies an incompatible key usage"


def describe(cert: x509.Certificate) -> str:
    """Subject, issuer and validity in one phrase, for a log line."""
    return (
        f'subject "{cert.subject.rfc4514_string()}", issuer "{cert.issuer.rfc4514_string()}", '
        f"valid {_when(cert.not_valid_before_utc)} to {_when(cert.not_valid_after_utc)}"
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _directly_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if isinstance(cert.signature_hash_algorithm, _INSECURE_HASHES):
        return False  # Go refuses them: "x509: cannot verify signature: insecure algorithm"
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _allows_client_auth(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return (
        ExtendedKeyUsageOID.CLIENT_AUTH in usages
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
    )


class _PathSearch:
    """Rule 1 for one chain: every path to a trusted CA, or why there is none."""

    def __init__(self, roots: Sequence[x509.Certificate], sent: Sequence[x509.Certificate]):
        self.roots = roots
        self.sent = [c for c in sent if c not in roots]
        self.paths: list[tuple[x509.Certificate, ...]] = []
        self.hints: list[str] = []

    def run(self, leaf: x509.Certificate) -> None:
        if leaf in self.roots:
            self.paths.append((leaf,))
            return
        self._extend((leaf,))

    def _extend(self, path: tuple[x509.Certificate, ...]) -> None:
        cert = path[-1]
        for root in self.roots:
            if root.subject != cert.issuer:
                continue
            if _directly_issued_by(cert, root):
                self.paths.append((*path, root))
            elif isinstance(cert.signature_hash_algorithm, _INSECURE_HASHES):
                self.hints.append(
                    f"signed with {cert.signature_hash_algorithm.name.upper()}, an insecure "
                    "algorithm that Kubernetes refuses"
                )
            else:
                self.hints.append(
                    f'a CA named "{root.subject.rfc4514_string()}" is trusted but did not sign '
                    "it: was the CA made again?"
                )
        if len(path) > _MAX_INTERMEDIATES:
            return
        for candidate in self.sent:
            if candidate in path or candidate.subject != cert.issuer:
                continue
            if not _directly_issued_by(cert, candidate):
                continue
            if not _is_ca(candidate):
                self.hints.append(
                    f'the intermediate "{candidate.subject.rfc4514_string()}" is not a CA '
                    "(no basicConstraints CA:TRUE)"
                )
                continue
            self._extend((*path, candidate))


class X509Authenticator:
    name = "x509"

    def __init__(self, client_cas: list[x509.Certificate]) -> None:
        self._cas = list(client_cas)
        self._searched: dict[tuple[x509.Certificate, ...], _PathSearch] = {}

    def _search(self, chain: tuple[x509.Certificate, ...]) -> _PathSearch:
        found = self._searched.get(chain)
        if found is None:
            if len(self._searched) >= _CACHE_LIMIT:
                self._searched.clear()
            found = _PathSearch(self._cas, chain[1:])
            found.run(chain[0])
            self._searched[chain] = found
        return found

    def verify(
        self, chain: Sequence[x509.Certificate], now: datetime | None = None
    ) -> tuple[x509.Certificate, ...]:
        """Rules 1 and 2: the verified path (leaf first, trusted CA last).

        Raises:
            AuthenticationError: no path verifies (rule 4 message).
        """
        leaf = chain[0]
        now = now or datetime.now(UTC)
        search = self._search(tuple(chain))
        if not search.paths:
            hint = f" ({'; '.join(dict.fromkeys(search.hints))})" if search.hints else ""
            raise AuthenticationError(f"{UNKNOWN_AUTHORITY}{hint}; {describe(leaf)}")
        failures: list[str] = []
        for path in search.paths:
            problem = _path_problem(path, now)
            if not problem:
                return path
            failures.append(problem)
        raise AuthenticationError(failures[0])

    def authenticate(self, request: AuthRequest) -> AuthResponse | None:
        if not request.peer_certificates:
            return None
        leaf = self.verify(request.peer_certificates)[0]
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names:
            raise AuthenticationError(f"x509: certificate has no common name; {describe(leaf)}")
        user = str(names[0].value)
        groups = tuple(
            str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        )
        return AuthResponse(UserInfo(name=user, groups=groups), self.name)


def _role(index: int, length: int) -> str:
    if index == 0:
        return ""
    return "the CA certificate: " if index == length - 1 else "the intermediate certificate: "


def _path_problem(path: tuple[x509.Certificate, ...], now: datetime) -> str:
    """Rule 2 for one path: Go's message and the certificate at fault, or ``""``."""
    for index, cert in enumerate(path):
        role = _role(index, len(path))
        if now > cert.not_valid_after_utc:
            return (
                "x509: certificate has expired or is not yet valid: current time "
                f"{_when(now)} is after {_when(cert.not_valid_after_utc)}; {role}{describe(cert)}"
            )
        if now < cert.not_valid_before_utc:
            return (
                "x509: certificate has expired or is not yet valid: current time "
                f"{_when(now)} is before {_when(cert.not_valid_before_utc)}; {role}{describe(cert)}"
            )
    for index, cert in enumerate(path):
        if not _allows_client_auth(cert):
            role = _role(index, len(path))
            return f"{INCOMPATIBLE_USAGE} (no clientAuth); {role}{describe(cert)}"
    return ""
