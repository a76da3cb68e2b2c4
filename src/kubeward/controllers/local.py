"""The controller-manager of a local control plane (``kubeward up``, ``kubeward.testing``).

It runs in the API server's process but as separate identities, exactly as a remote one would:
it connects over HTTPS with ``controller-manager.conf`` (``CN=system:kube-controller-manager``)
from the data directory and signs with the cluster CA in ``pki/``. By default each controller
uses its own service account's token (``--use-service-account-credentials``), so its
permissions come from its bootstrap ``system:controller:*`` role only. As kubeadm, the
tokencleaner is turned on besides the default set. There is no leader election: one process,
one manager.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from kubeward.client.api import APIClient
from kubeward.controllers.clock import Clock, RealClock
from kubeward.controllers.manager import ControllerManager, ManagerConfig
from kubeward.controllers.names import ControllerSelection
from kubeward.controllers.signing import SigningConfig
from kubeward.errors import KubewardError
from kubeward.pki.ca import CertificateAuthority

log = logging.getLogger("kubeward.controllers")


async def run_local_controller_manager(
    data_dir: Path,
    *,
    use_service_account_credentials: bool = True,
    controllers: Sequence[str] = ("*", "tokencleaner"),
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
