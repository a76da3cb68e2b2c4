"""Truth tables and verdicts as text and JSON.

Rules:

 1. The text grid is the upstream e2e suite's ``TruthTable.PrettyPrint``: a header row ``-``
    followed by the destination pods, then one row per source pod, tab-separated, ``.`` for an
    allowed connection and ``X`` for a refused one. Each probe's grid is preceded by a line
    naming the probe (``80/TCP:``), and a legend saying how to read the grids follows them.
 2. JSON is exactly ``{"pods": [...], "probes": [{"port", "protocol", "matrix"}]}``, keys in
    that order, ``matrix[i][j]`` for ``pods[i]`` connecting to ``pods[j]``.
"""

from __future__ import annotations

import json
from typing import Any

from kubeward.netpol.evaluator import SideVerdict, Verdict
from kubeward.netpol.matrix import ProbeResult, TruthTable


def grid_text(pods: list[str], result: ProbeResult) -> str:
    """One probe's grid, as the e2e suite prints it (rule 1)."""
    lines = ["\t".join(["-", *pods])]
    for name, row in zip(pods, result.matrix, strict=True):
        lines.append("\t".join([name, *("." if cell else "X" for cell in row)]))
    return "\n".join(lines)


LEGEND = (
    "Legend: each row is a source pod, each column a destination pod; "
    "'.' = the connection is allowed, 'X' = it is denied."
)


def truth_table_text(table: TruthTable) -> str:
    pods = [pod.key for pod in table.pods]
    blocks = [f"{result.probe}:\n{grid_text(pods, result)}" for result in table.probes]
    return "\n\n".join([*blocks, LEGEND])


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2)


def truth_table_json(table: TruthTable) -> str:
    return to_json(table.to_dict())


def _with_ip(key: str, ip: str) -> str:
    """A pod with its IP (``prod/web (10.244.1.3)``), as the verdict's first line names it."""
    return f"{key} ({ip})" if ip else key


def _side_text(side: SideVerdict) -> str:
    state = "allowed" if side.allowed else "denied"
    return f"{side.direction.lower()} ({state}): {side.reason}"


def verdict_text(verdict: Verdict) -> str:
    state = "allowed" if verdict.allowed else "denied"
    source = _with_ip(verdict.source, verdict.source_ip)
    destination = _with_ip(verdict.destination, verdict.destination_ip)
    head = f"{state}: {source} -> {destination} on {verdict.port}/{verdict.protocol}"
    return "\n".join([head, f"  {_side_text(verdict.egress)}", f"  {_side_text(verdict.ingress)}"])


def verdict_json(verdict: Verdict) -> str:
    return to_json(verdict.to_dict())
