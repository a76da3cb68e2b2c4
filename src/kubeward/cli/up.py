"""``kubeward up``: a secured control plane on this machine in one command.

It creates the cluster PKI in the data directory if it is not there (``server.wiring.local``), starts
the API server on the embedded SQLite store with x509 client-certificate authentication, and
tells the user what to type next. The controller-manager joins it here; later components (scheduler, node agents) will too,
each in-process but connecting over HTTPS with its own credential.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from kubeward.api.allocation.ranges import (
    DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    DEFAULT_SERVICE_NODE_PORT_RANGE,
    IPRange,
    PortRange,
)
from kubeward.cli.auth_flags import auth_config, auth_flags
from kubeward.cli.feature_flags import feature_flags, features_from_flags
from kubeward.cli.runtime import run_async, setup_logging
from kubeward.cli.serve import max_token_expiration_seconds, startup_warnings
from kubeward.controllers.local import run_local_controller_manager
from kubeward.errors import InputError
from kubeward.node.local import run_local_nodes
from kubeward.scheduler.local import run_local_scheduler
from kubeward.server.wiring.builder import RunningServer, serve_until_signalled
from kubeward.server.wiring.local import local_config

# What the README's "Run it" section shows after the export, in the same order.
NEXT_COMMANDS = (
    "kubectl get namespaces",
    "kubectl auth whoami",
    "kubectl auth can-i create pods --as dev-user",
)


@click.command("up")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".kubeward"),
    show_default=True,
    help="Where the PKI, kubeconfigs and the SQLite store live.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=6443,
    show_default=True,
    help="The HTTPS port of the API server.",
)
@click.option(
    "--bind-address", default="127.0.0.1", show_default=True, help="The address to listen on."
)
@click.option(
    "--authorization-mode",
    default="Node,RBAC",
    show_default=True,
    help="Comma-separated authorizers, in order (kubeadm's Node,RBAC by default).",
)
@click.option(
    "--authorization-policy-file",
    type=click.Path(path_type=Path),
    default=None,
    help="The ABAC policy (JSON lines) for --authorization-mode=ABAC; re-read when it changes.",
)
@auth_flags
@click.option(
    "--nodes",
    type=click.IntRange(0, 1000),
    default=0,
    show_default=True,
    help="Node agents to run in this process (node-1, node-2, …), each as its own system:node identity.",
)
@click.option(
    "--service-account-max-token-expiration",
    default="48h",
    show_default=True,
    help="Longest validity a TokenRequest (kubectl create token) may get.",
)
@click.option(
    "--storage-sync",
    type=click.Choice(["normal", "full"]),
    default="normal",
    show_default=True,
    help="SQLite durability: normal survives a crash of the process, full also a power loss.",
)
@click.option(
    "--service-cluster-ip-range",
    default=DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    show_default=True,
    help="The CIDR Service cluster IPs are allocated from.",
)
@click.option(
    "--service-node-port-range",
    default=DEFAULT_SERVICE_NODE_PORT_RANGE,
    show_default=True,
    help="The ports NodePort Services are allocated from.",
)
@click.option(
    "--etcd",
    "use_etcd",
    is_flag=True,
    help="Store in the local etcd cluster of `kubeward etcd up --dir DATA_DIR` instead of SQLite.",
)
@click.option(
    "--replicas",
    type=click.IntRange(1, 5),
    default=1,
    show_default=True,
    help="With --etcd: API servers to run, on PORT, PORT+1, ... (each its own etcd client and caches).",
)
@feature_flags
@click.option("-v", "--verbose", count=True, help="More logging.")
def up(
    data_dir: Path,
    port: int,
    bind_address: str,
    authorization_mode: str,
    authorization_policy_file: Path | None,
    service_account_max_token_expiration: str,
    storage_sync: str,
    service_cluster_ip_range: str,
    service_node_port_range: str,
    use_etcd: bool,
    replicas: int,
    feature_gates: str,
    runtime_config: str,
    verbose: int,
    nodes: int,
    **auth: Any,
) -> None:
    """Start a secured control plane: PKI, API server on SQLite, admin kubeconfig."""
    setup_logging(verbose)
    ip_range = IPRange.parse(service_cluster_ip_range)
    port_range = PortRange.parse(service_node_port_range)
    auth_fields = auth_config(auth)  # a bad flag is refused before the PKI is made
    features = features_from_flags(feature_gates, runtime_config)
    if replicas > 1 and not use_etcd:
        raise InputError("--replicas needs --etcd: API servers share their store through etcd")
    etcd_state = None
    if use_etcd:
        from kubeward.cli.etcd import load_state

        etcd_state = load_state(data_dir)
    config, admin = local_config(
        data_dir,
        port,
        bind_address,
        authorization_mode,
        note=lambda text: click.echo(text, err=True),
        max_token_expiration_seconds=max_token_expiration_seconds(
            service_account_max_token_expiration
        ),
        storage_sync=storage_sync,
        service_cluster_ip_range=str(ip_range),
        etcd_members=tuple(etcd_state["members"]) if etcd_state else (),
    )
    config = replace(
        config,
        authorization_policy_file=authorization_policy_file,
        service_node_port_range=str(port_range),
        features=features,
        **auth_fields,
    )
    if etcd_state is not None:
        from kubeward.cli.etcd import config_from_state

        config = replace(config, etcd=config_from_state(data_dir))
    extra_configs = [replace(config, secure_port=port + i) for i in range(1, replicas)]
    for warning in startup_warnings(config):
        click.echo(f"warning: {warning}", err=True)

    def ready(running: RunningServer) -> None:
        # The controller-manager and the scheduler: in this process, but clients with their
        # own certificates.
        loop = asyncio.get_running_loop()
        manager = run_local_controller_manager(admin.parent, service_cluster_ip_range=str(ip_range))
        running.background.append(loop.create_task(manager))
        running.background.append(loop.create_task(run_local_scheduler(admin.parent)))
        if nodes:
            server = f"https://127.0.0.1:{running.port}"
            running.background.append(
                loop.create_task(run_local_nodes(admin.parent, server, nodes))
            )
        click.echo(f"kubeward is up: https://{bind_address}:{running.port}")
        for extra in extra_configs:
            click.echo(f"another API server: https://{bind_address}:{extra.secure_port}")
        click.echo("To use it with kubectl:")
        click.echo(f"  export KUBECONFIG={admin}")
        for command in NEXT_COMMANDS:
            click.echo(f"  {command}")
        click.echo("Stop with Ctrl-C; data is kept in " + str(data_dir.resolve()))

    run_async(
        serve_until_signalled(config, on_ready=ready, port_flag="--port", replicas=extra_configs)
    )
    logging.getLogger("kubeward").info("stopped")
