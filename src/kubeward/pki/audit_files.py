"""The audit's rule about files rather than certificates (rule 13 of :mod:`.audit_rules`).

13. a private key (key file or kubeconfig with an embedded key) readable by others
    [critical] or by the group [error]; an unreadable certificate file [warning].
"""

from __future__ import annotations

from pathlib import Path

from kubeward.pki.findings import Finding, Severity
from kubeward.pki.inventory import Inventory


def file_findings(inventory: Inventory) -> list[Finding]:
    """Rule 13: private keys others can read, and files that could not be read."""
    out = []
    for secret in inventory.secret_files:
        shown = _shown(inventory, secret.path)
        if secret.mode & 0o007:
            out.append(
                Finding(
                    Severity.CRITICAL,
                    "key-readable-by-others",
                    shown,
                    f"private key file mode {secret.mode:04o}: readable by every user",
                    f"chmod 600 {secret.path}",
                )
            )
        elif secret.mode & 0o070:
            out.append(
                Finding(
                    Severity.ERROR,
                    "key-readable-by-group",
                    shown,
                    f"private key file mode {secret.mode:04o}: readable by its group",
                    f"chmod 600 {secret.path}",
                )
            )
    for bad in inventory.unreadable:
        out.append(
            Finding(
                Severity.WARNING,
                "unreadable",
                _shown(inventory, bad.path),
                bad.reason,
                "fix or remove the file",
            )
        )
    return out


def _shown(inventory: Inventory, path: Path) -> str:
    target = path
    return (
        str(target.relative_to(inventory.root))
        if target.is_relative_to(inventory.root)
        else str(target)
    )
