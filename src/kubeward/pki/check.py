"""``pki check``: ``kubeadm certs check-expiration`` for a kubeward or kubeadm directory.

Rules:
 1. The table lists kubeadm's certificates (``!MISSING!`` when absent), every other leaf found
    under ``pki/`` (kubelet serving certificates, further etcd members) and the client
    certificate of every kubeconfig in the directory, then the certificate authorities.
 2. Columns and formats are kubeadm's: ``Jan 02, 2006 15:04 UTC`` dates, ``364d``/``9y`` residual
    times, the CA that signed each certificate, and EXTERNALLY MANAGED = the CA key is absent.
 3. ``-o json|yaml`` is kubeadm's ``CertificateExpirationInfo`` (output.kubeadm.k8s.io/v1alpha3).
 4. With a warning window, the status is 3 when something expires within it and 4 when something
    is expired, not yet valid or missing; without one it is always 0, as with kubeadm.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from kubeward.errors import InputError
from kubeward.pki.duration import short_human_duration
from kubeward.pki.inventory import FoundCertificate, scan
from kubeward.pki.layout import CERTIFICATE_AUTHORITIES, expected_ca_name, key_path
from kubeward.pki.profiles import is_ca
from kubeward.pki.textable import render_table
from kubeward.pki.verify import signed_by

KUBEADM_CERTIFICATES = (
    "admin.conf",
    "apiserver",
    "apiserver-etcd-client",
    "apiserver-kubelet-client",
    "controller-manager.conf",
    "etcd-healthcheck-client",
    "etcd-peer",
    "etcd-server",
    "front-proxy-client",
    "scheduler.conf",
    "super-admin.conf",
)
STATUS_OK, STATUS_WARNING, STATUS_EXPIRED = 0, 3, 4


@dataclass(frozen=True)
class ExpirationInfo:
    """One line of the table."""

    name: str
    expires: datetime.datetime | None
    not_before: datetime.datetime | None
    ca_name: str
    externally_managed: bool

    @property
    def missing(self) -> bool:
        return self.expires is None

    def to_dict(self, now: datetime.datetime) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name}
        if self.expires is not None:
            out["expirationDate"] = self.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
            out["residualTime"] = int((self.expires - now).total_seconds())
        else:
            out["expirationDate"] = None
            out["residualTime"] = 0
        out["externallyManaged"] = self.externally_managed
        if self.ca_name:
            out["caName"] = self.ca_name
        out["missing"] = self.missing
        return out


@dataclass(frozen=True)
class ExpirationReport:
    generated: datetime.datetime
    certificates: tuple[ExpirationInfo, ...]
    authorities: tuple[ExpirationInfo, ...]

    def status(self, warn: datetime.timedelta | None) -> int:
        """Rule 4."""
        if warn is None:
            return STATUS_OK
        worst = STATUS_OK
        for info in (*self.certificates, *self.authorities):
            if info.expires is None or info.expires <= self.generated:
                return STATUS_EXPIRED
            if info.not_before is not None and info.not_before > self.generated:
                return STATUS_EXPIRED
            if info.expires - self.generated <= warn:
                worst = STATUS_WARNING
        return worst

    def to_dict(self) -> dict[str, object]:
        """Rule 3."""
        return {
            "kind": "CertificateExpirationInfo",
            "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
            "certificates": [c.to_dict(self.generated) for c in self.certificates],
            "certificateAuthorities": [c.to_dict(self.generated) for c in self.authorities],
        }


def check_expiration(
    directory: str | os.PathLike[str], now: datetime.datetime | None = None
) -> ExpirationReport:
    """Read every certificate of the PKI in ``directory`` (the one holding ``pki/``).

    Raises:
        InputError: the directory holds no PKI, or a certificate file is unreadable.
    """
    root = Path(directory)
    pki = root / "pki"
    if not (pki / "ca.crt").exists():
        if (root / "ca.crt").exists():
            pki = root
        else:
            raise InputError(f"{root}: no PKI here (no pki/ca.crt)")
    now = now or datetime.datetime.now(datetime.UTC)
    inventory = scan(root)
    if inventory.unreadable:
        bad = inventory.unreadable[0]
        raise InputError(bad.reason)
    cas: dict[str, x509.Certificate] = {}
    leaves: list[FoundCertificate] = []
    for found in inventory.certificates:
        if "#" in found.name or (found.kubeconfig is not None and not found.kubeconfig.current):
            continue
        if found.kubeconfig is None and is_ca(found.cert):
            cas[found.name] = found.cert
        elif found.kubeconfig is not None and found.path.parent != root:
            continue
        else:
            leaves.append(found)
    managed = {ca.name: not key_path(pki, ca.base).exists() for ca in CERTIFICATE_AUTHORITIES}
    certificates = {found.name: _leaf_info(found, cas, managed) for found in leaves}
    for name in KUBEADM_CERTIFICATES:
        certificates.setdefault(
            name, ExpirationInfo(name, None, None, expected_ca_name(name), False)
        )
    authorities = [
        ExpirationInfo(
            name, cert.not_valid_after_utc, cert.not_valid_before_utc, "", managed.get(name, False)
        )
        for name, cert in sorted(cas.items())
    ]
    return ExpirationReport(
        now, tuple(certificates[n] for n in sorted(certificates)), tuple(authorities)
    )


def _leaf_info(
    found: FoundCertificate, cas: dict[str, x509.Certificate], managed: dict[str, bool]
) -> ExpirationInfo:
    ca_name = next((name for name, ca in cas.items() if signed_by(found.cert, ca)), "")
    if not ca_name:
        ca_name = expected_ca_name(found.name)
    cert = found.cert
    return ExpirationInfo(
        found.name,
        cert.not_valid_after_utc,
        cert.not_valid_before_utc,
        ca_name,
        managed.get(ca_name, False),
    )


def residual_time(left: datetime.timedelta) -> str:
    """Rule 2: ``364d`` while valid, ``expired 3 days ago`` once past the expiry."""
    if left >= datetime.timedelta(0):
        return short_human_duration(left)
    ago = -left
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = int(ago.total_seconds()) // size
        if count:
            return f"expired {count} {unit}{'s' if count != 1 else ''} ago"
    return "expired just now"


def _when(moment: datetime.datetime) -> str:
    return moment.strftime("%b %d, %Y %H:%M UTC")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def render_text(report: ExpirationReport) -> str:
    """Rule 2: the two tables of ``kubeadm certs check-expiration``."""
    rows = []
    for info in report.certificates:
        if info.expires is None:
            rows.append([f"!MISSING! {info.name}", "", "", "", ""])
            continue
        residual = residual_time(info.expires - report.generated)
        rows.append(
            [info.name, _when(info.expires), residual, info.ca_name, _yes(info.externally_managed)]
        )
    first = render_table(
        ["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"],
        rows,
    )
    ca_rows = [
        [
            info.name,
            _when(info.expires) if info.expires else "",
            residual_time(info.expires - report.generated) if info.expires else "",
            _yes(info.externally_managed),
        ]
        for info in report.authorities
    ]
    second = render_table(
        ["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"], ca_rows
    )
    return first + "\n" + second
