"""Structured authorization: ``--authorization-config`` (``AuthorizationConfiguration``)."""

from kubeward.authz.structured.chain import ConfiguredAuthorizer, StructuredOptions
from kubeward.authz.structured.config import (
    AuthorizerConfig,
    WebhookConfig,
    parse_authorization_configuration,
)

__all__ = [
    "AuthorizerConfig",
    "ConfiguredAuthorizer",
    "StructuredOptions",
    "WebhookConfig",
    "parse_authorization_configuration",
]
