"""The one place that knows every authenticator, as kube-apiserver's authenticator config does.

``build_authenticator`` turns typed options (kube-apiserver's flags) into the union the request
path asks; ``service_account_authenticator`` makes the bearer-token authenticator of
service-account tokens, whose object lookup the server keeps current. Nothing else imports an
authenticator implementation (an import-linter contract keeps ``server`` to this module).

Rules, as upstream orders them:

 1. Request authenticators first: x509 client certificates (``--client-ca-file``), then the
    legacy basic-auth file (``--basic-auth-file``, which logs its deprecation at start).
 2. Bearer tokens next: the static token file (``--token-auth-file``), then service-account
    tokens, then bootstrap tokens (``--enable-bootstrap-token-auth``) — whatever token
    authenticators the caller adds, in that order — then JWT issuers
    (``--authentication-config`` or ``--oidc-*``), then the token webhook
    (``--authentication-token-webhook-config-file``).
 3. Anonymous last, when ``--anonymous-auth`` is on: a request with no credential at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from kubeward.authn.basic import WARNING as BASIC_WARNING
from kubeward.authn.basic import BasicAuthenticator
from kubeward.authn.bootstrap import SECRET_NAMESPACE, BootstrapTokenAuthenticator, SecretLookup
from kubeward.authn.interfaces import Authenticator, TokenAuthenticator
from kubeward.authn.oidc import (
    JSONFetcher,
    JWTAuthenticatorConfig,
    LegacyOIDCFlags,
    from_legacy_flags,
)
from kubeward.authn.oidc.set import JWTAuthenticators
from kubeward.authn.serviceaccount import ObjectLookup, ServiceAccountAuthenticator
from kubeward.authn.serviceaccount_keys import KeySet
from kubeward.authn.tokenfile import TokenFileAuthenticator
from kubeward.authn.union import UnionAuthenticator
from kubeward.authn.webhook import VERSIONS as TOKEN_WEBHOOK_VERSIONS
from kubeward.authn.webhook import TokenWebhookSettings, WebhookTokenAuthenticator
from kubeward.authn.x509 import X509Authenticator
from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.webhook_calls import ReviewTransport

__all__ = [
    "BOOTSTRAP_SECRET_NAMESPACE",
    "AuthenticationOptions",
    "JWTOptions",
    "LegacyOIDCFlags",
    "TokenWebhookOptions",
    "TokenWebhookSettings",
    "bootstrap_token_authenticator",
    "build_authenticator",
    "load_ca_bundle",
    "service_account_authenticator",
]

log = logging.getLogger("kubeward.apiserver")

# Where bootstrap token Secrets live (the server follows that namespace's Secrets).
BOOTSTRAP_SECRET_NAMESPACE = SECRET_NAMESPACE


@dataclass(frozen=True)
class TokenWebhookOptions:
    """``--authentication-token-webhook-*``: the kubeconfig naming the service, how to call it.

    ``transport`` makes the HTTPS client from the kubeconfig (the server's wiring gives
    ``client.webhook.WebhookClient``; this layer holds no HTTP code).
    """

    config_file: Path
    transport: Callable[[Path], ReviewTransport]
    settings: TokenWebhookSettings = field(default_factory=TokenWebhookSettings)


@dataclass(frozen=True)
class JWTOptions:
    """``--authentication-config`` (followed) or the ``--oidc-*`` flags, and the HTTPS fetcher
    of discovery documents and keys (``client.fetch``; this layer holds no HTTP code)."""

    fetcher: JSONFetcher
    config_file: Path | None = None
    legacy: LegacyOIDCFlags | None = None


def refuse_expressions(config: JWTAuthenticatorConfig) -> None:
    """CEL expressions need the CEL engine (``kubeward.cel``), which this build lacks."""
    if config.expressions:
        raise InputError(
            f"jwt issuer {config.issuer_url}: CEL expressions in claimMappings and validation"
            " rules are not supported yet; use claim and prefix"
        )


def jwt_authenticators(options: JWTOptions) -> JWTAuthenticators:
    """The JWT authenticators, refusing the flags kube-apiserver refuses together."""
    if options.config_file is not None and options.legacy is not None and options.legacy.given:
        raise InputError("authentication-config file and oidc-* flags are mutually exclusive")
    if options.config_file is not None:
        return JWTAuthenticators(
            options.fetcher, config_file=options.config_file, check=refuse_expressions
        )
    fixed = [from_legacy_flags(options.legacy)] if options.legacy and options.legacy.given else []
    return JWTAuthenticators(options.fetcher, fixed=fixed)


@dataclass(frozen=True)
class AuthenticationOptions:
    """kube-apiserver's authentication flags."""

    client_ca_file: Path | None = None
    token_auth_file: Path | None = None
    basic_auth_file: Path | None = None
    anonymous: bool = True
    jwt: JWTOptions | None = None
    token_webhook: TokenWebhookOptions | None = None
    api_audiences: tuple[str, ...] = ()


def load_ca_bundle(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM bundle such as ``--client-ca-file``.

    Raises:
        InputError: the file cannot be read or holds no PEM certificate.
    """
    try:
        return x509.load_pem_x509_certificates(read_bytes(path))
    except ValueError as exc:
        raise InputError(f"{path}: not a PEM certificate bundle") from exc


def build_authenticator(
    options: AuthenticationOptions, token_authenticators: Sequence[TokenAuthenticator] = ()
) -> UnionAuthenticator:
    """Rules 1 to 3; ``token_authenticators`` come after the token file.

    Raises:
        InputError: a file named by the options cannot be used.
    """
    requests: list[Authenticator] = []
    tokens: list[TokenAuthenticator] = []
    if options.client_ca_file is not None:
        requests.append(X509Authenticator(load_ca_bundle(options.client_ca_file)))
    if options.basic_auth_file is not None:
        log.warning("--basic-auth-file is set: %s", BASIC_WARNING)
        requests.append(BasicAuthenticator(options.basic_auth_file))
    if options.token_auth_file is not None:
        tokens.append(TokenFileAuthenticator(options.token_auth_file))
    tokens.extend(token_authenticators)
    if options.jwt is not None:
        tokens.append(jwt_authenticators(options.jwt))
    webhook = options.token_webhook
    if webhook is not None:  # last, as kube-apiserver orders its token authenticators
        if webhook.settings.version not in TOKEN_WEBHOOK_VERSIONS:
            raise InputError(
                f"authentication-token-webhook-version: Unsupported value:"
                f' "{webhook.settings.version}": supported values: "v1", "v1beta1"'
            )
        tokens.append(
            WebhookTokenAuthenticator(
                webhook.transport(webhook.config_file), webhook.settings, options.api_audiences
            )
        )
    return UnionAuthenticator(requests, tokens, anonymous=options.anonymous)


def service_account_authenticator(
    *, issuers: Iterable[str], keys: KeySet, api_audiences: Iterable[str], lookup: ObjectLookup
) -> TokenAuthenticator:
    """The authenticator of service-account tokens (``authn.serviceaccount``)."""
    return ServiceAccountAuthenticator(
        issuers=issuers, keys=keys, api_audiences=api_audiences, lookup=lookup
    )


def bootstrap_token_authenticator(lookup: SecretLookup) -> TokenAuthenticator:
    """The authenticator of bootstrap tokens (``authn.bootstrap``)."""
    return BootstrapTokenAuthenticator(lookup)
