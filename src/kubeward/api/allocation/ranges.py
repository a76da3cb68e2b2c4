"""The ranges Services are given addresses and node ports from, as kube-apiserver reads them.

``--service-cluster-ip-range`` (a CIDR, default ``10.0.0.0/24`` as kube-apiserver) and
``--service-node-port-range`` (``30000-32767``, or ``base+size``). Rules, as upstream's
``ipallocator`` and ``portallocator`` apply them:

 1. In an IPv4 range the network and broadcast addresses are never given out; in an IPv6 range
    the network (subnet-router anycast) address is not either.
 2. The first usable address is the ``kubernetes`` Service's (``10.0.0.1`` by default).
 3. Each range has a lower *static* band that dynamic allocation uses last, so that addresses
    and ports users pick by hand rarely collide with allocated ones (KEP-3070, KEP-3668):
    ``min(max(16, size/16), 256)`` addresses and ``min(max(16, size/32), 128)`` ports.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubeward.errors import InputError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
DEFAULT_SERVICE_NODE_PORT_RANGE = "30000-32767"


@dataclass(frozen=True)
class IPRange:
    """The usable addresses of a service CIDR (rule 1)."""

    network: IPNetwork

    @classmethod
    def parse(cls, text: str) -> IPRange:
        """Raises InputError for anything but one CIDR with room for a Service."""
        if "," in text:
            raise InputError(
                f"--service-cluster-ip-range: {text!r}: kubeward serves one range (single-stack); "
                "dual-stack ranges are not supported yet"
            )
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError as exc:
            raise InputError(
                f"--service-cluster-ip-range: {text!r} is not a valid CIDR ({exc})"
            ) from exc
        rng = cls(network)
        if rng.size < 1:
            raise InputError(f"--service-cluster-ip-range: {text!r} has no usable address")
        return rng

    @property
    def family(self) -> str:
        return "IPv4" if self.network.version == 4 else "IPv6"

    @property
    def size(self) -> int:
        reserved = 2 if self.network.version == 4 else 1
        return max(self.network.num_addresses - reserved, 0)

    def address(self, offset: int) -> IPAddress:
        """The usable address at ``offset`` (0 is the first usable one)."""
        return self.network.network_address + 1 + offset

    def offset(self, address: IPAddress) -> int:
        """``address``'s offset, or -1 when it is not a usable address of the range."""
        if address.version != self.network.version or address not in self.network:
            return -1
        offset = int(address) - int(self.network.network_address) - 1
        return offset if 0 <= offset < self.size else -1

    @property
    def static_band(self) -> int:
        return min(max(16, self.size // 16), 256)

    def __str__(self) -> str:
        return str(self.network)


@dataclass(frozen=True)
class PortRange:
    """``base`` to ``base + size - 1`` inclusive."""

    base: int
    size: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """``30000-32767`` or ``30000+2768``; raises InputError otherwise."""
        value = text.strip()
        try:
            if "+" in value:
                low, plus = value.split("+", 1)
                base, size = int(low), int(plus) + 1
            else:
                low, _, high = value.partition("-")
                base = int(low)
                size = (int(high) if high else base) - base + 1
        except ValueError as exc:
            raise InputError(
                f"--service-node-port-range: {text!r} is not a port range (e.g. 30000-32767)"
            ) from exc
        if base < 1 or size < 1 or base + size - 1 > 65535:
            raise InputError(
                f"--service-node-port-range: {text!r} must lie within 1-65535, low to high"
            )
        return cls(base, size)

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    @property
    def static_band(self) -> int:
        return min(max(16, self.size // 32), 128)

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"
