"""Reconciling a stored RBAC object with its bootstrap definition, as Kubernetes does at start.

The API server's RBAC post-start hook (``pkg/registry/rbac/reconciliation``) brings each
default role and binding up to date without taking anything away:

 1. An object that does not exist is created as defined.
 2. An object annotated ``rbac.authorization.kubernetes.io/autoupdate: "false"`` is left
    exactly as it is (it is "protected").
 3. Labels and annotations of the definition are added; the stored values win where both set
    a key.
 4. Roles: every permission of the definition that the stored rules do not cover (``Covers``)
    is appended, broken down into one rule per group, resource and verb as upstream does;
    extra stored permissions stay. A stored ``aggregationRule`` the definition lacks is
    removed; selectors the definition has and the stored role lacks are appended.
 5. Bindings: subjects of the definition that are missing are appended; extra subjects stay.
    A binding whose ``roleRef`` differs is recreated as defined (roleRef is immutable).
 6. Nothing to change: no operation.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.authz.rbac.bootstrap.policy import AUTOUPDATE_ANNOTATION
from kubeward.authz.rbac.escalation import covers
from kubeward.authz.rbac.objects import CLUSTER_ROLE_BINDING, ROLE_BINDING, RoleRef, Subject
from kubeward.authz.rbac.rules import PolicyRule, rules_from_list


class ReconcileOperation(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    RECREATE = "recreate"  # delete the stored binding, then create the returned one


@dataclass(frozen=True)
class Reconciliation:
    """What to write: ``object`` with ``operation``, and what was missing (for logs)."""

    operation: ReconcileOperation
    object: dict[str, Any]
    missing_rules: tuple[PolicyRule, ...] = ()
    missing_subjects: tuple[dict[str, Any], ...] = ()


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def is_protected(obj: Mapping[str, Any]) -> bool:
    annotations = _meta(obj).get("annotations") or {}
    return annotations.get(AUTOUPDATE_ANNOTATION) == "false"


def _merge_metadata(
    result: dict[str, Any], existing: Mapping[str, Any], desired: Mapping[str, Any]
) -> bool:
    """Add the desired labels and annotations; True when anything changed."""
    changed = False
    meta = result.setdefault("metadata", {})
    for key in ("annotations", "labels"):
        want = _meta(desired).get(key)
        have = _meta(existing).get(key)
        if not want:
            continue
        merged = {**want, **(have or {})}
        if merged != have:
            meta[key] = merged
            changed = True
    return changed


def _selectors(obj: Mapping[str, Any]) -> list[Any] | None:
    rule = obj.get("aggregationRule")
    if not isinstance(rule, Mapping):
        return None
    selectors = rule.get("clusterRoleSelectors")
    return list(selectors) if isinstance(selectors, list) else []


def _reconcile_role(
    existing: Mapping[str, Any], desired: Mapping[str, Any]
) -> Reconciliation | None:
    result = copy.deepcopy(dict(existing))
    changed = _merge_metadata(result, existing, desired)

    _, missing = covers(
        rules_from_list(existing.get("rules")), rules_from_list(desired.get("rules"))
    )
    if missing:
        result["rules"] = list(result.get("rules") or []) + [r.to_dict() for r in missing]
        changed = True

    have, want = _selectors(existing), _selectors(desired)
    if want is None and have is not None:
        result.pop("aggregationRule", None)
        changed = True
    elif want is not None:
        absent = [s for s in want if s not in (have or [])]
        if absent:
            result["aggregationRule"] = {
                "clusterRoleSelectors": (have or []) + copy.deepcopy(absent)
            }
            changed = True
    if not changed:
        return None
    return Reconciliation(ReconcileOperation.UPDATE, result, missing_rules=tuple(missing))


def _subjects(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = obj.get("subjects")
    return [s for s in raw if isinstance(s, Mapping)] if isinstance(raw, list) else []


def _reconcile_binding(
    existing: Mapping[str, Any], desired: Mapping[str, Any]
) -> Reconciliation | None:
    if RoleRef.from_dict(existing.get("roleRef")) != RoleRef.from_dict(desired.get("roleRef")):
        return Reconciliation(ReconcileOperation.RECREATE, copy.deepcopy(dict(desired)))
    result = copy.deepcopy(dict(existing))
    changed = _merge_metadata(result, existing, desired)
    have = {Subject.from_dict(s) for s in _subjects(existing)}
    missing = [dict(s) for s in _subjects(desired) if Subject.from_dict(s) not in have]
    if missing:
        result["subjects"] = list(result.get("subjects") or []) + copy.deepcopy(missing)
        changed = True
    if not changed:
        return None
    return Reconciliation(ReconcileOperation.UPDATE, result, missing_subjects=tuple(missing))


def reconcile(
    existing: Mapping[str, Any] | None, desired: Mapping[str, Any]
) -> Reconciliation | None:
    """What to write so that ``existing`` holds at least what ``desired`` defines.

    Args:
        existing: the stored object, or None when there is none.
        desired: the bootstrap definition (its ``kind`` says which of the four kinds).

    Returns:
        None when nothing is to be written (up to date, or protected by
        ``autoupdate: "false"``); otherwise the operation and the object to write.
    """
    if existing is None:
        return Reconciliation(ReconcileOperation.CREATE, copy.deepcopy(dict(desired)))
    if is_protected(existing):
        return None
    if desired.get("kind") in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
        return _reconcile_binding(existing, desired)
    return _reconcile_role(existing, desired)
