"""Allocations of scarce values across objects, kept in storage: Service cluster IPs and node
ports.

``ranges`` reads the ranges from kube-apiserver's flags; ``stored`` allocates items as one
storage key each (create-if-absent), so several API servers over one store agree; ``services``
is the Service store's write hooks that allocate, release and repair around its writes.
"""

from kubeward.api.allocation.ranges import (
    DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    DEFAULT_SERVICE_NODE_PORT_RANGE,
    IPRange,
    PortRange,
)
from kubeward.api.allocation.services import ServiceAllocations
from kubeward.api.allocation.stored import StoredAllocator

__all__ = [
    "DEFAULT_SERVICE_CLUSTER_IP_RANGE",
    "DEFAULT_SERVICE_NODE_PORT_RANGE",
    "IPRange",
    "PortRange",
    "ServiceAllocations",
    "StoredAllocator",
]
