"""Pod IPs from the node's range: the lowest free host address, kept while the pod lives.

Rules: the network address and the first host address (the node's bridge, as CNI plugins keep
it) are never given; an IP is held by one pod (``namespace/name``) until it is released; a pod
asking again gets the IP it holds.
"""

from __future__ import annotations

import ipaddress

from kubeward.errors import ServiceUnavailable


class PodIPs:
    def __init__(self, network: ipaddress.IPv4Network) -> None:
        self.network = network
        self._held: dict[str, str] = {}
        self._hosts = list(network.hosts())[1:]  # the first host address is the bridge's

    def allocate(self, key: str) -> str:
        if key in self._held:
            return self._held[key]
        taken = set(self._held.values())
        for address in self._hosts:
            if str(address) not in taken:
                self._held[key] = str(address)
                return str(address)
        raise ServiceUnavailable(f"no free pod IP left in {self.network}")

    def hold(self, key: str, ip: str) -> None:
        """Keep ``ip`` for ``key`` (a pod this node ran before the agent restarted)."""
        if ip and ipaddress.ip_address(ip) in self.network:
            self._held[key] = ip

    def release(self, key: str) -> None:
        self._held.pop(key, None)
