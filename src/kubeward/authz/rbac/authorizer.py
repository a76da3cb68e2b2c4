"""The RBAC authorizer: Kubernetes' ``plugin/pkg/auth/authorizer/rbac`` over an index.

Rules (Kubernetes' semantics):
 1. The rules that apply to a user in a namespace are those of the roles referred to by every
    ClusterRoleBinding naming the user or one of their groups, plus, for a namespaced request,
    those of every RoleBinding of that namespace naming them. A RoleBinding to a ClusterRole
    therefore grants the ClusterRole's rules only inside the RoleBinding's namespace, and a
    cluster-wide request (namespace ``""``) is allowed only through ClusterRoleBindings.
 2. The first rule that allows the request decides: ALLOW, with the reason
    ``RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"``.
 3. Otherwise the answer is NO_OPINION — RBAC never says DENY, so a later authorizer in the
    chain may still allow. The reason is empty, or ``RBAC: <errors>`` when roles referred to by
    the user's bindings do not exist (``role.rbac.authorization.k8s.io "x" not found``).
 4. ``system:masters`` gets no special case here: as in Kubernetes it is allowed by the
    privileged-group authorizer that ``authz.modes`` puts first in every chain, and through
    RBAC by the bootstrap ClusterRoleBinding ``cluster-admin``.

Beyond Kubernetes every result carries ``explanation`` (see ``explain``); with
``explain_denials=False`` a refusal carries one fixed line instead, and costs about what
Kubernetes' own check costs. The hot loop repeats ``rules.rule_allows`` inline for resource
requests (a test holds the two to the same table). Like the index, an authorizer serves one
event loop: its small cache of allow reasons is not locked.
"""

from __future__ import annotations

from kubeward.api.user import UserInfo
from kubeward.authz.aggregate import aggregate_messages
from kubeward.authz.interfaces import (
    Attributes,
    AuthzResult,
    Decision,
    NonResourceRule,
    ResourceRule,
    RulesResult,
)
from kubeward.authz.rbac import explain
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.objects import (
    GROUP,
    SERVICE_ACCOUNT,
    USER,
    Binding,
    Role,
    Subject,
    SubjectKey,
    role_ref_error,
)
from kubeward.authz.rbac.rules import (
    API_GROUP_ALL,
    RESOURCE_ALL,
    VERB_ALL,
    PolicyRule,
    combined_resource,
    rule_allows,
)

NAME = "RBAC"
_UNEXPLAINED = AuthzResult(
    Decision.NO_OPINION,
    "",
    ("RBAC: no rule allows it (near misses are not recorded in this mode)",),
    NAME,
)


def subject_keys(user: UserInfo) -> tuple[SubjectKey, ...]:
    """The index keys under which bindings for ``user`` are filed."""
    return ((USER, user.name), *[(GROUP, g) for g in user.groups])


def applying_subject(binding: Binding, user: UserInfo) -> Subject | None:
    """The first subject of ``binding`` that applies to ``user`` (Kubernetes' ``appliesTo``)."""
    for subject in binding.subjects:
        kind = subject.kind
        if kind == USER:
            if subject.name == user.name:
                return subject
        elif kind == GROUP:
            if subject.name in user.groups:
                return subject
        elif kind == SERVICE_ACCOUNT and binding.subject_user(subject) == user.name:
            return subject
    return None


class RBACAuthorizer:
    """Authorizer and RuleResolver backed by an :class:`RBACIndex`."""

    name = NAME

    def __init__(self, index: RBACIndex, *, explain_denials: bool = True) -> None:
        """
        Args:
            index: the RBAC objects, kept current by the server's watches.
            explain_denials: record the near misses of every refusal (the default). Without
                it a refusal costs about what Kubernetes' own check does, and its trail is one
                fixed line; ``kubeward rbac explain`` and SubjectAccessReviews want it on.
        """
        self.index = index
        self.explain_denials = explain_denials
        # Allow reasons and trails by (binding, subject, rule) identity; the objects are kept
        # alive in the values and the cache is emptied whenever the index changes.
        self._allowed: dict[tuple[int, int, int], tuple[AuthzResult, object]] = {}
        self._allowed_generation = -1

    def _bindings(self, user: UserInfo, namespace: str) -> list[Binding]:
        """Each binding that applies to ``user`` in ``namespace``, once, cluster-wide first."""
        found: dict[tuple[str, str, str], Binding] = {}
        for bucket in self.index.candidate_buckets(user.name, user.groups, namespace):
            for binding in bucket:
                found.setdefault(binding.key, binding)
        return list(found.values())

    def _allow(self, binding: Binding, role: Role, rule: PolicyRule, user: UserInfo) -> AuthzResult:
        # Found under one of the user's keys, so some subject applies.
        subject = applying_subject(binding, user) or Subject(USER, user.name)
        if self._allowed_generation != self.index.generation or len(self._allowed) > 10_000:
            self._allowed.clear()
            self._allowed_generation = self.index.generation
        key = (id(binding), id(subject), id(rule))
        cached = self._allowed.get(key)
        if cached is None:
            result = AuthzResult(
                Decision.ALLOW,
                f"RBAC: allowed by {binding.describe(subject)}",
                explain.allowed(binding, subject, role, rule),
                NAME,
            )
            # The values keep the objects alive, so their ids cannot be reused meanwhile.
            cached = (result, (binding, subject, rule))
            self._allowed[key] = cached
        return cached[0]

    def authorize(self, attributes: Attributes) -> AuthzResult:
        index = self.index
        user = attributes.user
        role_of = index.role_of
        buckets = index.candidate_buckets(user.name, user.groups, attributes.namespace)
        missing: list[Binding] = []
        if attributes.resource_request:
            verb = attributes.verb
            group = attributes.api_group
            combined = combined_resource(attributes)
            star_sub = "*/" + attributes.subresource if attributes.subresource else None
            name = attributes.name
            for bucket in buckets:
                for binding in bucket:
                    role = role_of(binding)
                    if role is None:
                        missing.append(binding)
                        continue
                    for rule in role.rules:
                        # rule_allows, with the request's parts worked out once.
                        verbs, groups, resources = rule.verbs, rule.api_groups, rule.resources
                        if (
                            (VERB_ALL in verbs or verb in verbs)
                            and (API_GROUP_ALL in groups or group in groups)
                            and (
                                RESOURCE_ALL in resources
                                or combined in resources
                                or (star_sub is not None and star_sub in resources)
                            )
                            and (not rule.resource_names or name in rule.resource_names)
                        ):
                            return self._allow(binding, role, rule, user)
        else:
            for bucket in buckets:
                for binding in bucket:
                    role = role_of(binding)
                    if role is None:
                        missing.append(binding)
                        continue
                    for rule in role.rules:
                        if rule_allows(attributes, rule):
                            return self._allow(binding, role, rule, user)
        reason = ""
        if missing:
            reason = "RBAC: " + aggregate_messages(
                role_ref_error(b.role_ref, b.namespace) for b in missing
            )
        if not self.explain_denials:
            return (
                _UNEXPLAINED
                if not reason
                else AuthzResult(Decision.NO_OPINION, reason, _UNEXPLAINED.explanation, NAME)
            )
        visited = [(b, role_of(b)) for bucket in buckets for b in bucket]

        def trail() -> tuple[str, ...]:
            return explain.denied(index, attributes, subject_keys(user), visited)

        return AuthzResult(Decision.NO_OPINION, reason, trail, NAME)

    def policy_rules_for(
        self, user: UserInfo, namespace: str
    ) -> tuple[list[PolicyRule], list[str]]:
        """Every rule that applies to ``user`` in ``namespace``, and the resolution errors.

        This is Kubernetes' ``RulesFor`` of the RBAC rule resolver, used by escalation checks.
        """
        rules: list[PolicyRule] = []
        errors: list[str] = []
        for binding in self._bindings(user, namespace):
            role = self.index.role_of(binding)
            if role is None:
                errors.append(role_ref_error(binding.role_ref, binding.namespace))
            else:
                rules.extend(role.rules)
        return rules, errors

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        """What ``user`` may do in ``namespace`` (SelfSubjectRulesReview).

        As in Kubernetes, a rule with resources becomes a resource rule and a rule with
        non-resource URLs a non-resource rule; errors are reported, not fatal.
        """
        policy_rules, errors = self.policy_rules_for(user, namespace)
        resource_rules = []
        non_resource_rules = []
        for rule in policy_rules:
            if rule.resources:
                resource_rules.append(
                    ResourceRule(rule.verbs, rule.api_groups, rule.resources, rule.resource_names)
                )
            if rule.non_resource_urls:
                non_resource_rules.append(NonResourceRule(rule.verbs, rule.non_resource_urls))
        return RulesResult(
            tuple(resource_rules),
            tuple(non_resource_rules),
            incomplete=False,
            evaluation_error=aggregate_messages(errors),
        )
