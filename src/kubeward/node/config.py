"""What a node agent is told: its name, what it offers, how often it reports."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

KUBELET_VERSION = "v1.32.0"
RUNTIME_VERSION = "kubeward-simulated://0.1.0"
DEFAULT_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}


@dataclass(frozen=True)
class NodeConfig:
    """A node's settings, with the kubelet's flag names where it has them.

    ``pod_cidr`` is the kubelet's ``--pod-cidr``: the range the node's pod IPs come from when
    ``spec.podCIDR`` is not set by a node-IPAM controller. ``address`` is the node's
    ``InternalIP``.
    """

    name: str
    pod_cidr: ipaddress.IPv4Network = field(
        default_factory=lambda: ipaddress.IPv4Network("10.244.0.0/24")
    )
    address: str = "127.0.0.1"
    capacity: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    labels: dict[str, str] = field(default_factory=dict)
    lease_duration_seconds: int = 40
    heartbeat_seconds: float = 10.0  # the kubelet renews its Lease every 10 s
    status_seconds: float = 60.0  # and reports status at least this often (it sends on change)
    kubelet_port: int = 10250  # 0: any free port (several nodes on one machine)
    # The node's certificates (``node.credentials``): where they live, the kubeconfig that
    # names the client one, whether to rotate it, and whether to serve the kubelet API.
    cert_dir: Path | None = None
    kubeconfig: Path | None = None
    rotate_certificates: bool = False
    serve: bool = False
    client_ca_file: Path | None = None
    # Registries whose images need a pull secret (``node.images``), as ``--private-registry``.
    private_registries: tuple[str, ...] = ()
