"""What a change of NetworkPolicies opens and closes: "what will this break?".

Two inventories (before, after) are compared connection by connection. Rules:

 1. Only pods present in both (same namespace/name) are compared; pods on one side only are
    listed, since their flows appear or vanish with the pod, not with a policy.
 2. The ports in play are every container port of a pod on either side, every port number
    named by a policy on either side (a range contributes both ends), and the ports asked for;
    with none of these, 80/TCP. Named policy ports resolve to container ports, so they are
    covered by the container ports.
 3. A flow is (source pod, destination pod, port, protocol). It is *opened* when the before
    inventory denies it and the after one allows it, *closed* in the opposite case; each comes
    with the verdict of the side that now decides it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubeward.netpol.evaluator import Evaluator, Verdict, bits
from kubeward.netpol.matrix import Probe
from kubeward.netpol.model import TCP, Inventory


@dataclass(frozen=True)
class FlowChange:
    source: str
    destination: str
    port: int
    protocol: str
    opened: bool
    verdict: Verdict

    @property
    def reason(self) -> str:
        """The after inventory's reason: what now allows (opened) or denies (closed) it."""
        sides = (self.verdict.egress, self.verdict.ingress)
        if self.opened:
            return "; ".join(s.reason for s in sides if s.applies and s.isolated_by) or (
                "no policy isolates either side any more"
            )
        return "; ".join(s.reason for s in sides if not s.allowed)

    def __str__(self) -> str:
        mark = "+" if self.opened else "-"
        return (
            f"{mark} {self.source} -> {self.destination} {self.port}/{self.protocol}: {self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.destination,
            "port": self.port,
            "protocol": self.protocol,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PolicyDiff:
    probes: tuple[Probe, ...]
    opened: tuple[FlowChange, ...]
    closed: tuple[FlowChange, ...]
    only_before: tuple[str, ...]
    only_after: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ports": [{"port": p.port, "protocol": p.protocol} for p in self.probes],
            "opened": [c.to_dict() for c in self.opened],
            "closed": [c.to_dict() for c in self.closed],
            "podsOnlyBefore": list(self.only_before),
            "podsOnlyAfter": list(self.only_after),
        }

    def to_text(self) -> str:
        ports = ", ".join(str(p) for p in self.probes)
        lines = [
            f"{len(self.opened)} flows opened, {len(self.closed)} closed (ports in play: {ports})"
        ]
        lines.extend(str(c) for c in self.opened)
        lines.extend(str(c) for c in self.closed)
        if self.only_before:
            lines.append(f"pods only before (not compared): {', '.join(self.only_before)}")
        if self.only_after:
            lines.append(f"pods only after (not compared): {', '.join(self.only_after)}")
        return "\n".join(lines)


def ports_in_play(inventories: Iterable[Inventory], extra: Iterable[Probe] = ()) -> list[Probe]:
    """Rule 2."""
    found: set[tuple[int, str]] = set()
    for inventory in inventories:
        for pod in inventory.pods:
            found.update((p.number, p.protocol) for p in pod.ports)
        for policy in inventory.policies:
            for rule in (*policy.ingress, *policy.egress):
                for entry in rule.ports:
                    if isinstance(entry.port, int):
                        found.add((entry.port, entry.protocol))
                        if entry.end_port is not None:
                            found.add((entry.end_port, entry.protocol))
    probes = {Probe(number, protocol) for number, protocol in found}
    probes.update(p for p in extra if isinstance(p.port, int))
    if not probes:
        probes.add(Probe(80, TCP))
    return sorted(probes, key=lambda p: (p.port, p.protocol))


def diff_inventories(
    before: Inventory,
    after: Inventory,
    extra: Iterable[Probe] = (),
    *,
    ip_block_matches_pods: bool = True,
) -> PolicyDiff:
    old = Evaluator(before, ip_block_matches_pods=ip_block_matches_pods)
    new = Evaluator(after, ip_block_matches_pods=ip_block_matches_pods)
    common = sorted(set(old.index) & set(new.index))
    probes = ports_in_play((before, after), extra)
    old_columns = [old.index[k] for k in common]
    new_columns = [new.index[k] for k in common]
    old_identity = old_columns == list(range(len(old.pods)))
    new_identity = new_columns == list(range(len(new.pods)))
    opened: list[FlowChange] = []
    closed: list[FlowChange] = []
    for probe in probes:
        assert isinstance(probe.port, int)
        old_rows = old.reachability(probe.port, probe.protocol)
        new_rows = new.reachability(probe.port, probe.protocol)
        for a, key in enumerate(common):
            was = _remap(old_rows[old_columns[a]], old_columns, old_identity)
            now = _remap(new_rows[new_columns[a]], new_columns, new_identity)
            for b in bits(was ^ now):
                source = new.pods[new_columns[a]]
                destination = new.pods[new_columns[b]]
                verdict = new.check(source, destination, probe.port, probe.protocol)
                change = FlowChange(
                    key, common[b], probe.port, probe.protocol, bool(now >> b & 1), verdict
                )
                (opened if change.opened else closed).append(change)
    return PolicyDiff(
        tuple(probes),
        tuple(opened),
        tuple(closed),
        tuple(sorted(set(old.index) - set(new.index))),
        tuple(sorted(set(new.index) - set(old.index))),
    )


def _remap(row: int, columns: list[int], identity: bool) -> int:
    """A row over one evaluator's pods, as a mask over the common pods' positions."""
    if identity:
        return row
    out = 0
    for position, index in enumerate(columns):
        if row >> index & 1:
            out |= 1 << position
    return out
