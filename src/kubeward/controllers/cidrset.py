"""The blocks of one cluster CIDR that nodes' pod ranges are cut from (the node-IPAM
controller's ``cidrset``).

A cluster CIDR (``10.244.0.0/16``) is cut into equal blocks of the node mask size (``/24``):
block ``i`` is the cluster's network address plus ``i`` blocks. Rules (upstream's
``pkg/controller/nodeipam/ipam/cidrset``):

 1. An IPv6 node mask may be at most 16 bits longer than the cluster's mask (upstream keeps an
    uncompressed bitmap); a longer one is refused with upstream's message.
 2. ``allocate_next`` gives the first free block at or after the one after the last block it
    gave, wrapping around (a round robin, not the lowest free block), so a block just released
    is not handed out again at once. When every block is taken it returns ``None``.
 3. ``occupy`` and ``release`` take any range that overlaps the cluster CIDR: every block that
    the range touches is marked used (or free). A range larger than the cluster CIDR touches
    every block; a range smaller than a block touches the block that holds it. A range that
    does not overlap the cluster CIDR (or is of the other IP family) changes nothing and is
    answered ``False``.
 4. Occupying a block already used, or releasing one already free, is harmless.
"""

from __future__ import annotations

import ipaddress

from kubeward.errors import InputError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Rule 1.
MAX_IPV6_MASK_DIFFERENCE = 16
NO_CIDRS_REMAINING = (
    "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
)


class CIDRSet:
    """The used and free node blocks of ``cluster`` (see the rules)."""

    def __init__(self, cluster: IPNetwork, node_mask_size: int) -> None:
        if node_mask_size < cluster.prefixlen or node_mask_size > cluster.max_prefixlen:
            raise InputError(
                f"node CIDR mask size {node_mask_size} does not fit cluster CIDR {cluster}"
            )
        if cluster.version == 6 and node_mask_size - cluster.prefixlen > MAX_IPV6_MASK_DIFFERENCE:
            raise InputError("New CIDR set failed; the node CIDR size is too big")
        self.cluster = cluster
        self.node_mask_size = node_mask_size
        self.size = 1 << (node_mask_size - cluster.prefixlen)
        self._shift = cluster.max_prefixlen - node_mask_size
        self._used: set[int] = set()
        self._next = 0

    @property
    def allocated(self) -> int:
        return len(self._used)

    def block(self, index: int) -> IPNetwork:
        """The block at ``index``."""
        address = int(self.cluster.network_address) + (index << self._shift)
        return ipaddress.ip_network((address, self.node_mask_size))

    def allocate_next(self) -> IPNetwork | None:
        """Rule 2."""
        if len(self._used) >= self.size:
            return None
        candidate = self._next
        while candidate in self._used:
            candidate = (candidate + 1) % self.size
        self._used.add(candidate)
        self._next = (candidate + 1) % self.size
        return self.block(candidate)

    def occupy(self, cidr: IPNetwork) -> bool:
        """Rules 3 and 4: mark every block ``cidr`` touches as used."""
        indices = self._indices(cidr)
        if indices is None:
            return False
        self._used.update(indices)
        return True

    def release(self, cidr: IPNetwork) -> bool:
        """Rules 3 and 4: mark every block ``cidr`` touches as free."""
        indices = self._indices(cidr)
        if indices is None:
            return False
        self._used.difference_update(indices)
        return True

    def is_used(self, cidr: IPNetwork) -> bool:
        """Whether every block ``cidr`` touches is used."""
        indices = self._indices(cidr)
        return indices is not None and all(i in self._used for i in indices)

    def _indices(self, cidr: IPNetwork) -> range | None:
        if cidr.version != self.cluster.version or not cidr.overlaps(self.cluster):
            return None
        if cidr.prefixlen <= self.cluster.prefixlen:
            return range(self.size)
        base = int(self.cluster.network_address)
        first = (int(cidr.network_address) - base) >> self._shift
        last = (int(cidr.broadcast_address) - base) >> self._shift
        return range(first, last + 1)
