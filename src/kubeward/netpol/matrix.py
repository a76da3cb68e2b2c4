"""Truth tables: which pod may open a connection to which, for each probed port.

``matrix[i][j]`` says whether ``pods[i]`` may connect to ``pods[j]`` — the egress of ``i`` and
the ingress of ``j`` both allowed — as the upstream e2e suite's reachability matrix does.

Rules:

 1. Pods are listed by namespace, then name; ``namespaces`` narrows the rows and columns shown
    but never the policies or peers considered.
 2. A probe is a port number or a port name, and a protocol (TCP unless told). A named probe is
    resolved on each destination pod; a destination without that port refuses the connection.
 3. The whole table of one numeric port costs one :meth:`Evaluator.reachability` call; the
    per-cell explanations (for the HTML page) are asked only when wanted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubeward.api.validation.networking import check_port_name, check_port_number
from kubeward.errors import InputError
from kubeward.netpol.evaluator import Evaluator, Verdict
from kubeward.netpol.model import PROTOCOLS, TCP, Pod

_PROBE = re.compile(r"^(?P<port>[^/]+)(?:/(?P<protocol>[A-Za-z]+))?$")


@dataclass(frozen=True)
class Probe:
    port: int | str
    protocol: str = TCP

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol}"

    @staticmethod
    def parse(text: str) -> Probe:
        """Read ``80``, ``80/TCP``, ``53/udp`` or ``http/TCP``.

        Raises:
            InputError: not a port number, port name or known protocol.
        """
        match = _PROBE.match(text.strip())
        if match is None:
            raise InputError(f"--port {text!r}: want PORT or PORT/PROTOCOL, e.g. 80/TCP")
        protocol = (match["protocol"] or TCP).upper()
        if protocol not in PROTOCOLS:
            raise InputError(f"--port {text!r}: protocol must be TCP, UDP or SCTP")
        return Probe(parse_port(match["port"], f"--port {text!r}"), protocol)


def parse_port(text: str, what: str) -> int | str:
    """A port number (1–65535) or an IANA_SVC_NAME, as a NetworkPolicy port may be."""
    if text.isdigit():
        number = int(text)
        problems = check_port_number(number)
        if problems:
            raise InputError(f"{what}: {problems[0]}")
        return number
    problems = check_port_name(text)
    if problems:
        raise InputError(f"{what}: not a port number, and a port name {problems[0]}")
    return text


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    matrix: tuple[tuple[bool, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "port": self.probe.port,
            "protocol": self.probe.protocol,
            "matrix": [list(row) for row in self.matrix],
        }


@dataclass(frozen=True)
class TruthTable:
    pods: tuple[Pod, ...]
    probes: tuple[ProbeResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pods": [pod.key for pod in self.pods],
            "probes": [p.to_dict() for p in self.probes],
        }


def shown_pods(evaluator: Evaluator, namespaces: Iterable[str] = ()) -> tuple[Pod, ...]:
    """The pods a table shows (rule 1).

    Raises:
        InputError: a namespace asked for is not in the inventory.
    """
    wanted = set(namespaces)
    if not wanted:
        return evaluator.pods
    known = set(evaluator.inventory.namespaces_by_name) | {p.namespace for p in evaluator.pods}
    missing = sorted(wanted - known)
    if missing:
        raise InputError(f'-n {missing[0]}: namespace "{missing[0]}" not found in the input')
    return tuple(p for p in evaluator.pods if p.namespace in wanted)


def build_truth_table(
    evaluator: Evaluator, probes: Iterable[Probe], namespaces: Iterable[str] = ()
) -> TruthTable:
    pods = shown_pods(evaluator, namespaces)
    columns = [evaluator.index[p.key] for p in pods]
    width = len(evaluator.pods)
    results = []
    for probe in probes:
        rows = reachability(evaluator, probe)
        matrix = []
        for i in columns:
            # One string per row: bit j of the mask is character j once reversed.
            flags = format(rows[i], f"0{width}b")[::-1] if width else ""
            matrix.append(tuple(flags[j] == "1" for j in columns))
        results.append(ProbeResult(probe, tuple(matrix)))
    return TruthTable(pods, tuple(results))


def reachability(evaluator: Evaluator, probe: Probe) -> list[int]:
    """Row masks over all pods for one probe, named probes resolved per destination."""
    if isinstance(probe.port, int):
        return evaluator.reachability(probe.port, probe.protocol)
    by_number: dict[int, int] = {}
    for j, pod in enumerate(evaluator.pods):
        port = pod.named_port(probe.port, probe.protocol)
        if port is not None:
            by_number[port.number] = by_number.get(port.number, 0) | (1 << j)
    rows = [0] * len(evaluator.pods)
    for number, destinations in by_number.items():
        partial = evaluator.reachability(number, probe.protocol)
        for i in range(len(rows)):
            rows[i] |= partial[i] & destinations
    return rows


def resolve_port(destination: Pod | None, probe: Probe) -> int | None:
    """The number a probe reaches on a destination, or None when a named port is missing."""
    if isinstance(probe.port, int):
        return probe.port
    if destination is None:
        return None
    port = destination.named_port(probe.port, probe.protocol)
    return None if port is None else port.number


def explain_cell(
    evaluator: Evaluator, source: Pod, destination: Pod, probe: Probe
) -> Verdict | str:
    """The verdict behind one cell, or why the probe cannot even be aimed at the destination."""
    number = resolve_port(destination, probe)
    if number is None:
        return f"{destination.key} has no {probe.protocol} container port named {probe.port}"
    return evaluator.check(source, destination, number, probe.protocol)
