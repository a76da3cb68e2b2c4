"""The verdict of a set of NetworkPolicies on one connection, and the reason on both sides.

A connection from a source to a destination on a port and protocol is allowed when its egress
side and its ingress side are both allowed. The rules, as the Kubernetes documentation states
them:

 1. Isolation is per direction. A pod is isolated for egress when some NetworkPolicy in its
    namespace selects it and lists ``Egress`` in ``policyTypes``; for ingress likewise. A pod
    nobody isolates for a direction allows everything in that direction.
 2. Policies are additive allow-lists: an isolated pod allows exactly the union of what the
    rules of the policies isolating it allow. Order never matters and nothing denies.
 3. An empty ``podSelector`` selects every pod of the policy's namespace. A policy with
    ``policyTypes`` naming a direction but no rule for it denies everything in that direction.
 4. Within a rule, traffic must match one peer and one port; a rule without peers matches every
    peer, a rule without ports every port.
 5. A peer's ``podSelector`` alone means pods of the policy's namespace; ``namespaceSelector``
    alone means every pod of the matching namespaces; both in one peer are ANDed; separate peers
    are ORed.
 6. Named ports are resolved on the destination pod's container ports, for ingress and for
    egress rules alike; an endpoint outside the cluster has no named ports.
 7. ``ipBlock`` matches IPs in ``cidr`` outside every ``except``. Upstream says ipBlock is meant
    for cluster-external IPs and leaves pod IPs implementation-defined; like Calico and the
    iptables-based plugins we also match pod IPs (``ip_block_matches_pods=False`` gives Cilium's
    behaviour, where pods are reached only through selectors). A pod without an IP (not yet
    running, or finished) matches no ipBlock. When a side is denied and an ipBlock of the isolating policies passed over the
    peer pod for either reason, the verdict carries a note saying so.
 8. Traffic from an IP outside the cluster to a pod is judged on the ingress side only; traffic
    from a pod to an IP outside the cluster on the egress side only.
 9. A pod talking to itself is judged like any other pair, as the upstream e2e truth tables do.
    Traffic from the pod's own node, which Kubernetes always allows, is not modelled.

Speed: every selector is matched once per (selector, namespace) and kept as a bitmask over the
pods; a policy keeps the mask of the pods it selects and each rule the mask of its peer pods.
Answering a connection is then bit tests; :meth:`Evaluator.reachability` answers all pairs of
one port at once with a handful of integer operations per rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.netpol.model import (
    EGRESS,
    INGRESS,
    Endpoint,
    ExternalEndpoint,
    Inventory,
    Namespace,
    NetworkPolicy,
    Peer,
    Pod,
    Rule,
)


@dataclass(frozen=True)
class RuleMatch:
    """A rule that lets a connection through: which policy, rule, peer and port entry.

    ``peer`` is None when the rule has no peers (every peer), ``port`` when it has no ports.
    """

    policy: str
    direction: str
    rule: int
    peer: int | None
    port: int | None

    def __str__(self) -> str:
        peer = "any peer" if self.peer is None else f"peer {self.peer}"
        port = "any port" if self.port is None else f"port {self.port}"
        return f"{self.policy} {self.direction.lower()} rule {self.rule} ({peer}, {port})"

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "rule": self.rule, "peer": self.peer, "port": self.port}


@dataclass(frozen=True)
class SideVerdict:
    """One side of a connection: the source's egress or the destination's ingress."""

    direction: str
    endpoint: str
    peer: str
    port: int
    protocol: str
    applies: bool
    isolated_by: tuple[str, ...] = ()
    allowed_by: tuple[RuleMatch, ...] = ()
    notes: tuple[str, ...] = ()  # why an ipBlock could not match the peer pod (rule 7)

    @property
    def allowed(self) -> bool:
        return not self.applies or not self.isolated_by or bool(self.allowed_by)

    @property
    def reason(self) -> str:
        word = self.direction.lower()
        if not self.applies:
            where = "source" if self.direction == EGRESS else "destination"
            return f"the {where} {self.endpoint} is outside the cluster: no {word} policy applies"
        if not self.isolated_by:
            return f"no NetworkPolicy selects {self.endpoint} for {word}: all {word} is allowed"
        isolated = f"{self.endpoint} is isolated for {word} by {', '.join(self.isolated_by)}"
        if self.allowed_by:
            return f"{isolated}; allowed by {'; '.join(str(m) for m in self.allowed_by)}"
        other = "to" if self.direction == EGRESS else "from"
        return (
            f"{isolated}, and no {word} rule of theirs allows traffic {other} {self.peer} "
            f"on {self.port}/{self.protocol}{self._noted}"
        )

    @property
    def _noted(self) -> str:
        return "".join(f"; {note}" for note in self.notes)

    @property
    def summary(self) -> str:
        """The reason without naming the endpoints: the same for many connections."""
        word = self.direction.lower()
        if not self.applies:
            return f"outside the cluster: no {word} policy applies"
        if not self.isolated_by:
            return f"not isolated for {word}: all {word} allowed"
        isolated = f"isolated for {word} by {', '.join(self.isolated_by)}"
        if self.allowed_by:
            return f"{isolated}; allowed by {'; '.join(str(m) for m in self.allowed_by)}"
        return f"{isolated}; no {word} rule of theirs matches{self._noted}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "allowed": self.allowed,
            "applies": self.applies,
            "isolatedBy": list(self.isolated_by),
            "allowedBy": [m.to_dict() for m in self.allowed_by],
            "reason": self.reason,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class Verdict:
    source: str
    destination: str
    port: int
    protocol: str
    egress: SideVerdict
    ingress: SideVerdict
    source_ip: str = ""  # the source pod's IP, when it has one
    destination_ip: str = ""

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed": self.allowed}
        if self.source_ip:
            out["sourceIP"] = self.source_ip
        if self.destination_ip:
            out["destinationIP"] = self.destination_ip
        out["egress"] = self.egress.to_dict()
        out["ingress"] = self.ingress.to_dict()
        return out


@dataclass(frozen=True)
class CompiledPeer:
    index: int
    peer: Peer
    pods: int  # bitmask over Evaluator.pods


@dataclass(frozen=True)
class CompiledRule:
    index: int
    rule: Rule
    peers: tuple[CompiledPeer, ...]
    pods: int  # union of the peers' masks; every pod when the rule has no peers

    @property
    def any_peer(self) -> bool:
        return not self.peers


@dataclass(frozen=True)
class CompiledPolicy:
    policy: NetworkPolicy
    selected: int
    ingress: tuple[CompiledRule, ...]
    egress: tuple[CompiledRule, ...]

    def rules(self, direction: str) -> tuple[CompiledRule, ...]:
        return self.ingress if direction == INGRESS else self.egress


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Evaluator:
    """Answers connections over one :class:`Inventory`; build once, ask many times."""

    def __init__(self, inventory: Inventory, *, ip_block_matches_pods: bool = True) -> None:
        self.inventory = inventory
        self.ip_block_matches_pods = ip_block_matches_pods
        self.pods: tuple[Pod, ...] = inventory.pods
        self.all_pods = (1 << len(self.pods)) - 1
        self.index: dict[str, int] = {pod.key: i for i, pod in enumerate(self.pods)}
        self._namespace_labels = {ns.name: ns.labels for ns in inventory.namespaces}
        self._namespace_pods: dict[str, int] = {}
        for i, pod in enumerate(self.pods):
            self._namespace_pods[pod.namespace] = self._namespace_pods.get(pod.namespace, 0) | (
                1 << i
            )
            self._namespace_labels.setdefault(
                pod.namespace, Namespace.with_name_label(pod.namespace).labels
            )
        self._pod_matches: dict[tuple[LabelSelector, str], int] = {}
        self._namespace_matches: dict[LabelSelector, tuple[str, ...]] = {}
        self.policies = tuple(self._compile(p) for p in inventory.policies)
        self._isolating: dict[str, list[list[CompiledPolicy]]] = {
            INGRESS: [[] for _ in self.pods],
            EGRESS: [[] for _ in self.pods],
        }
        self.isolated: dict[str, int] = {INGRESS: 0, EGRESS: 0}
        for compiled in self.policies:
            for direction in (INGRESS, EGRESS):
                if compiled.policy.affects(direction):
                    self.isolated[direction] |= compiled.selected
                    for i in bits(compiled.selected):
                        self._isolating[direction][i].append(compiled)

    # --- selectors, matched once --------------------------------------------------------------

    def pods_matching(self, selector: LabelSelector, namespace: str) -> int:
        """Mask of the pods of ``namespace`` that ``selector`` selects (cached)."""
        key = (selector, namespace)
        found = self._pod_matches.get(key)
        if found is None:
            members = self._namespace_pods.get(namespace, 0)
            if selector.empty:
                found = members
            else:
                found = 0
                for i in bits(members):
                    if selector.matches(self.pods[i].labels):
                        found |= 1 << i
            self._pod_matches[key] = found
        return found

    def namespaces_matching(self, selector: LabelSelector) -> tuple[str, ...]:
        """Names of the namespaces whose labels ``selector`` matches (cached)."""
        found = self._namespace_matches.get(selector)
        if found is None:
            found = tuple(
                sorted(
                    name
                    for name, labels in self._namespace_labels.items()
                    if selector.matches(labels)
                )
            )
            self._namespace_matches[selector] = found
        return found

    def peer_mask(self, peer: Peer, policy_namespace: str) -> int:
        """Mask of the pods a peer admits (rule 5; rule 7 for ipBlock)."""
        if peer.ip_block is not None:
            if not self.ip_block_matches_pods:
                return 0
            block = peer.ip_block
            return sum(
                1 << i
                for i, pod in enumerate(self.pods)
                if pod.ip is not None and block.contains(pod.ip)
            )
        if peer.namespace_selector is None:
            assert peer.pod_selector is not None
            return self.pods_matching(peer.pod_selector, policy_namespace)
        pod_selector = peer.pod_selector or LabelSelector(())
        mask = 0
        for namespace in self.namespaces_matching(peer.namespace_selector):
            mask |= self.pods_matching(pod_selector, namespace)
        return mask

    def _compile(self, policy: NetworkPolicy) -> CompiledPolicy:
        def rules(direction: str) -> tuple[CompiledRule, ...]:
            out = []
            for r, rule in enumerate(policy.rules(direction)):
                peers = tuple(
                    CompiledPeer(p, peer, self.peer_mask(peer, policy.namespace))
                    for p, peer in enumerate(rule.peers)
                )
                union = self.all_pods
                if peers:
                    union = 0
                    for peer in peers:
                        union |= peer.pods
                out.append(CompiledRule(r, rule, peers, union))
            return tuple(out)

        selected = self.pods_matching(policy.pod_selector, policy.namespace)
        return CompiledPolicy(policy, selected, rules(INGRESS), rules(EGRESS))

    # --- questions about pods -----------------------------------------------------------------

    def pods_of(self, mask: int) -> tuple[Pod, ...]:
        return tuple(self.pods[i] for i in bits(mask))

    def isolating(self, pod: Pod, direction: str) -> tuple[CompiledPolicy, ...]:
        """The policies that select ``pod`` and list ``direction`` in their policyTypes."""
        return tuple(self._isolating[direction][self.index[pod.key]])

    # --- one connection -----------------------------------------------------------------------

    def check(self, source: Endpoint, destination: Endpoint, port: int, protocol: str) -> Verdict:
        """The verdict on ``source`` opening a ``protocol`` connection to ``destination:port``."""
        egress = self._side(EGRESS, source, destination, port, protocol)
        ingress = self._side(INGRESS, destination, source, port, protocol)
        return Verdict(
            source.key,
            destination.key,
            port,
            protocol,
            egress,
            ingress,
            source_ip=_pod_ip_text(source),
            destination_ip=_pod_ip_text(destination),
        )

    def _side(
        self, direction: str, endpoint: Endpoint, peer: Endpoint, port: int, protocol: str
    ) -> SideVerdict:
        blank = SideVerdict(direction, endpoint.key, peer.key, port, protocol, applies=False)
        if isinstance(endpoint, ExternalEndpoint):
            return blank
        policies = self.isolating(endpoint, direction)
        if not policies:
            return SideVerdict(direction, endpoint.key, peer.key, port, protocol, applies=True)
        destination = peer if direction == EGRESS else endpoint
        dest_pod = destination if isinstance(destination, Pod) else None
        matches: list[RuleMatch] = []
        for compiled in policies:
            for rule in compiled.rules(direction):
                match = self._match_rule(rule, peer, port, protocol, dest_pod)
                if match is not None:
                    peer_index, port_index = match
                    matches.append(
                        RuleMatch(
                            compiled.policy.key, direction, rule.index, peer_index, port_index
                        )
                    )
        notes = () if matches else self._ip_block_notes(policies, direction, peer)
        return SideVerdict(
            direction,
            endpoint.key,
            peer.key,
            port,
            protocol,
            applies=True,
            isolated_by=tuple(c.policy.key for c in policies),
            allowed_by=tuple(matches),
            notes=notes,
        )

    def _ip_block_notes(
        self, policies: tuple[CompiledPolicy, ...], direction: str, peer: Endpoint
    ) -> tuple[str, ...]:
        """Why the ipBlocks of ``policies`` could not match the peer pod (rule 7), if they could not."""
        if not isinstance(peer, Pod):
            return ()
        has_ip_block = any(
            compiled.peer.ip_block is not None
            for policy in policies
            for rule in policy.rules(direction)
            for compiled in rule.peers
        )
        if not has_ip_block:
            return ()
        if not self.ip_block_matches_pods:
            return (
                f"ipBlock peers match only addresses outside the cluster here, "
                f"never a pod such as {peer.key}",
            )
        if peer.ip is None and peer.finished:
            return (
                f"{peer.key} has no IP ({peer.phase}: its IP was released), "
                "so no ipBlock can match it",
            )
        if peer.ip is None:
            return (f"{peer.key} has no IP (no status.podIP), so no ipBlock can match it",)
        return tuple(
            f"{peer.key}'s IP {peer.ip} is in ipBlock {block.cidr} but excepted by {hole}"
            for policy in policies
            for rule in policy.rules(direction)
            for compiled in rule.peers
            if (block := compiled.peer.ip_block) is not None and peer.ip in block.cidr
            for hole in block.excepts
            if peer.ip.version == hole.version and peer.ip in hole
        )

    def _match_rule(
        self, rule: CompiledRule, peer: Endpoint, port: int, protocol: str, destination: Pod | None
    ) -> tuple[int | None, int | None] | None:
        peer_index: int | None = None
        if not rule.any_peer:
            peer_index = self._match_peer(rule, peer)
            if peer_index is None:
                return None
        if not rule.rule.ports:
            return peer_index, None
        for k, entry in enumerate(rule.rule.ports):
            if entry.matches(port, protocol, destination):
                return peer_index, k
        return None

    def _match_peer(self, rule: CompiledRule, peer: Endpoint) -> int | None:
        if isinstance(peer, Pod):
            bit = 1 << self.index[peer.key]
            for compiled in rule.peers:
                if compiled.pods & bit:
                    return compiled.index
            return None
        for compiled in rule.peers:
            block = compiled.peer.ip_block
            if block is not None and block.contains(peer.ip):
                return compiled.index
        return None

    # --- every pair at once -------------------------------------------------------------------

    def reachability(self, port: int, protocol: str) -> list[int]:
        """For each pod (by index) the mask of pods it may connect to on ``port``/``protocol``."""
        everyone = self.all_pods
        named = self._named_port_masks(port, protocol)

        def port_mask(rule: CompiledRule) -> int:
            entries = rule.rule.ports
            if not entries:
                return everyone
            mask = 0
            for entry in entries:
                if entry.protocol != protocol:
                    continue
                if entry.port is None:
                    return everyone
                if isinstance(entry.port, int):
                    last = entry.end_port if entry.end_port is not None else entry.port
                    if entry.port <= port <= last:
                        return everyone
                else:
                    mask |= named.get(entry.port, 0)
            return mask

        # Ingress: which destinations accept each source.
        accept_any = everyone & ~self.isolated[INGRESS]
        accept = [0] * len(self.pods)
        # Egress: which destinations each policy lets its pods reach.
        reach: dict[str, int] = {}
        for compiled in self.policies:
            if compiled.policy.affects(INGRESS) and compiled.selected:
                for rule in compiled.ingress:
                    targets = compiled.selected & port_mask(rule)
                    if not targets:
                        continue
                    if rule.any_peer:
                        accept_any |= targets
                        continue
                    for i in bits(rule.pods):
                        accept[i] |= targets
            if compiled.policy.affects(EGRESS) and compiled.selected:
                mask = 0
                for rule in compiled.egress:
                    mask |= rule.pods & port_mask(rule)
                reach[compiled.policy.key] = mask
        rows = []
        isolating = self._isolating[EGRESS]
        for i in range(len(self.pods)):
            policies = isolating[i]
            if policies:
                out = 0
                for compiled in policies:
                    out |= reach[compiled.policy.key]
            else:
                out = everyone
            rows.append(out & (accept_any | accept[i]))
        return rows

    def _named_port_masks(self, port: int, protocol: str) -> dict[str, int]:
        masks: dict[str, int] = {}
        for i, pod in enumerate(self.pods):
            for entry in pod.ports:
                if entry.name and entry.number == port and entry.protocol == protocol:
                    masks[entry.name] = masks.get(entry.name, 0) | (1 << i)
        return masks


def _pod_ip_text(endpoint: Endpoint) -> str:
    return str(endpoint.ip) if isinstance(endpoint, Pod) and endpoint.ip is not None else ""
