"""``pki audit``: the certificate spreadsheet people fill in by hand, made and checked for them.

Every certificate found in a tree (files, kubeconfigs, the etcd folder) becomes a row: subject
CN and O, issuer, the CA in the tree that actually verifies it, SANs, validity, usages, key and
signature. Each problem becomes a :class:`Finding` with a severity and a one-line fix
(the rules themselves are in :mod:`kubeward.pki.audit_rules`). Policy:

 1. Severities: ``critical`` (broken or exploitable now: expired, forged issuer, mismatched
    key, a leaf that can mint certificates, a world-readable private key, MD5), ``error``
    (wrong and will bite: missing SAN or usage, weak key, SHA-1, etcd trusting the cluster CA,
    a node identity the Node authorizer rejects, system:masters outside super-admin.conf),
    ``warning`` (expiring within the window, unreadable files), ``info`` (worth knowing).
 2. The exit code is the worst severity: 0 clean or info only, 3 warning, 4 error, 5 critical
    (1 and 2 stay reserved for bad input and usage errors).
 3. The audit only reads. It never follows a path outside the tree except the kubeconfigs it was
    given and the files they reference.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from kubeward.pki.audit_files import file_findings
from kubeward.pki.audit_rules import certificate_findings
from kubeward.pki.findings import (
    EXIT_CODES,
    AuditOptions,
    Finding,
    Severity,
)
from kubeward.pki.inventory import FoundCertificate, Inventory, scan
from kubeward.pki.keys import describe_key
from kubeward.pki.names import AltNames, common_name, organizations
from kubeward.pki.profiles import extended_key_usages, is_ca, key_usages
from kubeward.pki.trust import TrustIndex
from kubeward.pki.verify import IssuerStatus, signature_hash_name


@dataclass(frozen=True)
class CertificateRow:
    """One line of the spreadsheet."""

    name: str
    source: str
    subject_cn: str
    subject_o: tuple[str, ...]
    issuer: str
    verified_by: str
    issuer_status: str
    sans: tuple[str, ...]
    not_before: datetime.datetime
    not_after: datetime.datetime
    is_ca: bool
    usages: tuple[str, ...]
    key: str
    signature: str
    fingerprint: str
    findings: tuple[Finding, ...] = ()

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "subject": {"commonName": self.subject_cn, "organizations": list(self.subject_o)},
            "issuer": self.issuer,
            "verifiedBy": self.verified_by,
            "issuerStatus": self.issuer_status,
            "subjectAltNames": list(self.sans),
            "notBefore": self.not_before.isoformat(),
            "notAfter": self.not_after.isoformat(),
            "isCA": self.is_ca,
            "usages": list(self.usages),
            "key": self.key,
            "signature": self.signature,
            "sha256Fingerprint": self.fingerprint,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class AuditReport:
    root: Path
    generated: datetime.datetime
    warn_window: datetime.timedelta
    rows: tuple[CertificateRow, ...]
    findings: tuple[Finding, ...]
    trust: tuple[tuple[str, str], ...] = field(default=())

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def exit_code(self) -> int:
        worst = self.worst
        return 0 if worst is None else EXIT_CODES[worst]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def to_dict(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "generatedAt": self.generated.isoformat(),
            "warnWindowSeconds": int(self.warn_window.total_seconds()),
            "summary": {s.label: self.count(s) for s in sorted(Severity, reverse=True)},
            "exitCode": self.exit_code,
            "certificates": [row.to_dict() for row in self.rows],
            "findings": [f.to_dict() for f in self.findings],
        }


def audit(
    root: str | os.PathLike[str],
    kubeconfigs: Iterable[str | os.PathLike[str]] = (),
    options: AuditOptions | None = None,
) -> AuditReport:
    """Scan ``root`` (and ``kubeconfigs``) and audit everything found."""
    return audit_inventory(scan(root, kubeconfigs), options or AuditOptions())


def audit_inventory(inventory: Inventory, options: AuditOptions) -> AuditReport:
    """Audit what :func:`kubeward.pki.inventory.scan` found."""
    now = options.now or datetime.datetime.now(datetime.UTC)
    index = TrustIndex.build(inventory)
    rows = []
    findings: list[Finding] = []
    for found in sorted(inventory.certificates, key=lambda c: c.name):
        own = certificate_findings(found, index, inventory, options, now)
        rows.append(_row(found, index, own))
        findings.extend(own)
    findings.extend(file_findings(inventory))
    findings.sort(key=lambda f: (-f.severity, f.subject, f.code))
    trust = tuple((found.name, index.verified_by_name(found)) for found in inventory.certificates)
    return AuditReport(
        inventory.root, now, options.warn_window, tuple(rows), tuple(findings), trust
    )


def _row(found: FoundCertificate, index: TrustIndex, findings: Sequence[Finding]) -> CertificateRow:
    cert = found.cert
    match = index.issuer_of(found)
    usages = tuple(key_usages(cert)) + tuple(extended_key_usages(cert))
    return CertificateRow(
        name=found.name,
        source=found.label,
        subject_cn=common_name(cert.subject),
        subject_o=organizations(cert.subject),
        issuer=common_name(cert.issuer) or cert.issuer.rfc4514_string(),
        verified_by=index.verified_by_name(found),
        issuer_status=match.status.value
        if match.status is not IssuerStatus.VERIFIED
        else "verified",
        sans=tuple(AltNames.of(cert).as_strings()),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca(cert),
        usages=usages,
        key=describe_key(cert.public_key()).label(),
        signature=signature_hash_name(cert),
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
        findings=tuple(sorted(findings, key=lambda f: -f.severity)),
    )
