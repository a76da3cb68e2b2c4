"""``kubeward config new-user``: a new identity for a cluster, as a ready kubeconfig.

It replaces the course's ``openssl genrsa`` / ``openssl req -subj "/CN=jane/O=dev"`` /
``openssl x509 -req -CA ca.crt -CAkey ca.key`` / ``kubectl config set-credentials
--embed-certs`` sequence with one command.

Rules:
 1. The certificate is a client certificate (``clientAuth``) whose CN is the user name and whose
    O values are its groups, signed by the CA in ``--ca-dir``; its lifetime never exceeds the CA's.
 2. The new private key exists only inside the kubeconfig, which is written atomically, 0600,
    and never over an existing file; ``--out -`` prints it instead.
 3. Every input is checked before the key is generated, so a bad flag leaves nothing behind.

The PKI layer sits above the kubeconfig layer, so issuing happens here, in the CLI, and the PKI
modules are imported only when this command runs, keeping the other ``config`` commands fast.
"""

from __future__ import annotations

import json
import os

import click

from kubeward.errors import InputError
from kubeward.kubeconfig.build import (
    client_certificate_kubeconfig,
    dump_kubeconfig,
    write_kubeconfig,
)


@click.command("new-user")
@click.option("--name", "user_name", required=True, help="User name: the certificate's CN.")
@click.option(
    "--org", "organizations", multiple=True, help="Group: the certificate's O (repeatable)."
)
@click.option(
    "--ca-dir",
    metavar="DIR",
    help="Folder holding ca.crt and ca.key (or its pki/ subfolder); not with --via-csr.",
)
@click.option("--server", help="API server URL, https://HOST:PORT; not with --via-csr.")
@click.option(
    "--via-csr",
    is_flag=True,
    help="Ask the cluster's Certificates API instead of signing with a local CA: the key stays here.",
)
@click.option(
    "--kubeconfig",
    "admin_kubeconfig",
    metavar="FILE",
    help="With --via-csr: the kubeconfig to send the CSR with (its cluster is the new user's).",
)
@click.option(
    "--approve",
    is_flag=True,
    help="With --via-csr: approve the CSR too (needs the approve permission).",
)
@click.option(
    "--wait",
    default="5m",
    show_default=True,
    help="With --via-csr: how long to wait for the certificate.",
)
@click.option("--duration", default="8760h", show_default=True, help="Certificate validity.")
@click.option("--cluster-name", default="kubernetes", show_default=True)
@click.option("--namespace", default="", help="Default namespace of the new context.")
@click.option(
    "--key-algorithm",
    default="rsa-2048",
    show_default=True,
    help="rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384 or ed25519.",
)
@click.option(
    "--out",
    default=None,
    metavar="FILE",
    help="Kubeconfig to write (default NAME.kubeconfig; '-' prints it). Never overwritten.",
)
def new_user(
    user_name: str,
    organizations: tuple[str, ...],
    ca_dir: str | None,
    server: str | None,
    via_csr: bool,
    admin_kubeconfig: str | None,
    approve: bool,
    wait: str,
    duration: str,
    cluster_name: str,
    namespace: str,
    key_algorithm: str,
    out: str | None,
) -> None:
    """Create a user's key, CA-signed client certificate and kubeconfig.

    The certificate's CN is the user name and each --org a group, which is how Kubernetes
    reads a client certificate; bind them to roles with RBAC.
    """
    from cryptography import x509

    from kubeward.pki import ca as pki_ca
    from kubeward.pki import duration as pki_duration
    from kubeward.pki import keys as pki_keys

    if not user_name.strip():
        raise InputError("--name: must not be empty")
    if any(not org.strip() for org in organizations):
        raise InputError("--org: must not be empty")
    if via_csr:
        if ca_dir or server:
            raise InputError(
                "--via-csr takes the server and CA from --kubeconfig; drop --ca-dir and --server"
            )
        if not admin_kubeconfig:
            raise InputError("--via-csr needs --kubeconfig, the identity that sends the CSR")
    else:
        if approve or admin_kubeconfig:
            raise InputError("--approve and --kubeconfig go with --via-csr")
        if not ca_dir or not server:
            raise InputError("give --ca-dir and --server, or --via-csr --kubeconfig FILE")
        if not server.startswith("https://") or len(server) <= len("https://"):
            raise InputError(f"--server {server}: must be an https:// URL")
    validity = pki_duration.parse_duration(duration)
    pki_keys.check_algorithm(key_algorithm)
    target = out if out is not None else f"{user_name}.kubeconfig"
    if target != "-" and os.path.lexists(target):
        raise InputError(f"{target}: already exists; refusing to overwrite it")
    if via_csr:
        assert admin_kubeconfig is not None
        from kubeward.cli.config_via_csr import request_certificate
        from kubeward.cli.runtime import run_async

        issued = run_async(
            request_certificate(
                admin_kubeconfig,
                user_name,
                organizations,
                key_algorithm=key_algorithm,
                validity=validity,
                approve=approve,
                timeout=pki_duration.parse_duration(wait).total_seconds(),
                on_waiting=lambda name: click.echo(
                    f"Waiting for approval: kubectl certificate approve {name}", err=True
                ),
            )
        )
        doc = client_certificate_kubeconfig(
            cluster_name=issued.cluster_name,
            server=issued.server,
            ca_pem=issued.ca_pem,
            user_name=user_name,
            cert_pem=issued.cert_pem,
            key_pem=issued.key_pem,
            namespace=namespace,
        )
        certificate = x509.load_pem_x509_certificate(issued.cert_pem)
    else:
        assert ca_dir is not None and server is not None
        authority = pki_ca.CertificateAuthority.from_dir(ca_dir)
        key = pki_keys.generate_private_key(key_algorithm)
        certificate = authority.issue_client_certificate(
            key.public_key(), user_name, list(organizations), validity
        )
        doc = client_certificate_kubeconfig(
            cluster_name=cluster_name,
            server=server,
            ca_pem=authority.cert_pem,
            user_name=user_name,
            cert_pem=pki_ca.certificate_pem(certificate),
            key_pem=pki_keys.private_key_pem(key),
            namespace=namespace,
        )
    if target == "-":
        click.echo(dump_kubeconfig(doc).decode(), nl=False)
        return
    write_kubeconfig(target, doc)
    groups = ", ".join(organizations) if organizations else "none"
    expires = certificate.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    user = json.dumps(user_name, ensure_ascii=False)
    context = json.dumps(doc["current-context"], ensure_ascii=False)
    click.echo(
        f"Wrote {target} for user {user} (groups: {groups}), context {context}; "
        f"the certificate expires {expires}."
    )
