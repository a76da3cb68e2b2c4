"""Audit reports as text for a terminal, CSV for a spreadsheet, and JSON for programs.

Rules:
 1. The table has one line per certificate and, below it, one line per problem with its fix,
    worst first; a clean audit says so in one line.
 2. The CSV has one row per certificate with every column of the spreadsheet (SANs and problems
    joined with ``; ``), so that it opens in any spreadsheet program as the table people used to
    fill in by hand.
 3. JSON is :meth:`AuditReport.to_dict`, stable keys in camelCase as Kubernetes writes them.
"""

from __future__ import annotations

import csv
import io
import json

from kubeward.pki.audit import AuditReport
from kubeward.pki.duration import short_human_duration
from kubeward.pki.textable import render_table


def render_text(report: AuditReport) -> str:
    """The terminal table (rule 1)."""
    rows = []
    for row in report.rows:
        residual = short_human_duration(row.not_after - report.generated)
        worst = row.worst
        rows.append(
            [
                row.name,
                row.subject_cn,
                ",".join(row.subject_o) or "-",
                row.issuer,
                row.verified_by or "-",
                f"{row.not_after:%Y-%m-%d}",
                residual,
                row.key,
                worst.label.upper() if worst is not None else "ok",
            ]
        )
    headers = [
        "CERTIFICATE",
        "CN",
        "O",
        "ISSUER",
        "VERIFIED BY",
        "EXPIRES",
        "RESIDUAL",
        "KEY",
        "STATUS",
    ]
    out = [render_table(headers, rows)]
    if not report.findings:
        out.append(f"\nNo problems found in {len(report.rows)} certificates.\n")
        return "".join(out)
    problems = [[f.severity.label.upper(), f.subject, f.message, f.fix] for f in report.findings]
    out.append("\n")
    out.append(render_table(["SEVERITY", "WHERE", "PROBLEM", "FIX"], problems))
    summary = ", ".join(
        f"{report.count(s)} {s.label}"
        for s in sorted(set(f.severity for f in report.findings), reverse=True)
    )
    out.append(
        f"\n{len(report.findings)} problems ({summary}) in {len(report.rows)} certificates.\n"
    )
    return "".join(out)


CSV_COLUMNS = [
    "certificate",
    "source",
    "subject CN",
    "subject O",
    "issuer",
    "verified by",
    "SANs",
    "not before",
    "not after",
    "CA",
    "usages",
    "key",
    "signature",
    "SHA-256 fingerprint",
    "worst severity",
    "problems",
    "fixes",
]


def render_csv(report: AuditReport) -> str:
    """The spreadsheet (rule 2)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        worst = row.worst
        writer.writerow(
            [
                row.name,
                row.source,
                row.subject_cn,
                "; ".join(row.subject_o),
                row.issuer,
                row.verified_by,
                "; ".join(row.sans),
                row.not_before.isoformat(),
                row.not_after.isoformat(),
                "yes" if row.is_ca else "no",
                "; ".join(row.usages),
                row.key,
                row.signature,
                row.fingerprint,
                worst.label if worst is not None else "",
                "; ".join(f"{f.severity.label}: {f.message}" for f in row.findings),
                "; ".join(f.fix for f in row.findings),
            ]
        )
    return buffer.getvalue()


def render_json(report: AuditReport) -> str:
    """Rule 3."""
    return json.dumps(report.to_dict(), indent=2) + "\n"
