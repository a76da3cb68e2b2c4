"""kube-apiserver's authentication and authorization plug-in flags, shared by ``serve`` and ``up``.

``--authorization-webhook-*`` (the Webhook authorization mode), ``--authorization-config``
(structured authorization, exclusive with ``--authorization-mode`` and the webhook flags, with
kube-apiserver's message),
``--authentication-token-webhook-*`` (token authentication by a remote service),
``--authentication-config`` and ``--oidc-*`` (JWT issuers), with kube-apiserver's names and
defaults. :func:`auth_flags` adds them to a command, which takes them as ``**auth``;
:func:`auth_config` turns them into ``ServerConfig`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from kubeward.authn.factory import LegacyOIDCFlags, TokenWebhookSettings
from kubeward.authz.modes import WebhookSettings
from kubeward.cli.flags import cache_ttl_seconds
from kubeward.errors import InputError
from kubeward.fileio import read_bytes

F = TypeVar("F", bound=Callable[..., Any])

# The flags --authorization-config excludes when given (kube-apiserver's AreLegacyFlagsSet).
LEGACY_AUTHORIZATION_FLAGS = (
    "authorization_mode",
    "authorization_webhook_config_file",
    "authorization_webhook_version",
    "authorization_webhook_cache_authorized_ttl",
    "authorization_webhook_cache_unauthorized_ttl",
)
AUTHORIZATION_CONFIG_CONFLICT = (
    "--authorization-config can not be specified when --authorization-mode or"
    " --authorization-webhook-* flags are defined"
)

_OPTIONS = (
    click.option(
        "--authorization-config",
        type=click.Path(path_type=Path),
        default=None,
        help="An AuthorizationConfiguration (apiserver.config.k8s.io/v1): the ordered authorizers, several webhooks with matchConditions; re-read when it changes. Excludes --authorization-mode and --authorization-webhook-*.",
    ),
    click.option(
        "--authorization-webhook-config-file",
        type=click.Path(path_type=Path),
        default=None,
        help="A kubeconfig naming the authorization webhook (server URL, its CA, the client certificate to present) for --authorization-mode=Webhook.",
    ),
    click.option(
        "--authorization-webhook-version",
        default="v1beta1",
        show_default=True,
        help="The authorization.k8s.io SubjectAccessReview version sent to the webhook (v1 or v1beta1).",
    ),
    click.option(
        "--authorization-webhook-cache-authorized-ttl",
        default="5m",
        show_default=True,
        help="How long an allow from the webhook is cached.",
    ),
    click.option(
        "--authorization-webhook-cache-unauthorized-ttl",
        default="30s",
        show_default=True,
        help="How long a deny or no opinion from the webhook is cached.",
    ),
    click.option(
        "--authentication-token-webhook-config-file",
        type=click.Path(path_type=Path),
        default=None,
        help="A kubeconfig naming a TokenReview service that says whose bearer tokens are (an LDAP or Kerberos bridge).",
    ),
    click.option(
        "--authentication-token-webhook-version",
        default="v1beta1",
        show_default=True,
        help="The authentication.k8s.io TokenReview version sent to the webhook (v1 or v1beta1).",
    ),
    click.option(
        "--authentication-token-webhook-cache-ttl",
        default="2m",
        show_default=True,
        help="How long the token webhook's answers are cached.",
    ),
    click.option(
        "--authentication-config",
        type=click.Path(path_type=Path),
        default=None,
        help="An AuthenticationConfiguration (apiserver.config.k8s.io/v1) with JWT issuers; re-read when it changes.",
    ),
    click.option(
        "--oidc-issuer-url",
        default="",
        help="The OpenID issuer whose ID tokens are accepted (https).",
    ),
    click.option("--oidc-client-id", default="", help="The audience ID tokens must carry."),
    click.option(
        "--oidc-username-claim",
        default="sub",
        show_default=True,
        help="The claim that names the user.",
    ),
    click.option(
        "--oidc-username-prefix",
        default="",
        help="Prefixed to usernames (default: ISSUER# unless the claim is email; '-' for none).",
    ),
    click.option("--oidc-groups-claim", default="", help="The claim that lists the user's groups."),
    click.option("--oidc-groups-prefix", default="", help="Prefixed to every group."),
    click.option(
        "--oidc-ca-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The CA the issuer's serving certificate chains to (default: the system's).",
    ),
    click.option(
        "--oidc-required-claim",
        multiple=True,
        help="key=value: a claim every ID token must carry with that value (repeatable).",
    ),
    click.option(
        "--oidc-signing-algs",
        default="RS256",
        show_default=True,
        help="Comma-separated JOSE algorithms ID tokens may be signed with.",
    ),
)


def auth_flags(command: F) -> F:
    """Add every flag of this module to ``command``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def legacy_oidc(values: dict[str, Any]) -> LegacyOIDCFlags:
    """The ``--oidc-*`` flags (InputError naming a bad one)."""
    required: dict[str, str] = {}
    for item in values["oidc_required_claim"]:
        key, sep, value = str(item).partition("=")
        if not sep or not key:
            raise InputError(f"--oidc-required-claim: {item!r} is not key=value")
        required[key] = value
    ca_file = values["oidc_ca_file"]
    return LegacyOIDCFlags(
        issuer_url=values["oidc_issuer_url"],
        client_id=values["oidc_client_id"],
        username_claim=values["oidc_username_claim"],
        username_prefix=values["oidc_username_prefix"],
        groups_claim=values["oidc_groups_claim"],
        groups_prefix=values["oidc_groups_prefix"],
        required_claims=required,
        ca_pem=read_bytes(ca_file).decode() if ca_file else "",
        signing_algorithms=tuple(
            a.strip() for a in values["oidc_signing_algs"].split(",") if a.strip()
        ),
    )


def legacy_authorization_flags_given() -> bool:
    """Whether the running command was given a flag ``--authorization-config`` excludes."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    return any(
        ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
        for name in LEGACY_AUTHORIZATION_FLAGS
    )


def auth_config(webhooks: dict[str, Any]) -> dict[str, Any]:
    """The ``ServerConfig`` fields of the flags (InputError naming a bad value)."""
    authorization_config = webhooks["authorization_config"]
    if authorization_config is not None and legacy_authorization_flags_given():
        raise InputError(AUTHORIZATION_CONFIG_CONFLICT)
    return {
        "authorization_config_file": authorization_config,
        "authentication_config_file": webhooks["authentication_config"],
        "oidc": legacy_oidc(webhooks),
        "authorization_webhook_config_file": webhooks["authorization_webhook_config_file"],
        "authorization_webhook": WebhookSettings(
            version=webhooks["authorization_webhook_version"],
            authorized_ttl=cache_ttl_seconds(
                "--authorization-webhook-cache-authorized-ttl",
                webhooks["authorization_webhook_cache_authorized_ttl"],
            ),
            unauthorized_ttl=cache_ttl_seconds(
                "--authorization-webhook-cache-unauthorized-ttl",
                webhooks["authorization_webhook_cache_unauthorized_ttl"],
            ),
        ),
        "authentication_token_webhook_config_file": webhooks[
            "authentication_token_webhook_config_file"
        ],
        "authentication_token_webhook": TokenWebhookSettings(
            version=webhooks["authentication_token_webhook_version"],
            cache_ttl=cache_ttl_seconds(
                "--authentication-token-webhook-cache-ttl",
                webhooks["authentication_token_webhook_cache_ttl"],
            ),
        ),
    }
