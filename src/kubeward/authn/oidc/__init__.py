"""JWT (OpenID Connect) token authentication: ``--authentication-config`` and ``--oidc-*``."""

from kubeward.authn.oidc.authenticator import Evaluator, JWTAuthenticator
from kubeward.authn.oidc.config import (
    JWTAuthenticatorConfig,
    LegacyOIDCFlags,
    from_legacy_flags,
    parse_authentication_configuration,
)
from kubeward.authn.oidc.keys import JSONFetcher

__all__ = [
    "Evaluator",
    "JSONFetcher",
    "JWTAuthenticator",
    "JWTAuthenticatorConfig",
    "LegacyOIDCFlags",
    "from_legacy_flags",
    "parse_authentication_configuration",
]
