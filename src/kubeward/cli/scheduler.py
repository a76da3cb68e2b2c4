"""``kubeward scheduler``: bind pending pods to nodes, as a client of the API server.

Flags keep kube-scheduler's names: ``--kubeconfig`` names the scheduler's own credential
(``scheduler.conf``, ``CN=system:kube-scheduler`` in a kubeadm-style PKI).
"""

from __future__ import annotations

from pathlib import Path

import click

from kubeward.cli.runtime import run_async, setup_logging, until_signalled
from kubeward.client.api import APIClient
from kubeward.scheduler import Scheduler


@click.command("scheduler")
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Kubeconfig with the scheduler's own credential (scheduler.conf).",
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def scheduler(kubeconfig: Path, verbose: int) -> None:
    """Bind pending pods to nodes that can run them (nodeSelector, affinity, taints, resources)."""
    setup_logging(max(verbose, 1))
    client = APIClient.from_kubeconfig(kubeconfig, user_agent="kube-scheduler")
    run_async(until_signalled(Scheduler(client).run(), client.close))
