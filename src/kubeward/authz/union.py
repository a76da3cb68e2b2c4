"""Composing authorizers and rule resolvers, as ``k8s.io/apiserver/pkg/authorization/union``.

Rules:
 1. Authorizers are asked in order. The first that answers ALLOW or DENY decides, and its
    result is returned as it is. ``authorize_async`` awaits the authorizers that ask another
    service; ``authorize`` takes their cached answers only (``interfaces`` rule 4).
 2. NO_OPINION falls through to the next. If every authorizer has no opinion the union has none
    either; its reason joins the non-empty reasons with newlines, as Kubernetes does, its error
    aggregates their errors, and its explanation collects every authorizer's trail (``name: no
    opinion`` for those without one). The caller refuses such a request with 403 (500 when
    there is an error).
 3. Rule resolvers are all asked: their resource and non-resource rules are concatenated,
    ``incomplete`` is true if any is incomplete, and evaluation errors are aggregated.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeward.api.user import UserInfo
from kubeward.authz.aggregate import aggregate_messages
from kubeward.authz.interfaces import (
    Attributes,
    Authorizer,
    AuthzResult,
    Decision,
    NonResourceRule,
    ResourceRule,
    RuleResolver,
    RulesResult,
    decide,
)


class UnionAuthorizer:
    name = "union"

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = tuple(authorizers)

    def authorize(self, attributes: Attributes) -> AuthzResult:
        results: list[tuple[str, AuthzResult]] = []
        for authorizer in self.authorizers:
            result = authorizer.authorize(attributes)
            if result.decision is not Decision.NO_OPINION:
                return result
            results.append((authorizer.name, result))
        return no_opinion(results)

    async def authorize_async(self, attributes: Attributes) -> AuthzResult:
        results: list[tuple[str, AuthzResult]] = []
        for authorizer in self.authorizers:
            result = await decide(authorizer, attributes)
            if result.decision is not Decision.NO_OPINION:
                return result
            results.append((authorizer.name, result))
        return no_opinion(results)


def no_opinion(results: Sequence[tuple[str, AuthzResult]]) -> AuthzResult:
    """Rule 2: nobody decided; the reasons joined, the trails collected."""
    reasons = [result.reason for _, result in results if result.reason]
    errors = [result.error for _, result in results if result.error]

    def trail() -> tuple[str, ...]:
        lines: list[str] = []
        for name, result in results:
            lines.extend(result.explanation or (f"{name}: no opinion",))
        return tuple(lines)

    return AuthzResult(
        Decision.NO_OPINION, "\n".join(reasons), trail, error=aggregate_messages(errors)
    )


class UnionRuleResolver:
    def __init__(self, resolvers: Sequence[RuleResolver]) -> None:
        self.resolvers = tuple(resolvers)

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        resource_rules: list[ResourceRule] = []
        non_resource_rules: list[NonResourceRule] = []
        incomplete = False
        errors: list[str] = []
        for resolver in self.resolvers:
            result = resolver.rules_for(user, namespace)
            resource_rules.extend(result.resource_rules)
            non_resource_rules.extend(result.non_resource_rules)
            incomplete = incomplete or result.incomplete
            errors.append(result.evaluation_error)
        return RulesResult(
            tuple(resource_rules), tuple(non_resource_rules), incomplete, aggregate_messages(errors)
        )
