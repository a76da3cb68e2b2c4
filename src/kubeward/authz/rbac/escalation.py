"""Escalation prevention: nobody grants permissions they do not hold.

Kubernetes' RBAC registry (``pkg/registry/rbac``) refuses a write of a Role, ClusterRole,
RoleBinding or ClusterRoleBinding that would hand out more than the writer holds. The rules:

 1. Members of ``system:masters`` may write anything (``EscalationAllowed``).
 2. A Role or ClusterRole may be written by a user who holds the ``escalate`` verb on it
    (``RoleEscalationAuthorized``), or else who already holds every permission its rules
    grant — in the role's namespace for a Role, cluster-wide for a ClusterRole
    (``ConfirmNoEscalation`` with the ``Covers`` comparison of ``policy_comparator.go``).
 3. Setting, changing or removing a ClusterRole's ``aggregationRule`` needs everything
    (``*`` on ``*.*`` and on every non-resource URL): ``must have cluster-admin privileges to
    use the aggregationRule``.
 4. A binding may be written by a user who holds the ``bind`` verb on the role it refers to
    (checked in the binding's namespace, cluster-wide for a ClusterRoleBinding), or else who
    holds every permission of that role. A roleRef to a missing role is a 404.
 5. An update that changes only ``ownerReferences``, ``finalizers`` or ``managedFields`` (what
    the garbage collector writes) is not checked.
 6. A refusal reads as Kubernetes writes it: ``roles.rbac.authorization.k8s.io "x" is
    forbidden: user "u" (groups=["g"]) is attempting to grant RBAC permissions not currently
    held:`` then one compacted missing rule per line, sorted.

The helpers here take the chain's authorizer for the ``escalate``/``bind`` checks and the RBAC
authorizer for the user's own rules, as upstream does; the registry calls
:func:`check_role_write` and :func:`check_binding_write` and raises what they return.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeward.api.user import SYSTEM_MASTERS, UserInfo
from kubeward.authz.aggregate import aggregate_messages
from kubeward.authz.interfaces import Attributes, Authorizer
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.objects import RBAC_GROUP, RoleRef
from kubeward.authz.rbac.rules import PolicyRule, go_quote, go_quote_list, rules_from_list
from kubeward.errors import Forbidden, NotFound, StatusDetails, StatusError

FULL_AUTHORITY = (
    PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",)),
    PolicyRule(verbs=("*",), non_resource_urls=("*",)),
)
AGGREGATION_RULE_REFUSAL = "must have cluster-admin privileges to use the aggregationRule"
ROLE_RESOURCES = ("roles", "clusterroles")
BINDING_RESOURCES = ("rolebindings", "clusterrolebindings")


# --- Covers (component-helpers/auth/rbac/validation/policy_comparator.go) ---------------------


def breakdown_rule(rule: PolicyRule) -> list[PolicyRule]:
    """One rule per (group, resource, verb[, name]) and per (URL, verb)."""
    subrules = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    for name in rule.resource_names:
                        subrules.append(PolicyRule((verb,), (group,), (resource,), (name,)))
                else:
                    subrules.append(PolicyRule((verb,), (group,), (resource,)))
    for url in rule.non_resource_urls:
        for verb in rule.verbs:
            subrules.append(PolicyRule(verbs=(verb,), non_resource_urls=(url,)))
    return subrules


def _resources_cover(owner: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    if "*" in owner or all(r in owner for r in wanted):
        return True
    for path in wanted:
        if path in owner:
            continue
        if "/" not in path:
            return False
        if "*/" + path.split("/", 1)[1] not in owner:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _rule_covers(owner: PolicyRule, sub: PolicyRule) -> bool:
    verbs = "*" in owner.verbs or all(v in owner.verbs for v in sub.verbs)
    groups = "*" in owner.api_groups or all(g in owner.api_groups for g in sub.api_groups)
    resources = _resources_cover(owner.resources, sub.resources)
    urls = all(
        any(_url_covers(o, p) for o in owner.non_resource_urls) for p in sub.non_resource_urls
    )
    if not sub.resource_names:
        names = not owner.resource_names
    else:
        names = not owner.resource_names or all(
            n in owner.resource_names for n in sub.resource_names
        )
    return verbs and groups and resources and names and urls


def covers(
    owner_rules: Sequence[PolicyRule], servant_rules: Sequence[PolicyRule]
) -> tuple[bool, list[PolicyRule]]:
    """Whether ``owner_rules`` grant everything ``servant_rules`` do, and the broken-down rest."""
    uncovered = [
        sub
        for servant in servant_rules
        for sub in breakdown_rule(servant)
        if not any(_rule_covers(owner, sub) for owner in owner_rules)
    ]
    return not uncovered, uncovered


def compact_rules(rules: Sequence[PolicyRule]) -> list[PolicyRule]:
    """Merge rules of one group, one resource and at most one name that differ only by verb."""
    compacted: list[PolicyRule] = []
    simple: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for rule in rules:
        if (
            len(rule.resource_names) <= 1
            and not rule.non_resource_urls
            and len(rule.api_groups) == 1
            and len(rule.resources) == 1
        ):
            key = (rule.api_groups[0], rule.resources[0], rule.resource_names)
            simple.setdefault(key, []).extend(rule.verbs)
        else:
            compacted.append(rule)
    for (group, resource, names), verbs in simple.items():
        compacted.append(PolicyRule(tuple(verbs), (group,), (resource,), names))
    return compacted


# --- ConfirmNoEscalation (pkg/registry/rbac/validation/rule.go) -------------------------------


@dataclass(frozen=True)
class EscalationCheck:
    """The outcome of comparing a user's rules with the rules they want to grant."""

    allowed: bool
    missing: tuple[PolicyRule, ...] = ()
    message: str = ""


def confirm_no_escalation(
    rbac: RBACAuthorizer, user: UserInfo, namespace: str, rules: Sequence[PolicyRule]
) -> EscalationCheck:
    """Does ``user`` already hold, in ``namespace`` (``""``: cluster-wide), all of ``rules``."""
    owner_rules, errors = rbac.policy_rules_for(user, namespace)
    ok, missing = covers(owner_rules, rules)
    if ok:
        return EscalationCheck(True)
    descriptions = sorted({r.compact_string() for r in compact_rules(missing)})
    message = (
        f"user {go_quote(user.name)} (groups={go_quote_list(user.groups)}) is attempting to grant"
        " RBAC permissions not currently held:\n" + "\n".join(descriptions)
    )
    if errors:
        message += f"; resolution errors: [{aggregate_messages(errors)}]"
    return EscalationCheck(False, tuple(missing), message)


def escalation_allowed(user: UserInfo) -> bool:
    """``system:masters`` may grant anything."""
    return SYSTEM_MASTERS in user.groups


def escalate_attributes(
    user: UserInfo,
    *,
    resource: str,
    namespace: str,
    name: str,
    api_group: str = RBAC_GROUP,
    api_version: str = "v1",
) -> Attributes | None:
    """The ``escalate`` request on the role being written (None for what is not a role)."""
    if api_group != RBAC_GROUP or resource not in ROLE_RESOURCES:
        return None
    return Attributes(
        user=user,
        verb="escalate",
        namespace=namespace,
        api_group=api_group,
        api_version=api_version,
        resource=resource,
        name=name,
    )


def role_escalation_authorized(
    authorizer: Authorizer,
    user: UserInfo,
    *,
    resource: str,
    namespace: str,
    name: str,
    api_group: str = RBAC_GROUP,
    api_version: str = "v1",
) -> bool:
    """Does ``user`` hold the ``escalate`` verb on the role being written."""
    attributes = escalate_attributes(
        user,
        resource=resource,
        namespace=namespace,
        name=name,
        api_group=api_group,
        api_version=api_version,
    )
    return attributes is not None and authorizer.authorize(attributes).allowed


def bind_attributes(user: UserInfo, role_ref: RoleRef, binding_namespace: str) -> Attributes | None:
    """The ``bind`` request on the role ``role_ref`` names (None for an unknown kind).

    Checked in the binding's namespace, so ``bind`` can be delegated per namespace; for a
    ClusterRoleBinding (``binding_namespace`` empty) it must be held cluster-wide.
    """
    resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(role_ref.kind)
    if resource is None:
        return None
    return Attributes(
        user=user,
        verb="bind",
        namespace=binding_namespace,
        api_group=role_ref.api_group,
        resource=resource,
        name=role_ref.name,
    )


def binding_authorized(
    authorizer: Authorizer, user: UserInfo, role_ref: RoleRef, binding_namespace: str
) -> bool:
    """Does ``user`` hold the ``bind`` verb on the role ``role_ref`` names."""
    attributes = bind_attributes(user, role_ref, binding_namespace)
    return attributes is not None and authorizer.authorize(attributes).allowed


# --- what the registry calls ------------------------------------------------------------------


def forbidden(resource: str, name: str, message: str) -> Forbidden:
    """``apierrors.NewForbidden`` for an RBAC resource."""
    qualified = f"{resource}.{RBAC_GROUP}"
    text = (
        f"{qualified} {go_quote(name)} is forbidden: {message}"
        if name
        else (f"{qualified} is forbidden: {message}")
    )
    return Forbidden(text, StatusDetails(name=name, group=RBAC_GROUP, kind=resource))


def _role_not_found(ref: RoleRef) -> NotFound:
    resource = "clusterroles" if ref.kind == "ClusterRole" else "roles"
    return NotFound(
        f"{resource}.{RBAC_GROUP} {go_quote(ref.name)} not found",
        StatusDetails(name=ref.name, group=RBAC_GROUP, kind=resource),
    )


def has_aggregation_rule(obj: Mapping[str, Any] | None) -> bool:
    rule = (obj or {}).get("aggregationRule")
    return isinstance(rule, Mapping) and bool(rule.get("clusterRoleSelectors"))


def is_only_mutating_gc_fields(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """True when ``new`` differs from ``old`` only in what the garbage collector writes."""
    if old is None:
        return False
    stomped = copy.deepcopy(dict(new))
    new_meta = dict(stomped.get("metadata") or {})
    old_meta = old.get("metadata") or {}
    for key in ("ownerReferences", "finalizers", "selfLink", "managedFields"):
        if key in old_meta:
            new_meta[key] = old_meta[key]
        else:
            new_meta.pop(key, None)
    stomped["metadata"] = new_meta
    return stomped == dict(old)


def check_role_write(
    *,
    authorizer: Authorizer,
    rbac: RBACAuthorizer,
    user: UserInfo,
    resource: str,
    namespace: str,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None = None,
) -> StatusError | None:
    """The escalation check of a create (``old`` None) or update of a Role or ClusterRole.

    Args:
        authorizer: the whole chain, for the ``escalate`` verb.
        rbac: the RBAC authorizer, for the rules the user holds.
        resource: ``roles`` or ``clusterroles``.
        namespace: the Role's namespace; ``""`` for a ClusterRole.

    Returns:
        None when the write may go ahead, else the error to answer with (403).
    """
    name = str((new.get("metadata") or {}).get("name") or "")
    if escalation_allowed(user) or role_escalation_authorized(
        authorizer, user, resource=resource, namespace=namespace, name=name
    ):
        return None
    if is_only_mutating_gc_fields(new, old):
        return None
    check = confirm_no_escalation(rbac, user, namespace, rules_from_list(new.get("rules")))
    if not check.allowed:
        return forbidden(resource, name, check.message)
    aggregated = has_aggregation_rule(new) or has_aggregation_rule(old)
    if resource == "clusterroles" and aggregated:
        full = confirm_no_escalation(rbac, user, namespace, FULL_AUTHORITY)
        if not full.allowed:
            return forbidden(resource, name, AGGREGATION_RULE_REFUSAL)
    return None


def check_binding_write(
    *,
    authorizer: Authorizer,
    rbac: RBACAuthorizer,
    user: UserInfo,
    resource: str,
    namespace: str,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None = None,
) -> StatusError | None:
    """The escalation check of a create or update of a RoleBinding or ClusterRoleBinding.

    Args:
        resource: ``rolebindings`` or ``clusterrolebindings``.
        namespace: the RoleBinding's namespace; ``""`` for a ClusterRoleBinding.

    Returns:
        None when the write may go ahead; a 404 when the role referred to does not exist and
        the user may not ``bind`` it; a 403 naming the permissions not held.
    """
    if escalation_allowed(user) or is_only_mutating_gc_fields(new, old):
        return None
    ref = RoleRef.from_dict(new.get("roleRef"))
    if binding_authorized(authorizer, user, ref, namespace):
        return None
    role = rbac.index.role_for(ref, namespace)
    if role is None:
        return _role_not_found(ref)
    check = confirm_no_escalation(rbac, user, namespace, role.rules)
    if check.allowed:
        return None
    name = str((new.get("metadata") or {}).get("name") or "")
    return forbidden(resource, name, check.message)
