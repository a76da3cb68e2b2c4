"""The vocabulary of the audit: severities, findings, and what the audit checks against.

Kept apart from :mod:`kubeward.pki.audit` and :mod:`kubeward.pki.audit_rules` so that the rules
and the report share it without importing each other. The severity policy is documented in
:mod:`kubeward.pki.audit`.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

DEFAULT_WARN_WINDOW = datetime.timedelta(days=30)


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


EXIT_CODES = {Severity.INFO: 0, Severity.WARNING: 3, Severity.ERROR: 4, Severity.CRITICAL: 5}


@dataclass(frozen=True)
class Finding:
    """One problem: how bad, which rule, about what, what is wrong, and how to fix it."""

    severity: Severity
    code: str
    subject: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity.label,
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class AuditOptions:
    """What the audit checks against, besides the tree itself."""

    warn_window: datetime.timedelta = DEFAULT_WARN_WINDOW
    expected_apiserver_names: tuple[str, ...] = ()
    now: datetime.datetime | None = None
