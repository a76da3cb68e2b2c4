"""Pod IPs from the node's range: the lowest free host address, kept while the pod lives.

The range is the Node's ``spec.podCIDR`` (set by the node-IPAM controller) or the agent's
``--pod-cidr``. Rules: the network address and the first host address (the node's bridge, as
CNI plugins keep it) are never given, nor an IPv4 range's broadcast address; an IP is held by
one pod (``namespace/name``) until it is released; a pod asking again gets the IP it holds.
Addresses are counted, never listed, so an IPv6 /64 costs nothing.
"""

from __future__ import annotations

import ipaddress

from kubeward.errors import ServiceUnavailable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PodIPs:
    def __init__(self, network: IPNetwork) -> None:
        self.network = network
        self._held: dict[str, str] = {}
        base = int(network.network_address)
        self._first = base + 2  # the network address, then the bridge's
        last = int(network.broadcast_address)
        self._last = last - 1 if network.version == 4 else last

    def allocate(self, key: str) -> str:
        if key in self._held:
            return self._held[key]
        taken = {int(ipaddress.ip_address(ip)) for ip in self._held.values()}
        candidate = self._first
        while candidate in taken:
            candidate += 1
        if candidate > self._last:
            raise ServiceUnavailable(f"no free pod IP left in {self.network}")
        address = str(ipaddress.ip_address(candidate))
        self._held[key] = address
        return address

    def hold(self, key: str, ip: str) -> None:
        """Keep ``ip`` for ``key`` (a pod this node ran before the agent restarted)."""
        if not ip:
            return
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return
        if address.version == self.network.version and address in self.network:
            self._held[key] = ip

    def release(self, key: str) -> None:
        self._held.pop(key, None)
