"""``kubeward serve``: the API server, with kube-apiserver's flag names.

It says on stderr, before it starts, what in its flags weakens the defaults a newcomer may take
for granted — listening beyond this machine, no client-certificate authentication, AlwaysAllow —
and on stdout when it is ready to serve.
"""

from __future__ import annotations

import ipaddress
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
from kubeward.cli.etcd_flags import etcd_config_from_flags, etcd_options
from kubeward.cli.feature_flags import feature_flags, features_from_flags
from kubeward.cli.flags import timeout_seconds
from kubeward.cli.kubelet_client_flags import kubelet_client_config, kubelet_client_flags
from kubeward.cli.runtime import run_async, setup_logging
from kubeward.errors import InputError
from kubeward.pki.duration import parse_duration
from kubeward.server.config import ServerConfig
from kubeward.server.wiring.builder import RunningServer, serve_until_signalled

_MODES = "AlwaysAllow, AlwaysDeny, RBAC"


@click.command("serve")
@click.option(
    "--secure-port",
    type=click.IntRange(0, 65535),
    default=6443,
    show_default=True,
    help="The port to serve HTTPS on (there is no plain-HTTP port).",
)
@click.option(
    "--bind-address", default="0.0.0.0", show_default=True, help="The IP address to listen on."
)
@click.option(
    "--advertise-address",
    default="127.0.0.1",
    show_default=True,
    help="The address clients are told to reach the server at.",
)
@click.option(
    "--tls-cert-file",
    type=click.Path(path_type=Path),
    required=True,
    help="The serving certificate (PEM).",
)
@click.option(
    "--tls-private-key-file",
    type=click.Path(path_type=Path),
    required=True,
    help="The serving certificate's private key (PEM).",
)
@click.option(
    "--client-ca-file",
    type=click.Path(path_type=Path),
    help="CA bundle that client certificates must chain to; enables x509 client authentication.",
)
@click.option(
    "--tls-min-version",
    default="VersionTLS12",
    show_default=True,
    type=click.Choice(["VersionTLS12", "VersionTLS13"]),
    help="Minimum TLS version.",
)
@click.option(
    "--storage",
    "storage_url",
    default="",
    help="Storage URL: sqlite:///path/file.db (default: kubeward.db in --data-dir).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".kubeward"),
    show_default=True,
    help="Directory for the embedded SQLite store.",
)
@click.option(
    "--token-auth-file",
    type=click.Path(path_type=Path),
    help='CSV of static bearer tokens: token,user,uid,"group1,group2" (re-read when it changes).',
)
@click.option(
    "--basic-auth-file",
    type=click.Path(path_type=Path),
    help='LEGACY, removed from Kubernetes in 1.19: CSV of password,user,uid,"groups".',
)
@click.option(
    "--anonymous-auth/--no-anonymous-auth",
    default=True,
    show_default=True,
    help="Treat requests without credentials as system:anonymous.",
)
@click.option(
    "--enable-bootstrap-token-auth",
    is_flag=True,
    help="Accept bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system) as bearer tokens.",
)
@click.option(
    "--authorization-mode",
    default="RBAC",
    show_default=True,
    help=f"Comma-separated authorizers, in order: {_MODES}. RBAC by default (kube-apiserver defaults to AlwaysAllow; kubeward is secure by default).",
)
@click.option(
    "--authorization-policy-file",
    type=click.Path(path_type=Path),
    default=None,
    help="The ABAC policy (JSON lines) for --authorization-mode=ABAC; re-read when it changes.",
)
@auth_flags
@kubelet_client_flags
@click.option(
    "--max-requests-inflight",
    type=click.IntRange(1),
    default=400,
    show_default=True,
    help="Maximum concurrent non-watch requests; more get 429.",
)
@click.option(
    "--max-mutating-requests-inflight",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Maximum concurrent mutating requests (with priority and fairness, added to --max-requests-inflight to make the server's concurrency limit).",
)
@click.option(
    "--enable-priority-and-fairness",
    type=click.BOOL,
    default=True,
    show_default=True,
    help="API Priority and Fairness (FlowSchemas, priority levels, fair queuing); off means the plain in-flight limits (--enable-priority-and-fairness=false, as kube-apiserver).",
)
@click.option(
    "--tls-handshake-timeout",
    default="32s",
    show_default=True,
    help="Longest a client may take to complete the TLS handshake (a duration: 32s, 1m).",
)
@click.option(
    "--request-header-timeout",
    default="32s",
    show_default=True,
    help="Longest a client may take to send a request's line and headers (kube-apiserver's ReadHeaderTimeout).",
)
@click.option(
    "--request-body-timeout",
    default="60s",
    show_default=True,
    help="Longest a client may take to send a request body; slower bodies are cut off and the connection closed.",
)
@click.option(
    "--idle-connection-timeout",
    default="90s",
    show_default=True,
    help="How long a kept-alive connection may stay idle between requests (kube-apiserver's IdleTimeout).",
)
@click.option(
    "--request-timeout",
    "request_timeout",
    type=click.IntRange(1),
    default=60,
    show_default=True,
    help="Seconds a non-watch request may take before 504.",
)
@click.option(
    "--service-account-issuer",
    "service_account_issuers",
    multiple=True,
    help="Issuer (iss) of service-account tokens; repeatable: the first signs, all are accepted.",
)
@click.option(
    "--service-account-signing-key-file",
    type=click.Path(path_type=Path),
    help="Private key (PEM, RSA or ECDSA) that signs service-account tokens.",
)
@click.option(
    "--service-account-key-file",
    "service_account_key_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="PEM public keys, private keys or certificates that verify service-account tokens; repeatable (key rotation).",
)
@click.option(
    "--api-audiences",
    default="",
    help="Comma-separated audiences of the API (default: the service-account issuers).",
)
@click.option(
    "--service-account-max-token-expiration",
    default="",
    help="Longest validity a TokenRequest may get, e.g. 24h (default: no limit).",
)
@click.option(
    "--service-cluster-ip-range",
    default=DEFAULT_SERVICE_CLUSTER_IP_RANGE,
    show_default=True,
    help="The CIDR Service cluster IPs are allocated from; its first address is the kubernetes Service's.",
)
@click.option(
    "--service-node-port-range",
    default=DEFAULT_SERVICE_NODE_PORT_RANGE,
    show_default=True,
    help="The ports NodePort Services are allocated from (low-high, or base+size).",
)
@click.option(
    "--enable-admission-plugins",
    default="",
    help="Comma-separated admission plugins to enable besides the default ones (Kubernetes' names).",
)
@click.option(
    "--disable-admission-plugins",
    default="",
    help="Comma-separated admission plugins to disable (Kubernetes' names).",
)
@feature_flags
@click.option("-v", "--verbose", count=True, help="More logging.")
@etcd_options
def serve(
    secure_port: int,
    bind_address: str,
    advertise_address: str,
    tls_cert_file: Path,
    tls_private_key_file: Path,
    client_ca_file: Path | None,
    tls_min_version: str,
    storage_url: str,
    data_dir: Path,
    token_auth_file: Path | None,
    basic_auth_file: Path | None,
    anonymous_auth: bool,
    enable_bootstrap_token_auth: bool,
    authorization_mode: str,
    authorization_policy_file: Path | None,
    max_requests_inflight: int,
    max_mutating_requests_inflight: int,
    enable_priority_and_fairness: bool,
    tls_handshake_timeout: str,
    request_header_timeout: str,
    request_body_timeout: str,
    idle_connection_timeout: str,
    request_timeout: int,
    service_account_issuers: tuple[str, ...],
    service_account_signing_key_file: Path | None,
    service_account_key_files: tuple[Path, ...],
    api_audiences: str,
    service_account_max_token_expiration: str,
    service_cluster_ip_range: str,
    service_node_port_range: str,
    enable_admission_plugins: str,
    disable_admission_plugins: str,
    feature_gates: str,
    runtime_config: str,
    verbose: int,
    **flags: Any,  # the authentication/authorization flags and the etcd flags
) -> None:
    """Run the Kubernetes API server over HTTPS (x509, token and anonymous authentication)."""
    setup_logging(verbose)
    features = features_from_flags(feature_gates, runtime_config)
    etcd = etcd_config_from_flags(flags)
    if etcd is not None and storage_url:
        raise InputError("--storage and --etcd-servers name two stores; give one")
    if not storage_url:
        storage_url = f"sqlite:///{(data_dir / 'kubeward.db').resolve()}"
    config = ServerConfig(
        tls_cert_file=tls_cert_file,
        tls_private_key_file=tls_private_key_file,
        client_ca_file=client_ca_file,
        bind_address=bind_address,
        secure_port=secure_port,
        advertise_address=advertise_address,
        tls_min_version=tls_min_version,
        storage_url=storage_url,
        etcd=etcd,
        token_auth_file=token_auth_file,
        basic_auth_file=basic_auth_file,
        anonymous_auth=anonymous_auth,
        enable_bootstrap_token_auth=enable_bootstrap_token_auth,
        authorization_modes=tuple(m.strip() for m in authorization_mode.split(",") if m.strip()),
        authorization_policy_file=authorization_policy_file,
        **auth_config(flags),
        **kubelet_client_config(flags),
        max_requests_inflight=max_requests_inflight,
        max_mutating_requests_inflight=max_mutating_requests_inflight,
        enable_priority_and_fairness=enable_priority_and_fairness,
        tls_handshake_timeout_seconds=timeout_seconds(
            "--tls-handshake-timeout", tls_handshake_timeout
        ),
        request_header_timeout_seconds=timeout_seconds(
            "--request-header-timeout", request_header_timeout
        ),
        request_body_timeout_seconds=timeout_seconds(
            "--request-body-timeout", request_body_timeout
        ),
        idle_connection_timeout_seconds=timeout_seconds(
            "--idle-connection-timeout", idle_connection_timeout
        ),
        request_timeout_seconds=request_timeout,
        service_account_issuers=service_account_issuers,
        service_account_signing_key_file=service_account_signing_key_file,
        service_account_key_files=service_account_key_files,
        api_audiences=_split(api_audiences),
        service_account_max_token_expiration_seconds=max_token_expiration_seconds(
            service_account_max_token_expiration
        ),
        service_cluster_ip_range=str(IPRange.parse(service_cluster_ip_range)),
        service_node_port_range=str(PortRange.parse(service_node_port_range)),
        enable_admission_plugins=_split(enable_admission_plugins),
        disable_admission_plugins=_split(disable_admission_plugins),
        features=features,
    )
    for warning in startup_warnings(config):
        click.echo(f"warning: {warning}", err=True)

    def ready(running: RunningServer) -> None:
        host = config.bind_address if ":" not in config.bind_address else f"[{config.bind_address}]"
        click.echo(f"kubeward API server is ready: https://{host}:{running.port}")

    run_async(serve_until_signalled(config, on_ready=ready))


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def startup_warnings(config: ServerConfig) -> list[str]:
    """What in the flags exposes more than a newcomer may expect, one line each."""
    warnings = []
    if not is_loopback(config.bind_address):
        warnings.append(
            f"--bind-address {config.bind_address}: the API server accepts connections from other "
            "machines; use --bind-address 127.0.0.1 to keep it on this one"
        )
    if config.client_ca_file is None:
        warnings.append(
            "no --client-ca-file: client certificates are not asked for, so a kubeconfig with a "
            "certificate (admin.conf) is treated as anonymous; give the cluster CA (pki/ca.crt)"
        )
    if "AlwaysAllow" in config.authorization_modes:
        who = "anyone, anonymous users included" if config.anonymous_auth else "any user"
        warnings.append(
            f"--authorization-mode {','.join(config.authorization_modes)}: AlwaysAllow allows "
            f"every request that reaches it, from {who}; use RBAC"
        )
    return warnings


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def max_token_expiration_seconds(text: str) -> int:
    """``--service-account-max-token-expiration`` (a Go duration) in seconds; 0 when unset."""
    if not text:
        return 0
    try:
        seconds = int(parse_duration(text).total_seconds())
    except InputError as exc:
        raise InputError(f"--service-account-max-token-expiration: {exc}") from exc
    if seconds <= 0:
        raise InputError(f"--service-account-max-token-expiration: {text!r} must be positive")
    return seconds
