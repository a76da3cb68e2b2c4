"""Authorization: may this user do this, and why (or why not).

The seam is ``interfaces`` (an :class:`Authorizer` answers a decision value with its reason,
never raises to say no; a :class:`RuleResolver` lists what a user may do); ``union`` chains
them so that one mode's "no opinion" passes to the next; ``modes`` is the one module that knows
every ``--authorization-mode`` and builds the chain; ``rbac/`` is Kubernetes' RBAC.
"""

from kubeward.authz.interfaces import (
    Attributes,
    Authorizer,
    AuthzResult,
    Decision,
    RuleResolver,
    RulesResult,
)
from kubeward.authz.modes import AuthorizerChain, build_authorizer

__all__ = [
    "Attributes",
    "Authorizer",
    "AuthorizerChain",
    "AuthzResult",
    "Decision",
    "RuleResolver",
    "RulesResult",
    "build_authorizer",
]
