"""What the job controller reads from and writes on a Job's pods (``pkg/controller/job``'s
``pod_failure_policy.go``, ``indexed_job_utils.go`` and ``utils.go``).

Rules:

 1. Every pod a Job creates carries the ``batch.kubernetes.io/job-tracking`` finalizer, so it is
    not gone before the controller has counted it; the controller removes it (a strategic merge
    ``$deleteFromPrimitiveList``) once the pod is recorded in ``uncountedTerminatedPods``.
 2. A pod is *failed* when its phase is ``Failed`` or, unless only failed pods are replaced
    (``podReplacementPolicy: Failed``), when it is being deleted without having succeeded.
 3. A pod failure policy's rules are tried in order; the first that matches decides:
    ``onExitCodes`` matches a terminated container (app containers first, then init
    containers; the named one only, if ``containerName`` is set) with a non-zero exit code
    ``In``/``NotIn`` the values; ``onPodConditions`` matches a pod condition of that type and
    status. ``Ignore`` does not count the failure, ``Count`` and ``FailIndex`` count it,
    ``FailJob`` counts it and fails the Job with upstream's message. No match counts it.
 4. Indexed Jobs: each pod has its index in the ``batch.kubernetes.io/job-completion-index``
    annotation and label, the hostname ``<job>-<index>``, ``generateName`` ``<job>-<index>-``
    and the ``JOB_COMPLETION_INDEX`` variable (from the label, as with PodIndexLabel) in every
    container that does not set it. ``completedIndexes`` is written as intervals, two
    neighbours as a pair: ``1,3-5,7,8``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kubeward.api import meta as m
from kubeward.api.scheme import ResourceType
from kubeward.controllers.replicaset import pod_from_template

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX_KEY = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"


def spec_of(obj: m.JSONObject) -> m.JSONObject:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def status_of(obj: m.JSONObject) -> m.JSONObject:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def phase_of(pod: m.JSONObject) -> str:
    return str(status_of(pod).get("phase") or "")


def has_tracking_finalizer(pod: m.JSONObject) -> bool:
    """Rule 1."""
    return JOB_TRACKING_FINALIZER in (m.metadata(pod).get("finalizers") or [])


def remove_finalizer_patch() -> m.JSONObject:
    """Rule 1: the strategic merge patch that removes the tracking finalizer."""
    return {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


def only_replace_failed(job: m.JSONObject) -> bool:
    return spec_of(job).get("podReplacementPolicy") == "Failed"


def is_failed(pod: m.JSONObject, job: m.JSONObject) -> bool:
    """Rule 2."""
    phase = phase_of(pod)
    if phase == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return bool(m.metadata(pod).get("deletionTimestamp")) and phase != "Succeeded"


# --- the pod failure policy (rule 3) -----------------------------------------------------------


def _exit_code_matches(code: int, requirement: m.JSONObject) -> bool:
    values = {int(v) for v in requirement.get("values") or []}
    if requirement.get("operator") == "In":
        return code in values
    if requirement.get("operator") == "NotIn":
        return code not in values
    return False


def _matching_container(
    statuses: Iterable[m.JSONObject], requirement: m.JSONObject
) -> tuple[str, int] | None:
    wanted = requirement.get("containerName")
    for status in statuses:
        terminated = (status.get("state") or {}).get("terminated")
        if not isinstance(terminated, dict):
            continue
        if wanted is not None and wanted != status.get("name"):
            continue
        code = int(terminated.get("exitCode") or 0)
        if code != 0 and _exit_code_matches(code, requirement):
            return str(status.get("name") or ""), code
    return None


def _matching_condition(pod: m.JSONObject, patterns: list[m.JSONObject]) -> str | None:
    for condition in status_of(pod).get("conditions") or []:
        for pattern in patterns:
            if condition.get("type") == pattern.get("type") and condition.get(
                "status"
            ) == pattern.get("status", "True"):
                return str(condition.get("type"))
    return None


def match_failure_policy(
    policy: m.JSONObject | None, pod: m.JSONObject
) -> tuple[str | None, bool, str | None]:
    """Rule 3: (the FailJob message or None, whether the failure counts, the action or None)."""
    if not policy:
        return None, True, None
    namespace, name = m.namespace_of(pod), m.name_of(pod)
    status = status_of(pod)
    for index, rule in enumerate(policy.get("rules") or []):
        action = str(rule.get("action") or "")
        message = ""
        on_exit = rule.get("onExitCodes")
        on_conditions = rule.get("onPodConditions")
        if isinstance(on_exit, dict):
            found = _matching_container(status.get("containerStatuses") or [], on_exit)
            if found is None:
                found = _matching_container(status.get("initContainerStatuses") or [], on_exit)
            if found is None:
                continue
            message = (
                f"Container {found[0]} for pod {namespace}/{name} failed with exit code"
                f" {found[1]} matching {action} rule at index {index}"
            )
        elif isinstance(on_conditions, list):
            condition = _matching_condition(pod, on_conditions)
            if condition is None:
                continue
            message = (
                f"Pod {namespace}/{name} has condition {condition} matching {action} rule"
                f" at index {index}"
            )
        else:
            continue
        if action == "Ignore":
            return None, False, action
        if action == "FailJob":
            return message, True, action
        return None, True, action
    return None, True, None


# --- indexes (rule 4) --------------------------------------------------------------------------


def is_indexed(job: m.JSONObject) -> bool:
    return spec_of(job).get("completionMode") == "Indexed"


def completion_index(pod: m.JSONObject) -> int | None:
    raw = (m.metadata(pod).get("annotations") or {}).get(COMPLETION_INDEX_KEY)
    try:
        index = int(str(raw))
    except ValueError:
        return None
    return index if index >= 0 else None


def format_intervals(indexes: Iterable[int]) -> str:
    """Rule 4: ``[1, 3, 4, 5, 7, 8]`` → ``1,3-5,7,8``."""
    parts: list[str] = []
    ordered = sorted(set(indexes))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if i == j:
            parts.append(str(ordered[i]))
        else:  # two neighbours are written as a pair, longer runs as a range (upstream)
            parts.append(f"{ordered[i]}{',' if j == i + 1 else '-'}{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_intervals(text: str, limit: int) -> set[int]:
    """The indexes ``format_intervals`` wrote, those below ``limit`` only."""
    found: set[int] = set()
    for part in (p for p in text.split(",") if p):
        low, _, high = part.partition("-")
        try:
            start, end = int(low), int(high or low)
        except ValueError:
            continue
        found.update(i for i in range(start, end + 1) if 0 <= i < limit)
    return found


def with_index(template: m.JSONObject, job_name: str, index: int) -> tuple[m.JSONObject, str]:
    """Rule 4: the pod template of one index, and its ``generateName``."""
    made = copy.deepcopy(template)
    meta = made.setdefault("metadata", {})
    meta.setdefault("annotations", {})[COMPLETION_INDEX_KEY] = str(index)
    meta.setdefault("labels", {})[COMPLETION_INDEX_KEY] = str(index)
    spec = made.setdefault("spec", {})
    spec["hostname"] = f"{job_name}-{index}"
    for kind in ("initContainers", "containers"):
        for container in spec.get(kind) or []:
            env = container.setdefault("env", [])
            if not any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                env.append(
                    {
                        "name": COMPLETION_INDEX_ENV,
                        "valueFrom": {
                            "fieldRef": {
                                "apiVersion": "v1",
                                "fieldPath": f"metadata.labels['{COMPLETION_INDEX_KEY}']",
                            }
                        },
                    }
                )
    return made, f"{job_name}-{index}-"


def pod_for_job(
    job: m.JSONObject, rt: ResourceType, template: m.JSONObject, generate_name: str
) -> m.JSONObject:
    """Rules 1 and 4: the pod to create (the controller reference as every workload's)."""
    pod = pod_from_template(job, rt, template)
    meta = pod["metadata"]
    meta["generateName"] = generate_name
    finalizers = list(meta.get("finalizers") or [])
    if JOB_TRACKING_FINALIZER not in finalizers:
        finalizers.append(JOB_TRACKING_FINALIZER)
    meta["finalizers"] = finalizers
    return pod
