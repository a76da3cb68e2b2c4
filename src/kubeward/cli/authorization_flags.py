"""The Webhook authorization mode's flags, shared by ``kubeward serve`` and ``kubeward up``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kubeward.authz.modes import WebhookSettings
from kubeward.cli.flags import timeout_seconds

F = TypeVar("F", bound=Callable[..., Any])


def authorization_webhook_options(command: F) -> F:
    """kube-apiserver's ``--authorization-webhook-*`` flags, for ``serve`` and ``up``."""
    for option in reversed(
        (
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
        )
    ):
        command = option(command)
    return command


def webhook_settings(version: str, authorized_ttl: str, unauthorized_ttl: str) -> WebhookSettings:
    """The Webhook mode's settings from its flags (InputError naming a bad flag)."""
    return WebhookSettings(
        version=version,
        authorized_ttl=timeout_seconds(
            "--authorization-webhook-cache-authorized-ttl", authorized_ttl
        ),
        unauthorized_ttl=timeout_seconds(
            "--authorization-webhook-cache-unauthorized-ttl", unauthorized_ttl
        ),
    )
