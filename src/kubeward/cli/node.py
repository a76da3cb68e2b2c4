"""``kubeward node``: a node agent (a kubelet with a simulated container runtime).

Flags keep the kubelet's names: ``--kubeconfig`` (the node's credential, ``CN=system:node:NAME``,
``O=system:nodes``), ``--bootstrap-kubeconfig`` (a credential that may only ask for that one:
TLS bootstrapping), ``--cert-dir``, ``--rotate-certificates``, ``--rotate-server-certificates``
(serve the kubelet API with a certificate from the Certificates API), ``--client-ca-file``,
``--pod-cidr``, ``--node-labels``, ``--node-ip``; ``--name`` is the kubelet's
``--hostname-override``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from kubeward.cli.runtime import run_async, setup_logging, until_signalled
from kubeward.client.api import APIClient
from kubeward.errors import InputError
from kubeward.node import NodeAgent, NodeConfig, credentials


def parse_pairs(text: str, flag: str) -> dict[str, str]:
    """``a=1,b=2`` → ``{"a": "1", "b": "2"}`` (InputError naming the flag)."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{flag}: {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


@click.command("node")
@click.option("--name", required=True, help="The node's name (the kubelet's --hostname-override).")
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Kubeconfig with the node's credential (CN=system:node:NAME, O=system:nodes); written by TLS bootstrapping when --bootstrap-kubeconfig is given.",
)
@click.option(
    "--bootstrap-kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A kubeconfig (a bootstrap token) used to ask for the node's client certificate when --kubeconfig is missing or expired.",
)
@click.option(
    "--cert-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/var/lib/kubeward/pki"),
    show_default=True,
    help="Where the node's certificates and keys are written (0600).",
)
@click.option(
    "--rotate-certificates", is_flag=True, help="Renew the client certificate before it expires."
)
@click.option(
    "--rotate-server-certificates",
    is_flag=True,
    help="Serve the kubelet API with a kubelet-serving certificate from the Certificates API (an administrator approves it).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=10250,
    show_default=True,
    help="The kubelet API's port.",
)
@click.option(
    "--client-ca-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The CA whose client certificates the kubelet API accepts (the cluster CA).",
)
@click.option(
    "--pod-cidr",
    default="",
    help="The range pod IPs come from, registered as the Node's spec.podCIDR. Without it the "
    "node waits for the controller-manager's node-IPAM controller to set one.",
)
@click.option("--node-ip", default="127.0.0.1", show_default=True, help="The node's InternalIP.")
@click.option("--node-labels", default="", help="Extra labels: key=value,key=value.")
@click.option(
    "--capacity",
    default="cpu=4,memory=8Gi,pods=110,ephemeral-storage=50Gi",
    show_default=True,
    help="What the node offers the scheduler.",
)
@click.option(
    "--private-registry",
    "private_registries",
    multiple=True,
    help="A registry host whose images need a kubernetes.io/dockerconfigjson pull secret (repeatable).",
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def node(
    name: str,
    kubeconfig: Path,
    bootstrap_kubeconfig: Path | None,
    cert_dir: Path,
    rotate_certificates: bool,
    rotate_server_certificates: bool,
    port: int,
    client_ca_file: Path | None,
    pod_cidr: str,
    node_ip: str,
    node_labels: str,
    capacity: str,
    private_registries: tuple[str, ...],
    verbose: int,
) -> None:
    """Run a node: register it, keep its Lease, and run (simulated) the pods bound to it."""
    setup_logging(max(verbose, 1))
    try:
        network = ipaddress.ip_network(pod_cidr) if pod_cidr else None
    except ValueError as exc:
        raise InputError(f"--pod-cidr {pod_cidr!r}: {exc}") from exc
    config = NodeConfig(
        name,
        pod_cidr=network,
        address=node_ip,
        capacity=parse_pairs(capacity, "--capacity"),
        labels=parse_pairs(node_labels, "--node-labels"),
        kubelet_port=port,
        cert_dir=cert_dir,
        kubeconfig=kubeconfig,
        rotate_certificates=rotate_certificates,
        serve=rotate_server_certificates,
        client_ca_file=client_ca_file,
        private_registries=private_registries,
    )

    async def start() -> None:
        if bootstrap_kubeconfig is not None:
            await credentials.bootstrap(
                name,
                bootstrap_kubeconfig=bootstrap_kubeconfig,
                kubeconfig=kubeconfig,
                cert_dir=cert_dir,
            )
        client = APIClient.from_kubeconfig(kubeconfig, user_agent=f"kubelet/{name}")
        await until_signalled(NodeAgent(client, config).run(), client.close)

    run_async(start())
