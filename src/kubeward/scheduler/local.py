"""The scheduler of a local control plane (``kubeward up``, ``kubeward.testing``).

It runs in the API server's process but as its own identity, exactly as a remote one would:
over HTTPS with ``scheduler.conf`` (``CN=system:kube-scheduler``) from the data directory,
authorized by the bootstrap role ``system:kube-scheduler``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kubeward.client.api import APIClient
from kubeward.errors import KubewardError
from kubeward.scheduler.scheduler import Scheduler

log = logging.getLogger("kubeward.scheduler")


async def run_local_scheduler(data_dir: Path) -> None:
    """Run until cancelled; a failure is logged, never raised into the API server."""
    kubeconfig = data_dir / "scheduler.conf"
    try:
        client = APIClient.from_kubeconfig(kubeconfig, user_agent="kube-scheduler")
    except KubewardError as exc:
        log.error("scheduler not started: %s", exc)
        return
    try:
        await Scheduler(client).run()
    except KubewardError as exc:
        log.error("scheduler stopped: %s", exc)
    finally:
        await client.close()
