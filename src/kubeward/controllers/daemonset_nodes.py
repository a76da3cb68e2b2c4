"""Which nodes a DaemonSet's pod belongs on, and the pod it puts there
(``pkg/controller/daemon/util`` and the controller's ``NodeShouldRunDaemonPod``).

Rules:

 1. Every daemon pod tolerates, beyond its template's tolerations (``AddOrUpdateDaemonPodTolerations``):
    ``node.kubernetes.io/not-ready`` and ``node.kubernetes.io/unreachable`` (NoExecute, no
    ``tolerationSeconds``), ``disk-pressure``, ``memory-pressure``, ``pid-pressure`` and
    ``unschedulable`` (NoSchedule), and ``network-unavailable`` (NoSchedule) when it uses the
    host network. A toleration the template already has for the same key and effect is kept.
 2. A pod *should run* on a node when the template's ``nodeSelector`` and required node
    affinity match the node and every NoSchedule and NoExecute taint is tolerated; it *should
    continue running* there while every NoExecute taint is tolerated.
 3. The pod is bound to its node by node affinity, not ``nodeName``, so that the scheduler
    places it (``ReplaceDaemonSetPodNodeNameNodeAffinity``): each required term's
    ``matchFields`` becomes ``metadata.name In [node]`` (one such term when there is none).
 4. A pod's node is its ``spec.nodeName``, else the node its affinity names (``GetTargetNodeName``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubeward.api import meta as m

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
NODE_NAME_FIELD = "metadata.name"


def _toleration(key: str, effect: str) -> m.JSONObject:
    return {"key": key, "operator": "Exists", "effect": effect}


def add_daemon_tolerations(pod_spec: m.JSONObject) -> None:
    """Rule 1 (in place)."""
    wanted = [
        _toleration(NOT_READY, "NoExecute"),
        _toleration(UNREACHABLE, "NoExecute"),
        _toleration(DISK_PRESSURE, "NoSchedule"),
        _toleration(MEMORY_PRESSURE, "NoSchedule"),
        _toleration(PID_PRESSURE, "NoSchedule"),
        _toleration(UNSCHEDULABLE, "NoSchedule"),
    ]
    if pod_spec.get("hostNetwork"):
        wanted.append(_toleration(NETWORK_UNAVAILABLE, "NoSchedule"))
    tolerations = list(pod_spec.get("tolerations") or [])
    have = {(t.get("key"), t.get("effect")) for t in tolerations if isinstance(t, dict)}
    tolerations.extend(t for t in wanted if (t["key"], t["effect"]) not in have)
    pod_spec["tolerations"] = tolerations


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    if (toleration.get("operator") or "Equal") == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def _matches(expression: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key") or ""), expression.get("operator")
    wanted = [str(v) for v in expression.get("values") or []]
    if operator == "In":
        return key in values and values[key] in wanted
    if operator == "NotIn":
        return key not in values or values[key] not in wanted
    if operator == "Exists":
        return key in values
    if operator == "DoesNotExist":
        return key not in values
    if operator in ("Gt", "Lt") and key in values and len(wanted) == 1:
        try:
            have, bound = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def _term_matches(term: Mapping[str, Any], node: m.JSONObject) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    names = {NODE_NAME_FIELD: m.name_of(node)}
    labels = m.labels_of(node)
    return all(_matches(e, labels) for e in expressions) and all(_matches(f, names) for f in fields)


def _required_terms(pod_spec: Mapping[str, Any]) -> list[Any] | None:
    affinity = (pod_spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        return None
    return list(required.get("nodeSelectorTerms") or [])


def fits(pod_spec: Mapping[str, Any], node: m.JSONObject) -> bool:
    """Rule 2's selector and affinity part."""
    labels = m.labels_of(node)
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    terms = _required_terms(pod_spec)
    return terms is None or any(_term_matches(t, node) for t in terms)


def should_run(pod_spec: Mapping[str, Any], node: m.JSONObject) -> tuple[bool, bool]:
    """Rule 2: (should run, should continue running)."""
    if not fits(pod_spec, node):
        return False, False
    tolerations = [t for t in pod_spec.get("tolerations") or [] if isinstance(t, dict)]
    run = keep = True
    for taint in (node.get("spec") or {}).get("taints") or []:
        effect = taint.get("effect")
        if effect not in ("NoSchedule", "NoExecute"):
            continue
        if any(tolerates(t, taint) for t in tolerations):
            continue
        run = False
        if effect == "NoExecute":
            keep = False
    return run, keep


def bind_to_node(pod_spec: m.JSONObject, node_name: str) -> None:
    """Rule 3 (in place)."""
    field = {"key": NODE_NAME_FIELD, "operator": "In", "values": [node_name]}
    affinity = pod_spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = [copy.deepcopy(t) for t in required.get("nodeSelectorTerms") or []]
    if not terms:
        terms = [{"matchFields": [field]}]
    for term in terms:
        term["matchFields"] = [copy.deepcopy(field)]
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}


def target_node(pod: m.JSONObject) -> str:
    """Rule 4 (empty when neither says)."""
    pod_spec = pod.get("spec") or {}
    if pod_spec.get("nodeName"):
        return str(pod_spec["nodeName"])
    for term in _required_terms(pod_spec) or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == NODE_NAME_FIELD and field.get("operator") == "In":
                values = field.get("values") or []
                if len(values) == 1:
                    return str(values[0])
    return ""
