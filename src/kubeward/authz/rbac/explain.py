"""Why RBAC allowed or refused a request, in plain words.

Kubernetes says which binding allowed a request and, on a refusal, nothing (or the roles it
could not find). kubeward keeps the same short ``reason`` for compatibility and adds a trail,
``AuthzResult.explanation``, read by ``kubeward rbac explain`` and SubjectAccessReviews:

 1. An allowed request names the binding, the role and the rule that allowed it.
 2. A refused request names what was checked — the ClusterRoleBindings, and the RoleBindings of
    the request's namespace, that name the user or one of their groups — and the near misses:
    a. a RoleBinding in another namespace whose role would allow the request (RoleBindings
       grant only inside their own namespace);
    b. a rule that matches except for the verb, the resourceNames (which never match a request
       without a name), the API group, or a subresource the rule does not name (``pods`` does
       not cover ``pods/log``, and ``pods/*`` is not a wildcard);
    c. a roleRef to a Role or ClusterRole that does not exist (with a hint when a role of the
       other kind has that name);
    d. a ClusterRoleBinding naming the requesting ServiceAccount without a namespace, which
       therefore applies to no one.
 3. At most :data:`MAX_NEAR_MISSES` near misses are listed, then how many more there were;
    at most :data:`MAX_OTHER_NAMESPACE_BINDINGS` RoleBindings of other namespaces are examined.

Explanations cost nothing on the allow path beyond one rule's text, and on a refusal they
revisit only the requester's own bindings.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeward.api.user import split_service_account_username
from kubeward.authz.interfaces import Attributes
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.objects import CLUSTER_ROLE, ROLE, Binding, Role, Subject, SubjectKey
from kubeward.authz.rbac.rules import (
    PolicyRule,
    api_group_matches,
    combined_resource,
    go_quote,
    go_quote_list,
    non_resource_url_matches,
    resource_matches,
    resource_name_matches,
    rules_allow,
    verb_matches,
)

MAX_NEAR_MISSES = 12
# A refusal stays cheap for users whose groups are bound in thousands of namespaces.
MAX_OTHER_NAMESPACE_BINDINGS = 256


def describe_request(a: Attributes) -> str:
    """``"list" on resource "pods" in API group "" in namespace "default"``."""
    if not a.resource_request:
        return f"{go_quote(a.verb)} on path {go_quote(a.path)}"
    text = (
        f"{go_quote(a.verb)} on resource {go_quote(combined_resource(a))}"
        f" in API group {go_quote(a.api_group)}"
    )
    if a.name:
        text += f" named {go_quote(a.name)}"
    if a.namespace:
        return text + f" in namespace {go_quote(a.namespace)}"
    return text + " cluster-wide"


def describe_user(a: Attributes) -> str:
    return f"User {go_quote(a.user.name)} (groups {go_quote_list(a.user.groups)})"


def allowed(binding: Binding, subject: Subject, role: Role, rule: PolicyRule) -> tuple[str, ...]:
    """The trail of an allowed request: binding → role → rule."""
    return (
        f"allowed by {binding.describe(subject)}",
        f"through rule {rule.compact} of {role.describe()}",
    )


def _rule_near_miss(a: Attributes, rule: PolicyRule) -> str | None:
    """What keeps a rule from allowing the request, when only one thing does."""
    if not a.resource_request:
        if not rule.non_resource_urls:
            return None
        if non_resource_url_matches(rule, a.path):
            if not verb_matches(rule, a.verb):
                return (
                    f"allows verbs {go_quote_list(rule.verbs)} on this path, not {go_quote(a.verb)}"
                )
            return None
        for url in rule.non_resource_urls:
            if (
                url.endswith("*")
                and url.rstrip("*").rstrip("/") == a.path
                and verb_matches(rule, a.verb)
            ):
                return f"allows paths under {go_quote(url)} but not {go_quote(a.path)} itself"
        return None
    resources = rule.resources
    combined = combined_resource(a)
    # Most rules of a role name other resources: nothing comes close, say so at once.
    if not (
        "*" in resources
        or combined in resources
        or a.resource in resources
        or (a.subresource and ("*/" + a.subresource) in resources)
        or (a.subresource and (a.resource + "/*") in resources)
    ):
        return None
    verb = verb_matches(rule, a.verb)
    group = api_group_matches(rule, a.api_group)
    resource = resource_matches(rule, combined, a.subresource)
    name = resource_name_matches(rule, a.name)
    if group and resource and name and not verb:
        return f"allows verbs {go_quote_list(rule.verbs)}, not {go_quote(a.verb)}"
    if group and resource and verb and not name:
        names = go_quote_list(rule.resource_names)
        if not a.name:
            return (
                f"allows it only for resourceNames {names}; a request without a name"
                " (list, watch, create, deletecollection) never matches resourceNames"
            )
        return f"allows it only for resourceNames {names}, not {go_quote(a.name)}"
    if verb and group and name and not resource and a.subresource:
        if a.resource in rule.resources:
            return (
                f"covers {go_quote(a.resource)} but not its subresource {go_quote(combined)};"
                f" a subresource must be named ({go_quote(combined)} or"
                f" {go_quote('*/' + a.subresource)})"
            )
        if f"{a.resource}/*" in rule.resources:
            return (
                f"names {go_quote(a.resource + '/*')}, which Kubernetes does not expand:"
                f' it matches no subresource but one literally named "*"; name'
                f" {go_quote(combined)} instead"
            )
    if verb and resource and name and not group:
        return (
            f"allows it in API groups {go_quote_list(rule.api_groups)}, not {go_quote(a.api_group)}"
        )
    return None


def _missing_role(binding: Binding, index: RBACIndex) -> str:
    ref = binding.role_ref
    text = (
        f"{binding.display_name()} refers to {ref.kind} {go_quote(ref.name)}, which does not exist"
    )
    if ref.kind == ROLE and index.cluster_role(ref.name) is not None:
        text += f" (a ClusterRole {go_quote(ref.name)} exists; roleRef.kind would have to be ClusterRole)"
    elif ref.kind == CLUSTER_ROLE and binding.namespace and index.role(binding.namespace, ref.name):
        text += f" (a Role {go_quote(ref.name)} exists in the namespace; roleRef.kind would have to be Role)"
    return text


def denied(
    index: RBACIndex,
    a: Attributes,
    keys: Sequence[SubjectKey],
    visited: Sequence[tuple[Binding, Role | None]],
) -> tuple[str, ...]:
    """The trail of a refused request: what was checked and the near misses.

    ``visited`` are the bindings the decision looked at, with the role each resolved to.
    """
    lines = [f"RBAC: no rule allows {describe_user(a)} to {describe_request(a)}"]
    misses: list[str] = []
    checked = {binding.key: (binding, role) for binding, role in visited}
    cluster_count = sum(1 for binding, _ in checked.values() if not binding.namespace)
    namespaced_count = len(checked) - cluster_count

    for binding, role in checked.values():
        if role is None:
            misses.append(_missing_role(binding, index))
            continue
        for rule in role.rules:
            miss = _rule_near_miss(a, rule)
            if miss is not None:
                misses.append(
                    f"rule {rule.compact} of {role.describe()}, bound by"
                    f" {binding.display_name()}, {miss}"
                )

    where = f"in namespace {go_quote(a.namespace)}" if a.namespace else "cluster-wide"
    for examined, binding in enumerate(index.role_bindings_anywhere_for(keys)):
        if examined == MAX_OTHER_NAMESPACE_BINDINGS:
            misses.append(
                f"(only the first {MAX_OTHER_NAMESPACE_BINDINGS} RoleBindings of other namespaces"
                " naming this user or their groups were examined)"
            )
            break
        if binding.namespace == a.namespace:
            continue
        role = index.role_of(binding)
        if role is not None and rules_allow(a, role.rules):
            misses.append(
                f"{binding.display_name()} grants this through {role.describe()}, but a"
                f" RoleBinding grants only inside its own namespace and the request is {where}"
            )

    service_account = split_service_account_username(a.user.name)
    if service_account is not None:
        sa_namespace, sa_name = service_account
        for binding in index.cluster_bindings_with_namespaceless_service_account(sa_name):
            misses.append(
                f"{binding.display_name()} names ServiceAccount {go_quote(sa_name)} without a"
                f" namespace, so it applies to no one; a ClusterRoleBinding's ServiceAccount"
                f" subject needs its namespace ({go_quote(sa_namespace)} for this one)"
            )

    if not checked:
        lines.append(
            f"no ClusterRoleBinding{'' if not a.namespace else ', and no RoleBinding ' + where},"
            f" names {describe_user(a)}"
        )
    else:
        lines.append(
            f"checked {_plural(cluster_count, 'ClusterRoleBinding')}"
            + (f" and {_plural(namespaced_count, 'RoleBinding')} {where}" if a.namespace else "")
            + " that name this user or one of their groups"
        )
    if checked and not misses:
        lines.append("no near miss: no rule of these bindings comes close to allowing it")
    for miss in misses[:MAX_NEAR_MISSES]:
        lines.append(f"near miss: {miss}")
    if len(misses) > MAX_NEAR_MISSES:
        lines.append(f"... and {len(misses) - MAX_NEAR_MISSES} more near misses")
    return tuple(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
