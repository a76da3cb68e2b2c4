"""The audit as one self-contained HTML page: summary, problems, expiry timeline, trust tree.

Rules:
 1. One file, nothing external: CSS and SVG are inline, no scripts, no fonts, no images, no
    links to other hosts — it can be mailed, attached to a ticket, or opened offline.
 2. Everything from the certificates is HTML-escaped (a subject can contain ``<script>``).
 3. The timeline's axis runs from a little before the oldest leaf to a few years ahead; bars that
    run past the axis end in an arrow and say when they end, so a ten-year CA does not squash
    one-year leaves into slivers. "Now" and the warning window are drawn on it.
 4. Colours carry the severity, and so do words: every coloured mark also has a text label.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from html import escape

from kubeward.pki.audit import AuditReport, CertificateRow
from kubeward.pki.duration import short_human_duration
from kubeward.pki.findings import Severity

_COLOURS = {
    "critical": "#b3261e",
    "error": "#e8590c",
    "warning": "#d4a017",
    "info": "#1971c2",
    "ok": "#2b8a3e",
    "ca": "#5f3dc4",
}
_ROW_HEIGHT = 22
_LABEL_WIDTH = 230
_CHART_WIDTH = 760

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d1d9}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:0 0 10px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border-radius:8px;padding:10px 16px;color:#fff;min-width:110px}
.card b{display:block;font-size:26px}
.verdict{font-size:16px;font-weight:600;margin:12px 0 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:12.5px}
.sev{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px;font-weight:600}
.tree,.tree ul{list-style:none;margin:0;padding-left:22px}
.tree{padding-left:0}
.tree li{position:relative;padding:3px 0 3px 14px;border-left:2px solid #d0d7de}
.tree li::before{content:"";position:absolute;left:0;top:14px;width:10px;border-top:2px solid #d0d7de}
.tree .ca{font-weight:600;color:#5f3dc4}
.muted{color:#57606a}
svg text{font:12px system-ui,sans-serif}
"""


def render_html(report: AuditReport) -> str:
    """The whole page (see the module rules)."""
    title = f"PKI audit of {report.root}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f"<p>Generated {report.generated:%Y-%m-%d %H:%M} UTC by kubeward · "
        f"{len(report.rows)} certificates · warning window {short_human_duration(report.warn_window)}</p></header>",
        "<main>",
        _summary(report),
        _problems(report),
        _timeline(report),
        _trust_tree(report),
        _certificates(report),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _badge(label: str) -> str:
    colour = _COLOURS.get(label, "#57606a")
    return (
        f'<span class="sev sev-{escape(label)}" style="background:{colour}">{escape(label)}</span>'
    )


def _status(row: CertificateRow) -> str:
    worst = row.worst
    if worst is not None and worst is not Severity.INFO:
        return worst.label
    return "ca" if row.is_ca else "ok"


def _summary(report: AuditReport) -> str:
    cards = []
    for severity in sorted(Severity, reverse=True):
        colour = _COLOURS[severity.label]
        cards.append(
            f'<div class="card" data-severity="{severity.label}" style="background:{colour}">'
            f"<b>{report.count(severity)}</b>{severity.label}</div>"
        )
    worst = report.worst
    if worst is None:
        verdict = f"No problems found in {len(report.rows)} certificates."
    else:
        verdict = f"Worst problem: {worst.label} (exit code {report.exit_code})."
    return (
        '<section id="summary"><h2>Summary</h2><div class="cards">'
        + "".join(cards)
        + f'</div><p class="verdict">{escape(verdict)}</p></section>'
    )


def _problems(report: AuditReport) -> str:
    if not report.findings:
        return '<section id="problems"><h2>Problems</h2><p>None.</p></section>'
    rows = "".join(
        f'<tr data-code="{escape(f.code)}"><td>{_badge(f.severity.label)}</td><td>{escape(f.subject)}</td>'
        f"<td>{escape(f.message)}</td><td><code>{escape(f.fix)}</code></td></tr>"
        for f in report.findings
    )
    return (
        f'<section id="problems"><h2>Problems ({len(report.findings)})</h2><table>'
        "<thead><tr><th>Severity</th><th>Where</th><th>Problem</th><th>Fix</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _timeline(report: AuditReport) -> str:
    rows = sorted(report.rows, key=lambda r: (r.not_after, r.name))
    if not rows:
        return '<section id="timeline"><h2>Expiry timeline</h2><p>No certificates.</p></section>'
    now = report.generated
    leaves = [r for r in rows if not r.is_ca] or rows
    start = min(min(r.not_before for r in leaves), now - datetime.timedelta(days=30))
    start = max(start, now - datetime.timedelta(days=730))
    end = max(max(r.not_after for r in leaves), now + datetime.timedelta(days=400))
    end = min(end, now + datetime.timedelta(days=3 * 365))
    span = (end - start).total_seconds()

    def x(moment: datetime.datetime) -> float:
        ratio = (moment - start).total_seconds() / span
        return _LABEL_WIDTH + max(0.0, min(1.0, ratio)) * _CHART_WIDTH

    top = 28
    height = top + len(rows) * _ROW_HEIGHT + 10
    width = _LABEL_WIDTH + _CHART_WIDTH + 150
    out = [
        f'<svg id="timeline-chart" role="img" aria-label="Expiry timeline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    warn_end = now + report.warn_window
    out.append(
        f'<rect x="{x(now):.1f}" y="{top - 6}" width="{max(1.0, x(warn_end) - x(now)):.1f}" '
        f'height="{height - top}" fill="#fff3bf"><title>warning window</title></rect>'
    )
    out.extend(_ticks(start, end, x, top, height))
    for number, row in enumerate(rows):
        y = top + number * _ROW_HEIGHT
        status = _status(row)
        colour = _COLOURS[status]
        left, right = x(row.not_before), x(row.not_after)
        past_end = row.not_after > end
        out.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end">{escape(_clip(row.name))}</text>'
        )
        out.append(
            f'<rect class="bar" data-name="{escape(row.name)}" data-status="{status}" x="{left:.1f}" '
            f'y="{y + 3}" width="{max(2.0, right - left):.1f}" height="{_ROW_HEIGHT - 7}" rx="3" '
            f'fill="{colour}"><title>{escape(row.name)}: {row.not_before:%Y-%m-%d} → '
            f"{row.not_after:%Y-%m-%d} ({status})</title></rect>"
        )
        note = f"{row.not_after:%Y-%m-%d}" + (" →" if past_end else "")
        out.append(f'<text x="{right + 5:.1f}" y="{y + 14}" fill="#57606a">{escape(note)}</text>')
    out.append(
        f'<line x1="{x(now):.1f}" y1="{top - 10}" x2="{x(now):.1f}" y2="{height}" '
        'stroke="#1f2328" stroke-width="2" stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{x(now) + 4:.1f}" y="{top - 12}" font-weight="600">now</text>')
    out.append("</svg>")
    legend = " ".join(f"{_badge(label)}" for label in ("critical", "error", "warning", "ok", "ca"))
    return (
        '<section id="timeline"><h2>Expiry timeline</h2>'
        f'<p class="muted">Bars run from notBefore to notAfter; the shaded band is the warning window. {legend}</p>'
        f'<div style="overflow-x:auto">{"".join(out)}</div></section>'
    )


def _ticks(
    start: datetime.datetime,
    end: datetime.datetime,
    x: Callable[[datetime.datetime], float],
    top: int,
    height: int,
) -> list[str]:
    out = []
    year, month = start.year, (start.month - 1) // 3 * 3 + 1
    step_months = 3 if (end - start).days < 3 * 365 else 6
    while True:
        moment = datetime.datetime(year, month, 1, tzinfo=datetime.UTC)
        if moment > end:
            break
        if moment >= start:
            pos = x(moment)
            out.append(
                f'<line x1="{pos:.1f}" y1="{top - 6}" x2="{pos:.1f}" y2="{height}" stroke="#eaeef2"/>'
            )
            out.append(
                f'<text x="{pos + 2:.1f}" y="{top - 12}" fill="#57606a">{moment:%b %Y}</text>'
            )
        month += step_months
        while month > 12:
            month -= 12
            year += 1
    return out


def _clip(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _trust_tree(report: AuditReport) -> str:
    by_name = {row.name: row for row in report.rows}
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    orphans: list[str] = []
    for name, verified_by in report.trust:
        row = by_name.get(name)
        if row is None:
            continue
        if verified_by == "(self-signed)" or (row.is_ca and not verified_by):
            roots.append(name)
        elif verified_by:
            children.setdefault(verified_by, []).append(name)
        else:
            orphans.append(name)
    known = set(by_name)
    for parent in children:
        if parent not in known:
            roots.append(parent)

    def node(name: str, depth: int) -> str:
        row = by_name.get(name)
        if row is None:
            label = f'<span class="ca">{escape(name)}</span> <span class="muted">(CA embedded in a kubeconfig)</span>'
        else:
            kind = "ca" if row.is_ca or name in children else ""
            subject = f"CN={row.subject_cn}" + (
                f", O={','.join(row.subject_o)}" if row.subject_o else ""
            )
            label = (
                f'<span class="{kind}">{escape(name)}</span> <span class="muted">{escape(subject)}</span> '
                f"{_badge(_status(row))}"
            )
        kids = children.get(name, []) if depth < 8 else []
        inner = "".join(node(kid, depth + 1) for kid in kids if kid != name)
        return (
            f'<li data-name="{escape(name)}">{label}'
            + (f"<ul>{inner}</ul>" if inner else "")
            + "</li>"
        )

    body = "".join(node(root, 0) for root in dict.fromkeys(roots))
    if orphans:
        lost = "".join(node(name, 8) for name in orphans)
        body += (
            '<li class="orphans"><span class="ca" style="color:#b3261e">Verified by no CA in the tree</span>'
            f"<ul>{lost}</ul></li>"
        )
    return f'<section id="trust-tree"><h2>Trust tree</h2><ul class="tree">{body}</ul></section>'


def _certificates(report: AuditReport) -> str:
    rows = []
    for row in report.rows:
        status = _status(row)
        problems = "<br>".join(escape(f.message) for f in row.findings) or "—"
        rows.append(
            f'<tr data-name="{escape(row.name)}"><td>{_badge(status)}</td><td>{escape(row.name)}<br>'
            f'<span class="muted">{escape(row.source)}</span></td><td>{escape(row.subject_cn)}</td>'
            f"<td>{escape(', '.join(row.subject_o))}</td><td>{escape(row.issuer)}</td>"
            f"<td>{escape(row.verified_by or '—')}</td><td>{escape(', '.join(row.sans))}</td>"
            f"<td>{row.not_before:%Y-%m-%d}<br>{row.not_after:%Y-%m-%d}</td>"
            f"<td>{escape(', '.join(row.usages))}</td><td>{escape(row.key)}<br>{escape(row.signature)}</td>"
            f"<td>{problems}</td></tr>"
        )
    return (
        '<section id="certificates"><h2>Certificates</h2><div style="overflow-x:auto"><table>'
        "<thead><tr><th>Status</th><th>Certificate</th><th>CN</th><th>O</th><th>Issuer</th>"
        "<th>Verified by</th><th>SANs</th><th>Valid</th><th>Usages</th><th>Key / signature</th>"
        f"<th>Problems</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )
