"""A control plane on this machine: the PKI in a data directory and the server configuration.

Shared by ``kubeward up`` and ``kubeward.testing``: it creates the cluster PKI if it is not
there (the ``pki init`` layout, with ECDSA P-256 keys so that a first start takes a fraction of
a second) and returns the configuration of an API server that uses it, on the embedded SQLite
store in the same directory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from kubeward.api.allocation.ranges import DEFAULT_SERVICE_CLUSTER_IP_RANGE
from kubeward.pki.bundle import RETARGETED, ensure_bundle, open_directories
from kubeward.pki.layout import PKI_DIR, SA_KEY_FILE, SA_PUB_FILE, BundleOptions, Member
from kubeward.server.config import ServerConfig

# kubeadm's issuer: the in-cluster name of the API server.
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# The longest service-account token `kubeward up` issues (--service-account-max-token-expiration):
# kube-apiserver sets no cap by default, but a local control plane need not mint 10-year tokens.
MAX_TOKEN_EXPIRATION_SECONDS = 48 * 3600


def local_config(
    data_dir: Path,
    port: int,
    bind_address: str = "127.0.0.1",
    authorization_mode: str = "Node,RBAC",
    *,
    note: Callable[[str], None] | None = None,
    max_token_expiration_seconds: int = MAX_TOKEN_EXPIRATION_SECONDS,
    storage_sync: str = "normal",
    service_cluster_ip_range: str = DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    etcd_members: tuple[str, ...] = (),
) -> tuple[ServerConfig, Path]:
    """Make sure the PKI exists; return the server configuration and the admin kubeconfig.

    A data directory first used with another port keeps its PKI: its kubeconfigs are pointed at
    the new address (``note`` is told which), since no certificate names the port. A data
    directory or ``pki/`` that others can reach is told to ``note`` too. ``storage_sync`` is
    SQLite's durability: ``normal`` survives a crash of the process, ``full`` also a power loss.
    ``etcd_members`` names the loopback etcd members of ``kubeward etcd up`` whose certificates
    the PKI keeps (without them the PKI's one etcd member is this host).
    """
    data_dir = data_dir.resolve()
    result = ensure_bundle(
        BundleOptions(
            directory=data_dir,
            port=port,
            key_algorithm="ecdsa-p256",
            retarget_kubeconfigs=True,
            # The serving certificate names the kubernetes Service's address, as kubeadm's does.
            service_cidr=service_cluster_ip_range,
            etcd_members=tuple(
                Member(name, ipaddress.ip_address("127.0.0.1")) for name in etcd_members
            ),
        )
    )
    retargeted = result.names(RETARGETED)
    if note is not None:
        if retargeted:
            note(f"{', '.join(retargeted)}: server is now {result.server}")
        for warning in open_directories(data_dir):
            note(f"warning: {warning}")
    cert, key = result.cert_and_key("apiserver")
    ca_cert, _ = result.cert_and_key("ca")
    kubelet_cert, kubelet_key = result.cert_and_key("apiserver-kubelet-client")
    config = ServerConfig(
        tls_cert_file=cert,
        tls_private_key_file=key,
        client_ca_file=ca_cert,
        bind_address=bind_address,
        secure_port=port,
        storage_url=f"sqlite:///{data_dir / 'kubeward.db'}?synchronous={storage_sync}",
        anonymous_auth=True,
        # kubeadm turns bootstrap tokens on, so that nodes can join with `kubeward token create`.
        enable_bootstrap_token_auth=True,
        authorization_modes=tuple(m.strip() for m in authorization_mode.split(",") if m.strip()),
        service_account_issuers=(SERVICE_ACCOUNT_ISSUER,),
        service_account_signing_key_file=data_dir / PKI_DIR / SA_KEY_FILE,
        service_account_key_files=(data_dir / PKI_DIR / SA_PUB_FILE,),
        service_account_max_token_expiration_seconds=max_token_expiration_seconds,
        service_cluster_ip_range=service_cluster_ip_range,
        # kubeadm enables NodeRestriction (off by default in kube-apiserver) with the Node mode.
        enable_admission_plugins=("NodeRestriction",),
        # Local nodes serve with certificates of the cluster CA and are reached at their
        # InternalIP (their host names are not in DNS), as kubeadm used to set it.
        kubelet_client_certificate=kubelet_cert,
        kubelet_client_key=kubelet_key,
        kubelet_certificate_authority=ca_cert,
        kubelet_preferred_address_types=("InternalIP", "ExternalIP", "Hostname"),
    )
    return config, result.kubeconfig("admin.conf")
