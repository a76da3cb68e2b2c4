"""Aggregated ClusterRoles: the rules an ``aggregationRule`` collects.

Kubernetes' clusterrole-aggregation controller (``pkg/controller/clusterroleaggregation``)
keeps the ``rules`` of every ClusterRole with an ``aggregationRule`` equal to what its
selectors collect. The same computation, as pure functions for kubeward's controller:

 1. For each selector of ``aggregationRule.clusterRoleSelectors`` in order, the ClusterRoles
    whose labels it matches are taken in name order, skipping the aggregated role itself.
 2. Their rules are appended in that order, each rule only once (rules are equal when every
    field is; an absent list equals an empty one).
 3. Only what a role's ``rules`` hold counts — an aggregated role selected by another
    contributes the rules it has collected. :func:`aggregate_cluster_roles` repeats the
    computation until nothing changes, which is where the controller's repeated syncs end
    (``admin`` collects ``edit``, which collects ``view``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.authz.rbac.rules import PolicyRule, rules_from_list


def _name(role: Mapping[str, Any]) -> str:
    return str((role.get("metadata") or {}).get("name") or "")


def _labels(role: Mapping[str, Any]) -> Mapping[str, str]:
    labels = (role.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def selectors_of(role: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The role's ``clusterRoleSelectors``, or None when it is not an aggregated role."""
    rule = role.get("aggregationRule")
    if not isinstance(rule, Mapping):
        return None
    selectors = rule.get("clusterRoleSelectors")
    return [s for s in selectors if isinstance(s, Mapping)] if isinstance(selectors, list) else []


def aggregated_rules(
    role: Mapping[str, Any], cluster_roles: Iterable[Mapping[str, Any]]
) -> list[PolicyRule] | None:
    """One sync of the controller: the rules ``role`` should hold, or None if not aggregated.

    Raises:
        kubeward.errors.BadRequest: a selector that does not compile.
    """
    selectors = selectors_of(role)
    if selectors is None:
        return None
    others = sorted((r for r in cluster_roles if _name(r) != _name(role)), key=_name)
    rules: list[PolicyRule] = []
    seen: set[PolicyRule] = set()
    for selector in selectors:
        compiled = LabelSelector.from_dict(selector)
        for other in others:
            if not compiled.matches(_labels(other)):
                continue
            for rule in rules_from_list(other.get("rules")):
                if rule not in seen:
                    seen.add(rule)
                    rules.append(rule)
    return rules


def rules_equal(a: object, b: object) -> bool:
    """Whether two ``rules`` lists are the same for Kubernetes (absent lists equal empty ones)."""
    return rules_from_list(a or []) == rules_from_list(b or [])


def aggregate_cluster_roles(
    cluster_roles: Iterable[Mapping[str, Any]], max_rounds: int = 10
) -> dict[str, list[dict[str, list[str]]]]:
    """The ``rules`` every aggregated ClusterRole should hold, once aggregation has settled.

    Args:
        cluster_roles: every ClusterRole, as JSON.
        max_rounds: a bound for selector cycles, which may otherwise grow for a while.

    Returns:
        For each aggregated ClusterRole's name, its rules as JSON. Compare with
        :func:`rules_equal` to find the roles to update.
    """
    current = {_name(r): dict(r) for r in cluster_roles}
    for _ in range(max_rounds):
        changed = False
        for name, role in current.items():
            rules = aggregated_rules(role, current.values())
            if rules is None:
                continue
            as_json = [r.to_dict() for r in rules]
            if not rules_equal(as_json, role.get("rules")):
                current[name] = {**role, "rules": as_json}
                changed = True
        if not changed:
            break
    return {
        name: [r.to_dict() for r in rules_from_list(role.get("rules"))]
        for name, role in current.items()
        if selectors_of(role) is not None
    }
