"""The controller-manager of a local control plane (``kubeward up``, ``kubeward.testing``).

It runs in the API server's process but as separate identities, exactly as a remote one would:
it connects over HTTPS with ``controller-manager.conf`` (``CN=system:kube-controller-manager``)
from the data directory and signs with the cluster CA in ``pki/``. By default each controller
uses its own service account's token (``--use-service-account-credentials``), so its
permissions come from its bootstrap ``system:controller:*`` role only. As kubeadm, the
tokencleaner is turned on besides the default set. As kubeadm with
``--pod-network-cidr=10.244.0.0/16``, nodes get their pod ranges from the node-IPAM controller
(``--allocate-node-cidrs --cluster-cidr 10.244.0.0/16``, /24 each, the Service range kept
out). There is no leader election: one process, one manager.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from kubeward.api.allocation import DEFAULT_SERVICE_CLUSTER_IP_RANGE
from kubeward.client.api import APIClient
from kubeward.controllers.clock import Clock, RealClock
from kubeward.controllers.manager import ControllerManager, ManagerConfig
from kubeward.controllers.names import ControllerSelection
from kubeward.controllers.nodeipam_config import node_ipam_config
from kubeward.controllers.signing import SigningConfig
from kubeward.errors import KubewardError
from kubeward.pki.ca import CertificateAuthority

log = logging.getLogger("kubeward.controllers")

POD_NETWORK_CIDR = "10.244.0.0/16"  # kubeadm's --pod-network-cidr as Flannel's manifest asks it


async def run_local_controller_manager(
    data_dir: Path,
    *,
    use_service_account_credentials: bool = True,
    controllers: Sequence[str] = ("*", "tokencleaner"),
    cluster_cidr: str = POD_NETWORK_CIDR,
    service_cluster_ip_range: str = str(DEFAULT_SERVICE_CLUSTER_IP_RANGE),
    clock: Clock | None = None,
) -> None:
    """Run until cancelled; a failure is logged, never raised into the API server.

    ``clock`` is the time the batch controllers read (a test's ``FakeClock``).
    """
    kubeconfig = data_dir / "controller-manager.conf"
    try:
        ca = CertificateAuthority.from_files(
            data_dir / "pki" / "ca.crt", data_dir / "pki" / "ca.key", validate_key=False
        )
        client = APIClient.from_kubeconfig(
            kubeconfig, user_agent="kubeward-controller-manager", max_connections=0
        )
        config = ManagerConfig(
            signing=SigningConfig(ca=ca),
            source=str(kubeconfig),
            controllers=ControllerSelection.parse(controllers),
            use_service_account_credentials=use_service_account_credentials,
            kubeconfig=kubeconfig,
            node_ipam=node_ipam_config(
                cluster_cidr, service_cluster_ip_range=service_cluster_ip_range
            ),
            clock=clock or RealClock(),
        )
    except KubewardError as exc:
        log.error("controller-manager not started: %s", exc)
        return
    manager = ControllerManager(client, config)
    try:
        await manager.run()
    except KubewardError as exc:
        log.error("controller-manager stopped: %s", exc)
    finally:
        await client.close()
