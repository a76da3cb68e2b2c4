"""Node agents of a local control plane (``kubeward up --nodes N``, ``kubeward.testing``).

Each runs in the API server's process but as its own identity, exactly as a remote node would:
a kubeconfig under ``DATA_DIR/nodes/NAME/kubelet.conf`` with a client certificate
``CN=system:node:NAME, O=system:nodes`` issued by the cluster CA (kubeadm writes the same for
the nodes it sets up), over HTTPS. Node ``i`` (from 1) is named ``node-i`` and takes pod IPs
from the range the node-IPAM controller sets in its ``spec.podCIDR`` (``10.244.N.0/24``, in the
order nodes register), or from ``10.244.i.0/24`` when the controller does not run.

Each serves the kubelet API on a free port of 127.0.0.1 with a serving certificate issued
directly by the cluster CA (as ``pki init --node`` issues ``kubelet-NAME.crt``), naming the node
and 127.0.0.1, written to ``DATA_DIR/nodes/NAME/pki/kubelet-server-current.pem``; it trusts
client certificates of the cluster CA (the API server's ``apiserver-kubelet-client``).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
from pathlib import Path

from kubeward.api.user import NODES_GROUP, node_username
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError
from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig
from kubeward.node.agent import NodeAgent
from kubeward.node.config import NodeConfig
from kubeward.node.credentials import SERVING_FILE, serving_names, usable, write_pem
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile

log = logging.getLogger("kubeward.node")

CERTIFICATE_VALIDITY = datetime.timedelta(days=365)


def local_node_name(index: int) -> str:
    return f"node-{index}"


def node_kubeconfig(data_dir: Path, name: str, server: str) -> Path:
    """The node's kubeconfig, made once from the cluster CA in ``DATA_DIR/pki``."""
    path = data_dir / "nodes" / name / "kubelet.conf"
    if path.exists():
        return path
    ca = CertificateAuthority.from_dir(data_dir / "pki")
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue_client_certificate(
        key.public_key(), node_username(name), [NODES_GROUP], CERTIFICATE_VALIDITY
    )
    doc = client_certificate_kubeconfig(
        cluster_name="kubeward",
        server=server,
        ca_pem=ca.cert_pem,
        user_name=node_username(name),
        cert_pem=certificate_pem(cert),
        key_pem=private_key_pem(key),
    )
    write_kubeconfig(path, doc)
    return path


def node_serving_certificate(data_dir: Path, name: str, address: str) -> Path:
    """The node's serving certificate and key, issued once by the cluster CA."""
    pem_file = data_dir / "nodes" / name / "pki" / SERVING_FILE
    if usable(pem_file):
        return pem_file
    ca = CertificateAuthority.from_dir(data_dir / "pki")
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(
        key.public_key(),
        build_subject(node_username(name), [NODES_GROUP]),
        Profile.SERVER,
        CERTIFICATE_VALIDITY,
        alt_names=serving_names(name, address),
    )
    pem_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_pem(pem_file, private_key_pem(key), certificate_pem(cert))
    return pem_file


async def run_local_nodes(
    data_dir: Path,
    server: str,
    count: int,
    *,
    private_registries: tuple[str, ...] = (),
    allocate_node_cidrs: bool = True,
) -> None:
    """Run ``count`` agents until cancelled; a failure is logged, never raised into the server.

    With ``allocate_node_cidrs`` (the controller-manager's node-IPAM controller runs) each node
    waits for the range the controller gives it; without, node N registers with
    ``--pod-cidr 10.244.N.0/24``.
    """
    agents: list[NodeAgent] = []
    try:
        for index in range(1, count + 1):
            name = local_node_name(index)
            client = APIClient.from_kubeconfig(
                node_kubeconfig(data_dir, name, server), user_agent=f"kubelet/{name}"
            )
            pem_file = node_serving_certificate(data_dir, name, "127.0.0.1")
            config = NodeConfig(
                name,
                pod_cidr=(
                    None if allocate_node_cidrs else ipaddress.IPv4Network(f"10.244.{index}.0/24")
                ),
                kubelet_port=0,
                cert_dir=pem_file.parent,
                serve=True,
                client_ca_file=data_dir / "pki" / "ca.crt",
                private_registries=private_registries,
            )
            agents.append(NodeAgent(client, config))
    except KubewardError as exc:
        log.error("nodes not started: %s", exc)
        return
    try:
        await asyncio.gather(*(agent.run() for agent in agents))
    except KubewardError as exc:
        log.error("nodes stopped: %s", exc)
    finally:
        for agent in agents:
            await agent.client.close()
