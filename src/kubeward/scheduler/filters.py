"""The filters a node must pass to run a pod, with kube-scheduler's reasons.

Each filter returns None when the node fits, else the reason upstream reports for it; the
reasons of all nodes are counted into the ``FailedScheduling`` message (``scheduler.messages``).
Rules, in kube-scheduler's plugin order:

 1. NodeUnschedulable: ``spec.unschedulable`` refuses the node, unless the pod tolerates the
    ``node.kubernetes.io/unschedulable:NoSchedule`` taint. Reason: ``node(s) were unschedulable``.
 2. NodeName: a pod asking for ``spec.nodeName`` fits only that node (pending pods have none).
 3. TaintToleration: every NoSchedule and NoExecute taint must be tolerated. Reason: ``node(s)
    had untolerated taint {key: value}``. Until a node-lifecycle controller taints nodes, a node
    whose Ready condition is not True counts as tainted ``node.kubernetes.io/not-ready``
    (NoSchedule), as that controller would taint it.
 4. NodeAffinity: ``spec.nodeSelector`` labels all present, and one of the required node
    affinity terms matching (expressions ``In NotIn Exists DoesNotExist Gt Lt`` on labels,
    fields ``metadata.name``). Reason: ``node(s) didn't match Pod's node affinity/selector``.
 5. NodeResourcesFit: for every resource the pod requests, the node's allocatable minus the
    requests of the pods already on it must cover it. Reasons: ``Insufficient cpu``, ``Too many
    pods``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from kubeward.api.quantity import quantity_or_zero
from kubeward.scheduler.podinfo import pod_requests, tolerates

UNSCHEDULABLE = "node(s) were unschedulable"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
NODE_NAME = "node(s) didn't match the requested node name"
NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}

Filter = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Fraction]], str | None]


def _tolerations(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in (pod.get("spec") or {}).get("tolerations") or [] if isinstance(t, dict)]


def is_ready(node: Mapping[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def node_unschedulable(pod: Mapping[str, Any], node: Mapping[str, Any], _: Any) -> str | None:
    """Rule 1."""
    if not (node.get("spec") or {}).get("unschedulable"):
        return None
    if any(tolerates(t, UNSCHEDULABLE_TAINT) for t in _tolerations(pod)):
        return None
    return UNSCHEDULABLE


def node_name(pod: Mapping[str, Any], node: Mapping[str, Any], _: Any) -> str | None:
    """Rule 2."""
    wanted = (pod.get("spec") or {}).get("nodeName")
    if wanted and wanted != (node.get("metadata") or {}).get("name"):
        return NODE_NAME
    return None


def taint_toleration(pod: Mapping[str, Any], node: Mapping[str, Any], _: Any) -> str | None:
    """Rule 3."""
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]
    if not is_ready(node) and not any(t.get("key") == NOT_READY_TAINT["key"] for t in taints):
        taints.append(NOT_READY_TAINT)
    tolerations = _tolerations(pod)
    for taint in taints:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(tolerates(t, taint) for t in tolerations):
            return (
                f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value') or ''}}}"
            )
    return None


def _expression_matches(expression: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    wanted = [str(v) for v in expression.get("values") or []]
    present = key in values
    if operator == "In":
        return present and values[key] in wanted
    if operator == "NotIn":
        return not present or values[key] not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            have, bound = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """One NodeSelectorTerm: all its expressions and fields match (an empty term matches none)."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    names = {"metadata.name": meta.get("name", "")}
    return all(_expression_matches(e, labels) for e in expressions) and all(
        _expression_matches(f, names) for f in fields
    )


def node_affinity(pod: Mapping[str, Any], node: Mapping[str, Any], _: Any) -> str | None:
    """Rule 4."""
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return AFFINITY
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if terms is not None and not any(term_matches(t, node) for t in terms):
        return AFFINITY
    return None


def allocatable(node: Mapping[str, Any]) -> dict[str, Fraction]:
    status = node.get("status") or {}
    source = status.get("allocatable") or status.get("capacity") or {}
    return {name: quantity_or_zero(value) for name, value in source.items()}


def resources_fit(
    pod: Mapping[str, Any], node: Mapping[str, Any], free: Mapping[str, Fraction]
) -> str | None:
    """Rule 5; ``free`` is the node's allocatable minus what its pods request."""
    for name, wanted in sorted(pod_requests(pod).items()):
        if wanted > 0 and wanted > free.get(name, Fraction(0)):
            return "Too many pods" if name == "pods" else f"Insufficient {name}"
    return None


FILTERS: tuple[Filter, ...] = (
    node_unschedulable,
    node_name,
    taint_toleration,
    node_affinity,
    resources_fit,
)
