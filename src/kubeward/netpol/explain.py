"""What the NetworkPolicies mean for one pod, in plain words.

For each direction: whether the pod is isolated, by which policies, and what each rule of those
policies lets in (ingress) or out (egress), with the pods of the inventory each peer matches
today. Rules:

 1. Only policies that select the pod and name the direction in ``policyTypes`` are listed; a
    pod nobody isolates allows everything in that direction.
 2. A policy isolating the pod with no rule for the direction is shown as letting nothing
    through: it is a deny-all for that pod.
 3. Peers are listed with the pods they match now; ipBlock peers list the pods whose IP they
    contain when the evaluator matches ipBlocks against pod IPs (in a live cluster, the IPs
    the nodes gave running pods), and say which pods they cannot match: those without an IP
    (not yet running, or finished), or every pod when ipBlocks are not matched against pods.
    The pods an ipBlock peer matches are shown with their IPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.model import DIRECTIONS, Peer, Pod
from kubeward.netpol.words import peer_text, rule_text


@dataclass(frozen=True)
class PeerExplanation:
    index: int
    text: str
    pods: tuple[str, ...]
    note: str = ""
    ips: tuple[str, ...] = ()  # for an ipBlock peer: the IPs of ``pods`` it contains

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"peer": self.index, "text": self.text, "pods": list(self.pods)}
        if self.ips:
            out["ips"] = list(self.ips)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class RuleExplanation:
    index: int
    text: str
    peers: tuple[PeerExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.index, "text": self.text, "peers": [p.to_dict() for p in self.peers]}


@dataclass(frozen=True)
class PolicyExplanation:
    policy: str
    origin: str
    rules: tuple[RuleExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class DirectionExplanation:
    direction: str
    policies: tuple[PolicyExplanation, ...]

    @property
    def isolated(self) -> bool:
        return bool(self.policies)

    def to_dict(self) -> dict[str, Any]:
        return {"isolated": self.isolated, "policies": [p.to_dict() for p in self.policies]}


@dataclass(frozen=True)
class PodExplanation:
    pod: Pod
    directions: tuple[DirectionExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pod": self.pod.key}
        for direction in self.directions:
            out[direction.direction.lower()] = direction.to_dict()
        return out

    def to_text(self) -> str:
        pod = self.pod
        ip = str(pod.ip) if pod.ip is not None else "no IP"
        ports = ", ".join(str(p) for p in pod.ports) or "no container ports"
        lines = [f"Pod {pod.key} ({ip}; {ports})"]
        for direction in self.directions:
            lines.append("")
            lines.extend(_direction_lines(direction))
        return "\n".join(lines)


def _direction_lines(explained: DirectionExplanation) -> list[str]:
    word = explained.direction
    into = "in" if word == "Ingress" else "out"
    if not explained.isolated:
        return [
            f"{word}: not isolated. No NetworkPolicy selects this pod for {word.lower()}, "
            f"so every connection {into} is allowed."
        ]
    count = len(explained.policies)
    lines = [
        f"{word}: isolated by {count} {'policy' if count == 1 else 'policies'}. A connection "
        f"{into} is allowed only when one of these rules allows it:"
    ]
    for policy in explained.policies:
        origin = f" ({policy.origin})" if policy.origin else ""
        if not policy.rules:
            lines.append(f"  {policy.policy}{origin}: no {word.lower()} rules: lets nothing {into}")
            continue
        lines.append(f"  {policy.policy}{origin}:")
        for rule in policy.rules:
            lines.append(f"    rule {rule.index}: {rule.text}")
            for peer in rule.peers:
                named = (
                    [f"{pod} ({ip})" for pod, ip in zip(peer.pods, peer.ips, strict=True)]
                    if peer.ips
                    else list(peer.pods)
                )
                matched = ", ".join(named) if named else "no pod"
                note = f" ({peer.note})" if peer.note else ""
                lines.append(f"      peer {peer.index} ({peer.text}) matches now: {matched}{note}")
    return lines


def _ip_block_note(evaluator: Evaluator, peer: Peer) -> str:
    """Which pods an ipBlock peer cannot match, and why (rule 3)."""
    if peer.ip_block is None:
        return ""
    if not evaluator.ip_block_matches_pods:
        return "ipBlocks are not matched against pods here"
    without_ip = sum(1 for pod in evaluator.pods if pod.ip is None)
    if not without_ip:
        return ""
    if without_ip == len(evaluator.pods):
        return "no pod has an IP, and a pod without one never matches an ipBlock"
    pods = "pod has" if without_ip == 1 else "pods have"
    return f"{without_ip} {pods} no IP and cannot match it"


def explain_pod(evaluator: Evaluator, pod: Pod) -> PodExplanation:
    directions = []
    for direction in DIRECTIONS:
        policies = []
        for compiled in evaluator.isolating(pod, direction):
            policy = compiled.policy
            rules = tuple(
                RuleExplanation(
                    rule.index,
                    rule_text(rule.rule, direction, policy.namespace),
                    tuple(
                        PeerExplanation(
                            peer.index,
                            peer_text(peer.peer, policy.namespace),
                            tuple(p.key for p in evaluator.pods_of(peer.pods)),
                            _ip_block_note(evaluator, peer.peer),
                            tuple(
                                str(p.ip)
                                for p in evaluator.pods_of(peer.pods)
                                if peer.peer.ip_block is not None
                            ),
                        )
                        for peer in rule.peers
                    ),
                )
                for rule in compiled.rules(direction)
            )
            policies.append(PolicyExplanation(policy.key, policy.origin, rules))
        directions.append(DirectionExplanation(direction, tuple(policies)))
    return PodExplanation(pod, tuple(directions))
