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

    ``pod_cidr`` is the kubelet's ``--pod-cidr``: the node registers with it as its
    ``spec.podCIDR``, and its pod IPs come from it unless the Node already has another range
    (the node-IPAM controller's). ``None``, as a kubelet in a cluster runs: the agent waits
    for the controller to set ``spec.podCIDR``. ``address`` is the node's ``InternalIP``.
    """

    name: str
    pod_cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
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
