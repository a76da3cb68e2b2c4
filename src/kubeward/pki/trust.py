"""The trust structure of a tree: its CAs, and for every certificate the CA that verifies it.

Rules:
 1. The CA pool is every CA:TRUE or self-signed certificate found in files, plus every CA a
    kubeconfig trusts (``certificate-authority-data``), each once (by SHA-256 fingerprint).
 2. A CA is named by the file it came from (``ca``, ``etcd-ca``), or ``<kubeconfig> CA``.
 3. The cluster CA is the one named ``ca``; failing that, the one that verifies the API server
    certificate; failing that, the one with ``CN=kubernetes``.
 4. Issuer lookups are cached by certificate fingerprint, so an audit verifies each signature once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kubeward.pki import names
from kubeward.pki.inventory import FoundCertificate, Inventory
from kubeward.pki.names import common_name
from kubeward.pki.profiles import claims_ca, is_ca
from kubeward.pki.verify import IssuerMatch, IssuerStatus, find_issuer, is_self_signed


def fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


@dataclass
class TrustIndex:
    """The CAs of a tree and, per certificate, which of them verifies it."""

    cas: list[tuple[str, x509.Certificate]] = field(default_factory=list)
    matches: dict[bytes, IssuerMatch] = field(default_factory=dict)
    ca_names: dict[bytes, str] = field(default_factory=dict)
    cluster_ca: bytes = b""
    issuer_of_cert: dict[bytes, bool] = field(default_factory=dict)

    @classmethod
    def build(cls, inventory: Inventory) -> TrustIndex:
        index = cls()
        for found in inventory.certificates:
            if found.kubeconfig is None and (
                claims_ca(found.cert) or is_ca(found.cert) or is_self_signed(found.cert)
            ):
                index._add(found.name, found.cert)
        for creds in inventory.kubeconfigs:
            for cluster in creds.clusters:
                for cert in cluster.ca_certs:
                    index._add(f"{creds.path.name} CA", cert)
        for found in inventory.certificates:
            match = index.issuer_of(found)
            if match.issuer is not None and match.status is IssuerStatus.VERIFIED:
                index.issuer_of_cert[fingerprint(match.issuer)] = True
        index.cluster_ca = index._find_cluster_ca(inventory)
        return index

    def _add(self, name: str, cert: x509.Certificate) -> None:
        key = fingerprint(cert)
        if key not in self.ca_names:
            self.ca_names[key] = name
            self.cas.append((name, cert))

    def _find_cluster_ca(self, inventory: Inventory) -> bytes:
        for name, cert in self.cas:
            if name == "ca":
                return fingerprint(cert)
        apiserver = inventory.by_name("apiserver")
        if apiserver is not None:
            match = self.issuer_of(apiserver)
            if match.issuer is not None and match.status is IssuerStatus.VERIFIED:
                return fingerprint(match.issuer)
        for _, cert in self.cas:
            if common_name(cert.subject) == names.CLUSTER_CA_COMMON_NAME:
                return fingerprint(cert)
        return b""

    def issuer_of(self, found: FoundCertificate) -> IssuerMatch:
        key = fingerprint(found.cert)
        if key not in self.matches:
            self.matches[key] = find_issuer(found.cert, (cert for _, cert in self.cas))
        return self.matches[key]

    def verified_by_name(self, found: FoundCertificate) -> str:
        match = self.issuer_of(found)
        if match.issuer is None:
            return ""
        if match.status is IssuerStatus.SELF_SIGNED:
            return "(self-signed)"
        return self.ca_names.get(fingerprint(match.issuer), common_name(match.issuer.subject))

    def acts_as_ca(self, found: FoundCertificate) -> bool:
        """CA:TRUE, a CA for OpenSSL, or it signed something in the tree."""
        return (
            claims_ca(found.cert)
            or is_ca(found.cert)
            or self.issuer_of_cert.get(fingerprint(found.cert), False)
        )
