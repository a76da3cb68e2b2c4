"""The node-IPAM controller's flags, checked as kube-controller-manager checks them.

Rules (``startNodeIpamController``, ``validateCIDRs`` and ``setNodeCIDRMaskSizes`` of
``cmd/kube-controller-manager/app/core.go``):

 1. ``--cluster-cidr`` is one CIDR, or two separated by a comma, one of each IP family
    (dual-stack); more than two, or two of one family, are refused. It is required with
    ``--allocate-node-cidrs``.
 2. Node mask sizes default to 24 (IPv4) and 64 (IPv6). ``--node-cidr-mask-size`` sets the one
    family of a single-stack cluster and is refused for dual-stack, and with the per-family
    flags; ``--node-cidr-mask-size-ipv4`` is refused for a single-stack IPv6 cluster and
    ``-ipv6`` for a single-stack IPv4 one.
 3. A cluster CIDR's mask may not be longer than its family's node mask.
 4. ``--service-cluster-ip-range`` (one CIDR, or two of different families) is taken out of
    the cluster CIDRs it overlaps, so no node gets a block holding service IPs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubeward.controllers.cidrset import IPNetwork
from kubeward.errors import InputError

DEFAULT_NODE_MASK_IPV4 = 24
DEFAULT_NODE_MASK_IPV6 = 64


@dataclass(frozen=True)
class NodeIpamConfig:
    """What the range allocator works with: cluster CIDRs, node mask sizes, service ranges."""

    cluster_cidrs: tuple[IPNetwork, ...]
    node_mask_sizes: tuple[int, ...]
    service_cidrs: tuple[IPNetwork, ...] = ()


def parse_cidrs(text: str, flag: str) -> tuple[IPNetwork, ...]:
    """Comma-separated CIDRs (host bits must be zero, as net.ParseCIDR keeps the network)."""
    cidrs: list[IPNetwork] = []
    for part in text.split(","):
        part = part.strip()
        try:
            cidrs.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise InputError(f"{flag}: invalid CIDR address: {part}") from exc
    return tuple(cidrs)


def _dual_stack(cidrs: tuple[IPNetwork, ...]) -> bool:
    return {c.version for c in cidrs} == {4, 6}


def cluster_cidrs(text: str) -> tuple[IPNetwork, ...]:
    """Rule 1."""
    if not text.strip():
        raise InputError("Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set")
    cidrs = parse_cidrs(text, "--cluster-cidr")
    if len(cidrs) > 1 and not _dual_stack(cidrs):
        raise InputError(
            f"--cluster-cidr: len of ClusterCIDRs=={len(cidrs)} and they are not configured as "
            "dual stack (at least one from each IPFamily"
        )
    if len(cidrs) > 2:
        raise InputError(
            f"--cluster-cidr: length of clusterCIDRs is:{len(cidrs)} more than max allowed of 2"
        )
    return cidrs


def node_mask_sizes(
    cidrs: tuple[IPNetwork, ...],
    mask_size: int | None = None,
    mask_size_ipv4: int | None = None,
    mask_size_ipv6: int | None = None,
) -> tuple[int, ...]:
    """Rule 2: one mask size per cluster CIDR."""
    ipv4, ipv6 = DEFAULT_NODE_MASK_IPV4, DEFAULT_NODE_MASK_IPV6
    if len(cidrs) > 1:
        if mask_size is not None:
            raise InputError(
                "usage of --node-cidr-mask-size is not allowed with dual-stack clusters"
            )
    elif mask_size is not None:
        if mask_size_ipv4 is not None or mask_size_ipv6 is not None:
            raise InputError(
                "usage of --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 is not "
                "allowed if --node-cidr-mask-size is set. For dual-stack clusters please unset "
                "it and use IPFamily specific flags"
            )
        ipv4 = ipv6 = mask_size
    else:
        single_v6 = cidrs[0].version == 6
        if mask_size_ipv4 is not None and single_v6:
            raise InputError(
                "usage of --node-cidr-mask-size-ipv4 is not allowed for a single-stack IPv6 cluster"
            )
        if mask_size_ipv6 is not None and not single_v6:
            raise InputError(
                "usage of --node-cidr-mask-size-ipv6 is not allowed for a single-stack IPv4 cluster"
            )
    if mask_size is None:
        ipv4 = mask_size_ipv4 if mask_size_ipv4 is not None else ipv4
        ipv6 = mask_size_ipv6 if mask_size_ipv6 is not None else ipv6
    sizes = tuple(ipv6 if c.version == 6 else ipv4 for c in cidrs)
    for cidr, size in zip(cidrs, sizes, strict=True):  # rule 3
        if cidr.prefixlen > size or size > cidr.max_prefixlen:
            raise InputError(
                "Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than "
                "or equal to --node-cidr-mask-size configured for CIDR family"
            )
    return sizes


def node_ipam_config(
    cluster_cidr: str,
    *,
    service_cluster_ip_range: str = "",
    mask_size: int | None = None,
    mask_size_ipv4: int | None = None,
    mask_size_ipv6: int | None = None,
) -> NodeIpamConfig:
    """Rules 1-4 over the flags' values (InputError with kube-controller-manager's words)."""
    cidrs = cluster_cidrs(cluster_cidr)
    sizes = node_mask_sizes(cidrs, mask_size, mask_size_ipv4, mask_size_ipv6)
    services: tuple[IPNetwork, ...] = ()
    if service_cluster_ip_range.strip():
        services = parse_cidrs(service_cluster_ip_range, "--service-cluster-ip-range")
        if len(services) > 2 or (len(services) == 2 and not _dual_stack(services)):
            raise InputError(
                "serviceCIDR and secondaryServiceCIDR are not dualstack (from different IPfamiles)"
            )
    return NodeIpamConfig(cidrs, sizes, services)
