"""The NetworkPolicy semantics written the straightforward way, slow on purpose.

This is the definition read off the Kubernetes documentation with no caching at all: every
question re-matches every selector against every label set it needs. It is the oracle the tests
compare :class:`kubeward.netpol.evaluator.Evaluator` against on generated inventories, and the
baseline ``benchmarks/netpol.py`` measures the evaluator against. Same rules as the evaluator's
module docstring, including ipBlock matching pod IPs when ``ip_block_matches_pods`` is true.
"""

from __future__ import annotations

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
)


def is_allowed(
    inventory: Inventory,
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str,
    *,
    ip_block_matches_pods: bool = True,
) -> bool:
    """Whether ``source`` may open a ``protocol`` connection to ``destination:port``."""
    egress_ok = isinstance(source, ExternalEndpoint) or _side_allows(
        inventory, EGRESS, source, destination, port, protocol, ip_block_matches_pods
    )
    ingress_ok = isinstance(destination, ExternalEndpoint) or _side_allows(
        inventory, INGRESS, destination, source, port, protocol, ip_block_matches_pods
    )
    return egress_ok and ingress_ok


def _side_allows(
    inventory: Inventory,
    direction: str,
    pod: Pod,
    peer: Endpoint,
    port: int,
    protocol: str,
    ip_block_matches_pods: bool,
) -> bool:
    isolated = False
    for policy in inventory.policies:
        if policy.namespace != pod.namespace or not policy.affects(direction):
            continue
        if not policy.pod_selector.matches(pod.labels):
            continue
        isolated = True
        destination = peer if direction == EGRESS else pod
        for rule in policy.rules(direction):
            peer_ok = not rule.peers or any(
                _peer_matches(inventory, policy, p, peer, ip_block_matches_pods) for p in rule.peers
            )
            port_ok = not rule.ports or any(
                entry.matches(port, protocol, destination if isinstance(destination, Pod) else None)
                for entry in rule.ports
            )
            if peer_ok and port_ok:
                return True
    return not isolated


def _peer_matches(
    inventory: Inventory,
    policy: NetworkPolicy,
    peer: Peer,
    endpoint: Endpoint,
    ip_block_matches_pods: bool,
) -> bool:
    if peer.ip_block is not None:
        if isinstance(endpoint, Pod):
            return (
                ip_block_matches_pods
                and endpoint.ip is not None
                and peer.ip_block.contains(endpoint.ip)
            )
        return peer.ip_block.contains(endpoint.ip)
    if not isinstance(endpoint, Pod):
        return False
    if peer.namespace_selector is None:
        in_namespace = endpoint.namespace == policy.namespace
    else:
        declared = inventory.namespaces_by_name.get(endpoint.namespace)
        namespace = declared or Namespace.with_name_label(endpoint.namespace)
        in_namespace = peer.namespace_selector.matches(namespace.labels)
    if not in_namespace:
        return False
    return peer.pod_selector is None or peer.pod_selector.matches(endpoint.labels)
