"""Findings about NetworkPolicies that do not do what their author likely meant.

Every finding is judged against the inventory at hand (pods and namespaces come and go, so a
finding is "true today", not a proof). The checks:

 1. ``selects-no-pods``: the policy's ``podSelector`` matches no pod of its namespace, so it
    isolates nothing and allows nothing.
 2. ``namespace-selector-matches-nothing``: a peer's ``namespaceSelector`` matches no namespace,
    so the peer can never match.
 3. ``peer-matches-no-pods``: a peer's selectors match no pod (its namespaces exist, but hold no
    pod with those labels).
 4. ``named-port-undefined``: a named port that no pod it could apply to defines with that
    protocol: for an ingress rule the pods the policy selects, for an egress rule the pods its
    peers match (every pod when it has none). Such a port entry can never match.
 5. ``shadowed``: policy B is shadowed by policy A when both live in one namespace, A lists
    every policy type B lists, A selects every pod B selects, and for each of those pods and
    each of B's policy types every connection B's rules allow — with any pod of the inventory or
    any IP address, on any port and protocol — A's rules allow too. Removing B then changes no
    verdict: isolation stays (A isolates the same pods) and the union of allowed connections
    stays (B's part is inside A's). When A and B shadow each other, only the one that sorts
    later (namespace/name) is reported. Policies selecting no pod are reported by check 1 only.

Check 5 is exact over all IP addresses and ports, not a sample: addresses are tested at every
boundary of every ipBlock range (where membership can change) and ports at every boundary of
every numeric range and container port.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from kubeward.netpol.evaluator import CompiledPolicy, CompiledRule, Evaluator, bits
from kubeward.netpol.model import (
    EGRESS,
    INGRESS,
    PROTOCOLS,
    IPAddress,
    IPNetwork,
    Peer,
    Pod,
    PolicyPort,
)
from kubeward.netpol.words import namespaces_text, selector_text


@dataclass(frozen=True)
class Finding:
    code: str
    policy: str
    message: str
    path: str = ""
    origin: str = ""

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        at = f" {self.path}" if self.path else ""
        return f"{where}NetworkPolicy {self.policy}{at}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "policy": self.policy,
            "path": self.path,
            "message": self.message,
        }


def lint(evaluator: Evaluator) -> list[Finding]:
    """All findings, in policy order, then by check."""
    findings: list[Finding] = []
    for compiled in evaluator.policies:
        findings.extend(_selection_findings(evaluator, compiled))
    findings.extend(_shadow_findings(evaluator))
    order = {c.policy.key: n for n, c in enumerate(evaluator.policies)}
    findings.sort(key=lambda f: order[f.policy])
    return findings


def _finding(compiled: CompiledPolicy, code: str, message: str, path: str = "") -> Finding:
    return Finding(code, compiled.policy.key, message, path, compiled.policy.origin)


def _selection_findings(evaluator: Evaluator, compiled: CompiledPolicy) -> list[Finding]:
    policy = compiled.policy
    out = []
    if not compiled.selected:
        out.append(
            _finding(
                compiled,
                "selects-no-pods",
                f"podSelector ({selector_text(policy.pod_selector)}) matches no pod in "
                f"namespace {policy.namespace}",
                "spec.podSelector",
            )
        )
    for direction, key, peers_key in ((INGRESS, "ingress", "from"), (EGRESS, "egress", "to")):
        for rule in compiled.rules(direction):
            rule_path = f"spec.{key}[{rule.index}]"
            for peer in rule.peers:
                path = f"{rule_path}.{peers_key}[{peer.index}]"
                out.extend(_peer_findings(evaluator, compiled, peer.peer, peer.pods, path))
            out.extend(_named_port_findings(evaluator, compiled, direction, rule, rule_path))
    return out


def _peer_findings(
    evaluator: Evaluator, compiled: CompiledPolicy, peer: Peer, pods: int, path: str
) -> list[Finding]:
    if peer.ip_block is not None:
        return []
    selector = peer.namespace_selector
    if selector is not None and not evaluator.namespaces_matching(selector):
        return [
            _finding(
                compiled,
                "namespace-selector-matches-nothing",
                f"namespaceSelector ({selector_text(selector)}) matches no namespace, so this "
                "peer can never match",
                f"{path}.namespaceSelector",
            )
        ]
    if not pods:
        where = namespaces_text(selector, compiled.policy.namespace)
        if peer.pod_selector is None:
            message, at = f"there is no pod in {where}", f"{path}.namespaceSelector"
        else:
            message = f"podSelector ({selector_text(peer.pod_selector)}) matches no pod in {where}"
            at = f"{path}.podSelector"
        return [_finding(compiled, "peer-matches-no-pods", message, at)]
    return []


def _named_port_findings(
    evaluator: Evaluator,
    compiled: CompiledPolicy,
    direction: str,
    rule: CompiledRule,
    rule_path: str,
) -> list[Finding]:
    candidates = compiled.selected if direction == INGRESS else rule.pods
    pods = evaluator.pods_of(candidates)
    out = []
    for k, entry in enumerate(rule.rule.ports):
        if not isinstance(entry.port, str):
            continue
        if any(pod.named_port(entry.port, entry.protocol) for pod in pods):
            continue
        whose = (
            "the pods this policy selects" if direction == INGRESS else "the pods this rule reaches"
        )
        out.append(
            _finding(
                compiled,
                "named-port-undefined",
                f"no container port named {entry.port} ({entry.protocol}) on {whose}, so this "
                "port entry can never match",
                f"{rule_path}.ports[{k}]",
            )
        )
    return out


# --- shadowing -------------------------------------------------------------------------------


class _Universe:
    """Pods and one representative IP per ipBlock atom, as one bitmask space; port probes."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        networks: list[IPNetwork] = []
        numbers = {1}
        for compiled in evaluator.policies:
            policy = compiled.policy
            for rule in (*policy.ingress, *policy.egress):
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        networks.append(peer.ip_block.cidr)
                        networks.extend(peer.ip_block.excepts)
                for entry in rule.ports:
                    if isinstance(entry.port, int):
                        numbers.add(entry.port)
                        numbers.add((entry.end_port or entry.port) + 1)
        for pod in evaluator.pods:
            for port in pod.ports:
                numbers.update((port.number, port.number + 1))
        points: set[IPAddress] = {ipaddress.IPv4Address(0), ipaddress.IPv6Address(0)}
        for network in networks:
            points.add(network.network_address)
            after = int(network.broadcast_address) + 1
            if after < 2**network.max_prefixlen:
                points.add(
                    ipaddress.ip_address(after)
                    if network.version == 4
                    else ipaddress.IPv6Address(after)
                )
        points.update(e.ip for e in evaluator.inventory.externals)
        self.points = sorted(points, key=lambda ip: (ip.version, int(ip)))
        n = len(evaluator.pods)
        self.pod_count = n
        self.everything = (1 << (n + len(self.points))) - 1
        self.probes = [(p, proto) for proto in PROTOCOLS for p in sorted(numbers) if p <= 65535]
        self._peers: dict[tuple[str, str, int], int] = {}

    def peers(self, compiled: CompiledPolicy, direction: str, rule: CompiledRule) -> int:
        key = (compiled.policy.key, direction, rule.index)
        found = self._peers.get(key)
        if found is None:
            if rule.any_peer:
                found = self.everything
            else:
                found = rule.pods
                for peer in rule.peers:
                    block = peer.peer.ip_block
                    if block is None:
                        continue
                    for k, ip in enumerate(self.points):
                        if block.contains(ip):
                            found |= 1 << (self.pod_count + k)
            self._peers[key] = found
        return found

    def egress_targets(self, compiled: CompiledPolicy, probe: tuple[int, str]) -> int:
        out = 0
        for rule in compiled.egress:
            out |= self.peers(compiled, EGRESS, rule) & self._egress_ports(rule.rule.ports, probe)
        return out

    def _egress_ports(self, entries: tuple[PolicyPort, ...], probe: tuple[int, str]) -> int:
        if not entries:
            return self.everything
        number, protocol = probe
        mask = 0
        for entry in entries:
            if isinstance(entry.port, str):
                for j, pod in enumerate(self.evaluator.pods):
                    if entry.matches(number, protocol, pod):
                        mask |= 1 << j
            elif entry.matches(number, protocol, None):
                return self.everything
        return mask

    def ingress_sources(self, compiled: CompiledPolicy, pod: Pod, probe: tuple[int, str]) -> int:
        number, protocol = probe
        out = 0
        for rule in compiled.ingress:
            entries = rule.rule.ports
            if not entries or any(e.matches(number, protocol, pod) for e in entries):
                out |= self.peers(compiled, INGRESS, rule)
        return out


def _shadows(universe: _Universe, a: CompiledPolicy, b: CompiledPolicy) -> bool:
    """Whether ``a`` shadows ``b`` (check 5 of the module docstring)."""
    if a.policy.namespace != b.policy.namespace:
        return False
    if not set(b.policy.policy_types) <= set(a.policy.policy_types):
        return False
    if b.selected & ~a.selected:
        return False
    pods = universe.evaluator.pods
    for probe in universe.probes:
        if b.policy.affects(EGRESS) and (
            universe.egress_targets(b, probe) & ~universe.egress_targets(a, probe)
        ):
            return False
        if b.policy.affects(INGRESS):
            for i in bits(b.selected):
                pod = pods[i]
                if universe.ingress_sources(b, pod, probe) & ~universe.ingress_sources(
                    a, pod, probe
                ):
                    return False
    return True


def _shadow_findings(evaluator: Evaluator) -> list[Finding]:
    universe = _Universe(evaluator)
    by_namespace: dict[str, list[CompiledPolicy]] = {}
    for compiled in evaluator.policies:
        if compiled.selected:
            by_namespace.setdefault(compiled.policy.namespace, []).append(compiled)
    out = []
    for group in by_namespace.values():
        for b in group:
            for a in group:
                if a is b or not _shadows(universe, a, b):
                    continue
                mutual = _shadows(universe, b, a)
                if mutual and b.policy.key < a.policy.key:
                    continue
                same = "does the same as" if mutual else "is covered by"
                out.append(
                    _finding(
                        b,
                        "shadowed",
                        f"{same} {a.policy.key}: it selects no pod that {a.policy.key} does "
                        f"not, and allows nothing {a.policy.key} does not; removing it changes "
                        "no verdict",
                    )
                )
                break
    return out
