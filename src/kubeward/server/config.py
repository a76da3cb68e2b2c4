"""The API server's configuration: kube-apiserver's flags as one immutable value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kubeward.api.features import Features
from kubeward.authn.factory import LegacyOIDCFlags, TokenWebhookSettings
from kubeward.authz.modes import WebhookSettings
from kubeward.storage.etcd.config import EtcdConfig


@dataclass(frozen=True)
class ServerConfig:
    tls_cert_file: Path
    tls_private_key_file: Path
    client_ca_file: Path | None = None
    bind_address: str = "0.0.0.0"
    secure_port: int = 6443
    tls_min_version: str = "VersionTLS12"
    storage_url: str = ""
    # --etcd-servers and friends: when set, the store is etcd and storage_url is not used.
    etcd: EtcdConfig | None = None
    token_auth_file: Path | None = None
    basic_auth_file: Path | None = None
    anonymous_auth: bool = True
    # --enable-bootstrap-token-auth: bearer tokens backed by kube-system bootstrap token Secrets.
    enable_bootstrap_token_auth: bool = False
    authorization_modes: tuple[str, ...] = ("RBAC",)
    authorization_policy_file: Path | None = None
    authorization_webhook_config_file: Path | None = None
    # --authorization-webhook-version and -cache-*-ttl; the timeout and retry schedule are
    # upstream's and not flags (tests shorten them).
    authorization_webhook: WebhookSettings = field(default_factory=WebhookSettings)
    # --authorization-config (AuthorizationConfiguration): when set, the chain comes from the
    # file and authorization_modes / authorization_webhook_config_file are not used; the
    # webhooks' retry schedule is authorization_webhook.backoff.
    authorization_config_file: Path | None = None
    authentication_config_file: Path | None = None
    oidc: LegacyOIDCFlags = field(default_factory=LegacyOIDCFlags)
    authentication_token_webhook_config_file: Path | None = None
    # --authentication-token-webhook-version and -cache-ttl (timeout and retries as upstream).
    authentication_token_webhook: TokenWebhookSettings = field(default_factory=TokenWebhookSettings)
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    request_timeout_seconds: int = 60
    # Priority and fairness (kube-apiserver's --enable-priority-and-fairness, on by default).
    enable_priority_and_fairness: bool = True
    # Connection timeouts, kube-apiserver's values (secure_serving.go): the TLS handshake and the
    # request headers 32 s, an idle keep-alive connection 90 s. The body has no bound of its own
    # there but the request timeout; kubeward's defaults to the same 60 s.
    tls_handshake_timeout_seconds: float = 32.0
    request_header_timeout_seconds: float = 32.0
    request_body_timeout_seconds: float = 60.0
    idle_connection_timeout_seconds: float = 90.0
    min_request_timeout_seconds: int = 1800
    max_request_body_bytes: int = 3 * 1024 * 1024
    advertise_address: str = "127.0.0.1"
    # Service accounts and admission (kube-apiserver's flags of the same names).
    service_account_issuers: tuple[str, ...] = ()
    service_account_signing_key_file: Path | None = None
    service_account_key_files: tuple[Path, ...] = ()
    api_audiences: tuple[str, ...] = ()
    service_account_max_token_expiration_seconds: int = 0
    # Services (kube-apiserver's flags of the same names and defaults).
    service_cluster_ip_range: str = "10.0.0.0/24"
    service_node_port_range: str = "30000-32767"
    enable_admission_plugins: tuple[str, ...] = ()
    # --feature-gates and --runtime-config (api.features): the gates on and the
    # off-by-default API versions turned on.
    features: Features = field(default_factory=Features)
    disable_admission_plugins: tuple[str, ...] = ()
    # How the API server reaches kubelets (logs, exec, port-forward, node proxy): its client
    # certificate, the CA of the kubelets' serving certificates (none: not verified, as
    # kube-apiserver without --kubelet-certificate-authority), the address types in order.
    kubelet_client_certificate: Path | None = None
    kubelet_client_key: Path | None = None
    kubelet_certificate_authority: Path | None = None
    kubelet_preferred_address_types: tuple[str, ...] = (
        "Hostname",
        "InternalDNS",
        "InternalIP",
        "ExternalDNS",
        "ExternalIP",
    )
    extra: dict[str, str] = field(default_factory=dict)
