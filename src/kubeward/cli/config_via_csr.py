"""``kubeward config new-user --via-csr``: a new user's certificate through the Certificates API.

The course's onboarding flow in one command: the private key and the CSR are made here, the CSR
is sent as a CertificateSigningRequest object (signer ``kubernetes.io/kube-apiserver-client``),
an administrator approves it (``kubectl certificate approve NAME``, or ``--approve`` when the
caller may), the controller-manager signs it, and the certificate is fetched into a kubeconfig.

Rules:
 1. The private key never leaves this machine: only the CSR is sent.
 2. The server, its CA and the cluster name come from the caller's kubeconfig.
 3. A Denied or Failed condition ends the wait with its reason; so does the timeout, leaving the
    CSR in place for an administrator (``controllers.certificate_wait``).
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from typing import Any

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.client.api import APIClient
from kubeward.controllers.certificate_wait import wait_for_certificate
from kubeward.errors import InputError
from kubeward.kubeconfig.load import load_kubeconfig
from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.pki.csr import build_csr, csr_pem
from kubeward.pki.keys import generate_private_key, private_key_pem

SIGNER = "kubernetes.io/kube-apiserver-client"


@dataclass(frozen=True)
class IssuedCredentials:
    server: str
    cluster_name: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def _cluster_of(kubeconfig: str) -> tuple[str, str, bytes]:
    config = load_kubeconfig(kubeconfig)
    context = config.context(config.current_context)
    cluster = config.cluster(context.cluster) if context is not None else None
    if cluster is None:
        raise InputError(f"{kubeconfig}: the current context names no cluster")
    ca = cluster.certificate_authority_data
    if ca is None and cluster.certificate_authority:
        from kubeward.fileio import read_bytes

        ca = read_bytes(cluster.certificate_authority)
    if not ca:
        raise InputError(f"{kubeconfig}: the cluster {cluster.name!r} has no certificate authority")
    return cluster.server, cluster.name, ca


async def request_certificate(
    kubeconfig: str,
    user_name: str,
    organizations: tuple[str, ...],
    *,
    key_algorithm: str,
    validity: datetime.timedelta,
    approve: bool,
    timeout: float,
    on_waiting: Any = None,
) -> IssuedCredentials:
    server, cluster_name, ca_pem = _cluster_of(kubeconfig)
    key = generate_private_key(key_algorithm)
    request_pem = csr_pem(build_csr(key, user_name, organizations))
    name = user_name.replace(":", "-").lower()
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(request_pem).decode("ascii"),
            "signerName": SIGNER,
            "usages": ["client auth"],
            "expirationSeconds": max(600, int(validity.total_seconds())),
        },
    }
    async with APIClient(ClientCredentials.from_kubeconfig(kubeconfig)) as client:
        created = await client.create(CSRS, body)
        if approve:
            created.setdefault("status", {}).setdefault("conditions", []).append(
                {
                    "type": "Approved",
                    "status": "True",
                    "reason": "KubewardConfigNewUser",
                    "message": "Approved by kubeward config new-user --approve.",
                }
            )
            await client.update(CSRS, created, subresource="approval")
        elif on_waiting is not None:
            on_waiting(name)
        cert_pem = await wait_for_certificate(client, name, timeout)
        return IssuedCredentials(server, cluster_name, ca_pem, cert_pem, private_key_pem(key))
