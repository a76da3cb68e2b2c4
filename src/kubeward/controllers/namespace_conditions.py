"""The conditions a terminating namespace reports while the namespace controller empties it
(``pkg/controller/namespace/deletion``'s condition updater), so ``kubectl describe namespace``
says why a deletion is stuck.

Rules:

 1. Every pass over a terminating namespace sets all four conditions, each True or False with
    upstream's reasons and messages: ``NamespaceDeletionDiscoveryFailure`` (group versions whose
    discovery failed), ``NamespaceDeletionContentFailure`` (kinds whose deletion failed),
    ``NamespaceContentRemaining`` (``<resource>.<group> has N resource instances``, sorted) and
    ``NamespaceFinalizersRemaining`` (``<finalizer> in N resource instances``, sorted).
 2. A condition whose status is unchanged keeps its ``lastTransitionTime``; the status is
    written only when some condition changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeward.api import meta as m

DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"
CONTENT_FAILURE = "NamespaceDeletionContentFailure"
CONTENT_REMAINING = "NamespaceContentRemaining"
FINALIZERS_REMAINING = "NamespaceFinalizersRemaining"


def _condition(kind: str, true: bool, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if true else "False",
        "reason": reason,
        "message": message,
    }


def deletion_conditions(
    *,
    discovery_failures: Sequence[str],
    content_failures: Mapping[str, str],
    remaining: Mapping[str, int],
    finalizers: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Rule 1. ``content_failures`` maps ``resource.group`` to the error; ``remaining`` counts
    objects left per ``resource.group``; ``finalizers`` counts objects per finalizer."""
    conditions = []
    if discovery_failures:
        failed = ", ".join(sorted(discovery_failures))
        conditions.append(
            _condition(
                DISCOVERY_FAILURE,
                True,
                "DiscoveryFailed",
                f"Discovery failed for some groups, {len(discovery_failures)} failing: {failed}",
            )
        )
    else:
        conditions.append(
            _condition(
                DISCOVERY_FAILURE,
                False,
                "ResourcesDiscovered",
                "All resources successfully discovered",
            )
        )
    if content_failures:
        failed = ", ".join(f"{k}: {v}" for k, v in sorted(content_failures.items()))
        conditions.append(
            _condition(
                CONTENT_FAILURE,
                True,
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(content_failures)} remaining: {failed}",
            )
        )
    else:
        conditions.append(
            _condition(
                CONTENT_FAILURE,
                False,
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization",
            )
        )
    left = {k: n for k, n in remaining.items() if n}
    if left:
        listed = ", ".join(f"{k} has {n} resource instances" for k, n in sorted(left.items()))
        conditions.append(
            _condition(
                CONTENT_REMAINING,
                True,
                "SomeResourcesRemain",
                f"Some resources are remaining: {listed}",
            )
        )
    else:
        conditions.append(
            _condition(
                CONTENT_REMAINING, False, "ContentRemoved", "All content successfully removed"
            )
        )
    held = {k: n for k, n in finalizers.items() if n}
    if held:
        listed = ", ".join(f"{k} in {n} resource instances" for k, n in sorted(held.items()))
        conditions.append(
            _condition(
                FINALIZERS_REMAINING,
                True,
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {listed}",
            )
        )
    else:
        conditions.append(
            _condition(
                FINALIZERS_REMAINING,
                False,
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            )
        )
    return conditions


def merged(
    current: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]], now: str
) -> list[dict[str, Any]] | None:
    """Rule 2: the namespace's conditions with ``wanted`` set, or None when nothing changed."""
    by_type = {str(c.get("type")): dict(c) for c in current}
    changed = False
    for condition in wanted:
        old = by_type.get(condition["type"])
        same = old is not None and all(old.get(k) == condition[k] for k in condition)
        if same:
            continue
        changed = True
        keep_time = old is not None and old.get("status") == condition["status"]
        time = old.get("lastTransitionTime") if keep_time and old is not None else now
        by_type[condition["type"]] = {**condition, "lastTransitionTime": time}
    if not changed:
        return None
    return list(by_type.values())


def resource_name(group: str, resource: str) -> str:
    """``configmaps.`` for the core group, ``widgets.example.org`` otherwise (upstream's form)."""
    return f"{resource}.{group}"


def count_finalizers(items: Sequence[m.JSONObject], into: dict[str, int]) -> None:
    for item in items:
        for finalizer in m.metadata(item).get("finalizers") or []:
            into[str(finalizer)] = into.get(str(finalizer), 0) + 1
