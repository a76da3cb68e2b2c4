"""The webhook flags of kube-apiserver, shared by ``kubeward serve`` and ``kubeward up``.

``--authorization-webhook-*`` (the Webhook authorization mode) and
``--authentication-token-webhook-*`` (token authentication by a remote service), with
kube-apiserver's names and defaults. :func:`webhook_flags` adds them to a command, which takes
them as ``**webhooks``; :func:`webhook_config` turns them into ``ServerConfig`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kubeward.authn.factory import TokenWebhookSettings
from kubeward.authz.modes import WebhookSettings
from kubeward.cli.flags import timeout_seconds

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
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
)


def webhook_flags(command: F) -> F:
    """Add every webhook flag to ``command``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def webhook_config(webhooks: dict[str, Any]) -> dict[str, Any]:
    """The ``ServerConfig`` fields of the flags (InputError naming a bad duration)."""
    return {
        "authorization_webhook_config_file": webhooks["authorization_webhook_config_file"],
        "authorization_webhook": WebhookSettings(
            version=webhooks["authorization_webhook_version"],
            authorized_ttl=timeout_seconds(
                "--authorization-webhook-cache-authorized-ttl",
                webhooks["authorization_webhook_cache_authorized_ttl"],
            ),
            unauthorized_ttl=timeout_seconds(
                "--authorization-webhook-cache-unauthorized-ttl",
                webhooks["authorization_webhook_cache_unauthorized_ttl"],
            ),
        ),
        "authentication_token_webhook_config_file": webhooks[
            "authentication_token_webhook_config_file"
        ],
        "authentication_token_webhook": TokenWebhookSettings(
            version=webhooks["authentication_token_webhook_version"],
            cache_ttl=timeout_seconds(
                "--authentication-token-webhook-cache-ttl",
                webhooks["authentication_token_webhook_cache_ttl"],
            ),
        ),
    }
