"""The values the NetworkPolicy evaluator reasons about: namespaces, pods, outside endpoints
and NetworkPolicies, as immutable values already checked and defaulted.

Nothing here reads files or talks to a server (that is :mod:`kubeward.netpol.load`); nothing
here decides a verdict (that is :mod:`kubeward.netpol.evaluator`). The values keep Kubernetes'
names and the meaning Kubernetes gives them:

 1. A :class:`Rule` with no peers admits every peer, and one with no ports every port (an empty
    or absent ``from``/``to``/``ports`` list, as the API reference says).
 2. A :class:`PolicyPort` without a port number matches every port of its protocol; with
    ``end_port`` it matches the inclusive range; a named port matches a destination pod's
    container port of that name and protocol.
 3. A :class:`Peer` holds a pod selector, a namespace selector (ANDed when both are given) or an
    IP block; a pod selector alone means the policy's own namespace.
 4. Every namespace carries the ``kubernetes.io/metadata.name`` label with its own name, as the
    API server sets it, so that namespace selectors can target a namespace by name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from kubeward.api.selectors import EVERYTHING, LabelSelector

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

INGRESS = "Ingress"
EGRESS = "Egress"
DIRECTIONS = (INGRESS, EGRESS)
TCP = "TCP"
PROTOCOLS = ("TCP", "UDP", "SCTP")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def with_name_label(name: str, labels: Mapping[str, str] | None = None) -> Namespace:
        """A namespace whose labels include ``kubernetes.io/metadata.name: <name>``."""
        return Namespace(name, {**(labels or {}), NAMESPACE_NAME_LABEL: name})


@dataclass(frozen=True)
class ContainerPort:
    """One ``spec.containers[*].ports[*]`` entry of a pod."""

    number: int
    protocol: str = TCP
    name: str = ""

    def __str__(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"{self.number}/{self.protocol}{named}"


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: IPAddress | None = None
    ports: tuple[ContainerPort, ...] = ()
    phase: str = ""  # status.phase, when the input says it

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def finished(self) -> bool:
        """Succeeded or Failed: its sandbox is gone and its IP was released."""
        return self.phase in ("Succeeded", "Failed")

    def named_port(self, name: str, protocol: str | None = None) -> ContainerPort | None:
        """The container port called ``name`` (of ``protocol`` when given), if any."""
        for port in self.ports:
            if port.name == name and (protocol is None or port.protocol == protocol):
                return port
        return None

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class ExternalEndpoint:
    """An address outside the cluster (a backup server, the internet): only an IP."""

    ip: IPAddress

    @property
    def key(self) -> str:
        return str(self.ip)

    def __str__(self) -> str:
        return self.key


Endpoint = Pod | ExternalEndpoint


@dataclass(frozen=True)
class IPBlock:
    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()

    def contains(self, ip: IPAddress) -> bool:
        """Inside ``cidr`` and outside every ``except`` range."""
        if ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in hole for hole in self.excepts)

    def __str__(self) -> str:
        if not self.excepts:
            return str(self.cidr)
        return f"{self.cidr} except {', '.join(str(e) for e in self.excepts)}"


@dataclass(frozen=True)
class Peer:
    """One ``from``/``to`` entry. At least one field is set; ``ip_block`` stands alone."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True)
class PolicyPort:
    """One ``ports`` entry: protocol (defaulted to TCP) and an optional number, range or name."""

    protocol: str = TCP
    port: int | str | None = None
    end_port: int | None = None

    @property
    def named(self) -> bool:
        return isinstance(self.port, str)

    def matches(self, number: int, protocol: str, destination: Pod | None) -> bool:
        """Whether traffic to ``number``/``protocol`` on ``destination`` matches this entry.

        A named port is looked up on the destination pod's container ports; an endpoint
        outside the cluster has none, so a named port never matches it.
        """
        if protocol != self.protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, int):
            last = self.end_port if self.end_port is not None else self.port
            return self.port <= number <= last
        if destination is None:
            return False
        resolved = destination.named_port(self.port, protocol)
        return resolved is not None and resolved.number == number

    def __str__(self) -> str:
        if self.port is None:
            return f"every {self.protocol} port"
        if isinstance(self.port, str):
            return f"{self.protocol} port named {self.port}"
        if self.end_port is not None and self.end_port != self.port:
            return f"{self.protocol} ports {self.port}-{self.end_port}"
        return f"{self.protocol} port {self.port}"


@dataclass(frozen=True)
class Rule:
    """An ingress or egress rule: traffic must match one peer (if any) and one port (if any)."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


@dataclass(frozen=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector = EVERYTHING
    policy_types: tuple[str, ...] = (INGRESS,)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    origin: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def affects(self, direction: str) -> bool:
        """Whether the policy isolates its pods for ``direction`` (its ``policyTypes``)."""
        return direction in self.policy_types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == INGRESS else self.egress

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Inventory:
    """Everything a verdict depends on. Pods are sorted by namespace, then name."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    externals: tuple[ExternalEndpoint, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "pods", tuple(sorted(self.pods, key=lambda p: (p.namespace, p.name)))
        )
        object.__setattr__(self, "namespaces", tuple(sorted(self.namespaces, key=lambda n: n.name)))
        object.__setattr__(
            self, "policies", tuple(sorted(self.policies, key=lambda p: (p.namespace, p.name)))
        )

    @cached_property
    def pods_by_key(self) -> dict[str, Pod]:
        return {pod.key: pod for pod in self.pods}

    @cached_property
    def namespaces_by_name(self) -> dict[str, Namespace]:
        return {ns.name: ns for ns in self.namespaces}

    @cached_property
    def pods_by_ip(self) -> dict[IPAddress, tuple[Pod, ...]]:
        out: dict[IPAddress, list[Pod]] = {}
        for pod in self.pods:
            if pod.ip is not None:
                out.setdefault(pod.ip, []).append(pod)
        return {ip: tuple(pods) for ip, pods in out.items()}

    def with_policies(self, policies: tuple[NetworkPolicy, ...]) -> Inventory:
        return Inventory(self.namespaces, self.pods, policies, self.externals)
