"""The ``AlwaysAllow`` and ``AlwaysDeny`` authorization modes.

Rules (Kubernetes' ``k8s.io/apiserver/pkg/authorization/authorizerfactory/builtin.go``):
 1. AlwaysAllow allows every request, with an empty reason, and tells a SelfSubjectRulesReview
    that the user may do ``*`` on ``*`` in every group and on every non-resource URL.
 2. AlwaysDeny answers NO_OPINION, not DENY, with the reason ``Everything is forbidden.``: it
    refuses only by not allowing, so an authorizer after it in ``--authorization-mode`` may
    still allow (and the ``system:masters`` authorizer in front of every chain always does).
    Its rules are empty.
"""

from __future__ import annotations

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import (
    Attributes,
    AuthzResult,
    Decision,
    NonResourceRule,
    ResourceRule,
    RulesResult,
)

ALWAYS_ALLOW = "AlwaysAllow"
ALWAYS_DENY = "AlwaysDeny"
ALWAYS_DENY_REASON = "Everything is forbidden."

_EVERYTHING = RulesResult(
    resource_rules=(ResourceRule(verbs=("*",), api_groups=("*",), resources=("*",)),),
    non_resource_rules=(NonResourceRule(verbs=("*",), non_resource_urls=("*",)),),
)


class AlwaysAllowAuthorizer:
    name = ALWAYS_ALLOW

    def authorize(self, attributes: Attributes) -> AuthzResult:
        return AuthzResult(
            Decision.ALLOW, "", ("allowed by --authorization-mode=AlwaysAllow",), ALWAYS_ALLOW
        )

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        return _EVERYTHING


class AlwaysDenyAuthorizer:
    name = ALWAYS_DENY

    def authorize(self, attributes: Attributes) -> AuthzResult:
        # Kubernetes' alwaysDenyAuthorizer returns DecisionNoOpinion, not DecisionDeny.
        return AuthzResult(
            Decision.NO_OPINION,
            ALWAYS_DENY_REASON,
            ("AlwaysDeny allows nothing (it answers no opinion, as in Kubernetes)",),
            ALWAYS_DENY,
        )

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        return RulesResult()
