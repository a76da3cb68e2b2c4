"""A node's certificates through the Certificates API: TLS bootstrapping, rotation, serving.

Rules (the kubelet's ``--bootstrap-kubeconfig``, ``--rotate-certificates`` and
``--rotate-server-certificates``):
 1. Bootstrapping: when the node's kubeconfig is missing or its certificate has expired, a new
    ECDSA P-256 key is made here (it never leaves the node) and a CertificateSigningRequest is
    sent with the bootstrap credential: ``CN=system:node:NAME``, ``O=system:nodes``, signer
    ``kubernetes.io/kube-apiserver-client-kubelet``, usages ``digital signature`` and
    ``client auth``, named ``node-csr-…``. Once approved and signed, the key and certificate are
    written 0600 to ``CERT_DIR/kubelet-client-current.pem`` and the kubeconfig, pointing at that
    file and at the bootstrap kubeconfig's server and CA, to ``--kubeconfig``.
 2. Rotation: when 70-90% (jittered) of the client certificate's life has passed, the same
    request is sent with the node's current credential (the ``selfnodeclient`` case), and the
    new certificate replaces the file and the client's credentials.
 3. Serving: the node asks for a ``kubernetes.io/kubelet-serving`` certificate naming its name
    (DNS) and its address (IP), usages ``digital signature`` and ``server auth``, written to
    ``CERT_DIR/kubelet-server-current.pem``; an administrator (or ``kubeward up``'s
    ``--approve-serving``) approves it.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.api.user import NODES_GROUP, node_username
from kubeward.client.api import APIClient
from kubeward.controllers.certificate_wait import wait_for_certificate
from kubeward.errors import InputError
from kubeward.fileio import PRIVATE, read_bytes, write_atomic
from kubeward.kubeconfig.build import dump_kubeconfig
from kubeward.kubeconfig.load import load_kubeconfig
from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.pki.csr import build_csr, csr_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames

CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
SERVING_SIGNER = "kubernetes.io/kubelet-serving"
CLIENT_FILE = "kubelet-client-current.pem"
SERVING_FILE = "kubelet-server-current.pem"


def _certificate_of(pem_file: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(read_bytes(pem_file))
    except (InputError, ValueError):
        return None


def usable(pem_file: Path, now: datetime.datetime | None = None) -> bool:
    """Rule 1: a certificate file that exists and has not expired."""
    cert = _certificate_of(pem_file)
    now = now or datetime.datetime.now(datetime.UTC)
    return cert is not None and cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def rotation_deadline(
    pem_file: Path, *, rng: random.Random | None = None
) -> datetime.datetime | None:
    """Rule 2: when to ask for the next certificate (70-90% of the current one's life)."""
    cert = _certificate_of(pem_file)
    if cert is None:
        return None
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    share = (rng or random).uniform(0.7, 0.9)
    return start + (end - start) * share


async def request_certificate(
    client: APIClient,
    node_name: str,
    *,
    signer: str,
    usages: Sequence[str],
    alt_names: AltNames | None = None,
    timeout: float,
) -> tuple[bytes, bytes]:
    """Send one CSR for the node and wait for it: (key PEM, certificate PEM)."""
    key = generate_private_key("ecdsa-p256")
    request = csr_pem(build_csr(key, node_username(node_name), [NODES_GROUP], alt_names))
    body: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "node-csr-"},
        "spec": {
            "request": base64.b64encode(request).decode("ascii"),
            "signerName": signer,
            "usages": list(usages),
        },
    }
    created = await client.create(CSRS, body)
    name = str(created["metadata"]["name"])
    certificate = await wait_for_certificate(client, name, timeout)
    return private_key_pem(key), certificate


def write_client_kubeconfig(kubeconfig: Path, bootstrap_kubeconfig: Path, pem_file: Path) -> None:
    """Rule 1's kubeconfig: the bootstrap one's cluster, the node's certificate file."""
    source = load_kubeconfig(bootstrap_kubeconfig)
    context = source.context(source.current_context)
    cluster = source.cluster(context.cluster) if context is not None else None
    if cluster is None:
        raise InputError(f"{bootstrap_kubeconfig}: the current context names no cluster")
    ca = cluster.certificate_authority_data
    if ca is None and cluster.certificate_authority:
        ca = read_bytes(cluster.certificate_authority)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "default-cluster",
                "cluster": {
                    "server": cluster.server,
                    "certificate-authority-data": base64.b64encode(ca or b"").decode(),
                },
            }
        ],
        "users": [
            {
                "name": "default-auth",
                "user": {"client-certificate": str(pem_file), "client-key": str(pem_file)},
            }
        ],
        "contexts": [
            {
                "name": "default-context",
                "context": {"cluster": "default-cluster", "user": "default-auth"},
            }
        ],
        "current-context": "default-context",
        "preferences": {},
    }
    write_atomic(kubeconfig, dump_kubeconfig(doc), PRIVATE, overwrite=True)


def write_pem(pem_file: Path, key_pem: bytes, cert_pem: bytes) -> None:
    write_atomic(pem_file, cert_pem + key_pem, PRIVATE, overwrite=True)


async def bootstrap(
    node_name: str,
    *,
    bootstrap_kubeconfig: Path,
    kubeconfig: Path,
    cert_dir: Path,
    timeout: float = 300.0,
) -> Path:
    """Rule 1: the node's kubeconfig, bootstrapped when it is missing or expired."""
    pem_file = cert_dir / CLIENT_FILE
    if kubeconfig.exists() and usable(pem_file):
        return kubeconfig
    async with APIClient.from_kubeconfig(
        bootstrap_kubeconfig, user_agent=f"kubelet/{node_name}"
    ) as client:
        key_pem, cert_pem = await request_certificate(
            client,
            node_name,
            signer=CLIENT_SIGNER,
            usages=("digital signature", "client auth"),
            timeout=timeout,
        )
    write_pem(pem_file, key_pem, cert_pem)
    write_client_kubeconfig(kubeconfig, bootstrap_kubeconfig, pem_file)
    return kubeconfig


def serving_names(node_name: str, address: str) -> AltNames:
    try:
        return AltNames(dns=(node_name,), ips=(ipaddress.ip_address(address),))
    except ValueError:
        return AltNames(dns=(node_name, address))


async def rotate_client_certificate(
    client: APIClient, node_name: str, cert_dir: Path, kubeconfig: Path, timeout: float = 300.0
) -> None:
    """Rule 2, once: a new certificate through the node's own credential, then used."""
    key_pem, cert_pem = await request_certificate(
        client,
        node_name,
        signer=CLIENT_SIGNER,
        usages=("digital signature", "client auth"),
        timeout=timeout,
    )
    write_pem(cert_dir / CLIENT_FILE, key_pem, cert_pem)
    await client.use_credentials(ClientCredentials.from_kubeconfig(kubeconfig))


async def serving_certificate(
    client: APIClient, node_name: str, address: str, cert_dir: Path, timeout: float = 300.0
) -> Path:
    """Rule 3: the serving certificate file, asked for when missing or expired."""
    pem_file = cert_dir / SERVING_FILE
    if usable(pem_file):
        return pem_file
    key_pem, cert_pem = await request_certificate(
        client,
        node_name,
        signer=SERVING_SIGNER,
        usages=("digital signature", "server auth"),
        alt_names=serving_names(node_name, address),
        timeout=timeout,
    )
    write_pem(pem_file, key_pem, cert_pem)
    return pem_file
