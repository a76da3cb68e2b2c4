"""Validation and defaulting of ``batch/v1`` Job, as Kubernetes 1.32 does them.

From ``pkg/apis/batch/v1/defaults.go``, ``pkg/registry/batch/job/strategy.go`` and
``pkg/apis/batch/validation/validation.go``; messages and field paths as the API server words
them. The Job's policies are checked by ``api.validation.job_policies``, CronJobs by
``api.validation.cronjob``.

Defaulting:

 1. ``completions`` and ``parallelism`` both unset become 1 and 1; ``parallelism`` alone
    unset becomes 1; ``backoffLimit`` 6 (2147483647 with ``backoffLimitPerIndex``);
    ``completionMode`` NonIndexed; ``suspend`` false; ``podReplacementPolicy`` Failed with a
    pod failure policy, else TerminatingOrFailed; ``manualSelector`` false; an
    ``onPodConditions`` pattern without ``status`` gets True; the Job takes its template's
    labels when it has none of its own.
 2. Selector generation (on create, unless ``manualSelector`` is true): the template gets
    ``batch.kubernetes.io/controller-uid`` and ``controller-uid`` (the Job's uid) and
    ``batch.kubernetes.io/job-name`` and ``job-name`` (its name) unless already set, and the
    selector is ``matchLabels: {batch.kubernetes.io/controller-uid: <uid>}``.

Validation:

 1. A generated selector must match the generated labels (``selector`` not auto-generated)
    and the template must carry them (``must be '<value>'``); an Indexed Job's last pod
    hostname ``<name>-<completions-1>`` must be a DNS label.
 2. ``parallelism``, ``completions``, ``activeDeadlineSeconds``, ``backoffLimit``,
    ``ttlSecondsAfterFinished``, ``backoffLimitPerIndex``, ``maxFailedIndexes`` are not negative;
    ``completionMode`` is NonIndexed or Indexed (Indexed needs ``completions``; the per-index
    fields need Indexed).
 3. The template's ``restartPolicy`` is OnFailure or Never (Never with a pod failure policy);
    ``podReplacementPolicy`` is Failed or TerminatingOrFailed (only Failed with a pod failure
    policy).
 4. Updates: ``completions``, ``selector``, ``template``, ``completionMode``,
    ``podFailurePolicy``, ``successPolicy``, ``backoffLimitPerIndex`` and ``managedBy`` are
    immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.api.validation import field
from kubeward.api.validation.job_policies import (
    default_condition_patterns,
    validate_managed_by,
    validate_pod_failure_policy,
    validate_success_policy,
)
from kubeward.api.validation.meta import check_dns1123_label
from kubeward.api.validation.workload import (
    as_int,
    immutable,
    nonnegative,
    spec_of,
    validate_pod_template,
    validate_selector,
)
from kubeward.errors import BadRequest, Cause

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
MAX_INT32 = 2**31 - 1
COMPLETION_MODES = ("NonIndexed", "Indexed")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
POD_REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
MAX_PARALLELISM_INDEXED = 100000


# --- defaulting ------------------------------------------------------------------------------


def default_job_spec(spec: dict[str, Any]) -> None:
    """Rule 1's spec defaults (shared with a CronJob's job template)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    policy = spec.get("podFailurePolicy")
    default_condition_patterns(spec)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if policy is not None else "TerminatingOrFailed"
    spec.setdefault("manualSelector", False)


def default_job(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    default_job_spec(spec)
    template = spec.get("template")
    labels = (
        ((template or {}).get("metadata") or {}).get("labels")
        if isinstance(template, dict)
        else None
    )
    metadata = obj.setdefault("metadata", {})
    if labels is not None and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def generate_selector(obj: dict[str, Any]) -> None:
    """Rule 2 of defaulting; runs on create, before defaults, when ``manualSelector`` is unset."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    metadata = obj.get("metadata") or {}
    uid, name = str(metadata.get("uid") or ""), str(metadata.get("name") or "")
    template = spec.setdefault("template", {})
    if not isinstance(template, dict):
        return
    template_meta = template.setdefault("metadata", {})
    labels = template_meta.get("labels")
    if not isinstance(labels, dict):
        labels = template_meta["labels"] = {}
    for key, value in (
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (CONTROLLER_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, name),
        (JOB_NAME_LABEL, name),
    ):
        labels.setdefault(key, value)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match_labels = selector.get("matchLabels")
    if not isinstance(match_labels, dict):
        match_labels = selector["matchLabels"] = {}
    match_labels.setdefault(CONTROLLER_UID_LABEL, uid)


# --- validation ------------------------------------------------------------------------------


def _has_label(labels: Mapping[str, Any], key: str, expected: str) -> list[Cause]:
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [field.required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [field.invalid(path, dict(labels), f"must be '{expected}'")]
    return []


def _validate_generated_selector(obj: Mapping[str, Any]) -> list[Cause]:
    spec = spec_of(obj)
    selector = spec.get("selector")
    if spec.get("manualSelector") is True or not isinstance(selector, Mapping):
        return []
    metadata = obj.get("metadata") or {}
    uid, name = str(metadata.get("uid") or ""), str(metadata.get("name") or "")
    causes: list[Cause] = []
    if not uid:
        causes.append(field.required("metadata.uid"))
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not isinstance(labels, Mapping):
        return causes
    expected = {
        LEGACY_CONTROLLER_UID_LABEL: uid,
        LEGACY_JOB_NAME_LABEL: name,
        CONTROLLER_UID_LABEL: uid,
        JOB_NAME_LABEL: name,
    }
    for key in (
        LEGACY_CONTROLLER_UID_LABEL,
        LEGACY_JOB_NAME_LABEL,
        CONTROLLER_UID_LABEL,
        JOB_NAME_LABEL,
    ):
        causes.extend(_has_label(labels, key, expected[key]))
    try:
        compiled = LabelSelector.from_dict(selector)
    except BadRequest:
        return causes
    if not compiled.matches(expected):
        causes.append(
            field.invalid("spec.selector", dict(selector), "`selector` not auto-generated")
        )
    return causes


def validate_job_spec_body(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """``validateJobSpec``: rules 3 to 5, shared by Jobs and CronJobs' job templates."""
    causes: list[Cause] = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        causes.extend(nonnegative(spec, key, path))
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        causes.append(
            field.required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified")
        )
    mode = spec.get("completionMode")
    if mode is not None and mode not in COMPLETION_MODES:
        causes.append(field.not_supported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed":
        if spec.get("completions") is None:
            causes.append(field.required(f"{path}.completions", "when completion mode is Indexed"))
        parallelism = as_int(spec.get("parallelism"))
        if parallelism is not None and parallelism > MAX_PARALLELISM_INDEXED:
            causes.append(
                field.invalid(
                    f"{path}.parallelism",
                    parallelism,
                    f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion "
                    "mode is Indexed",
                )
            )
    else:
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                causes.append(
                    field.invalid(f"{path}.{key}", spec[key], "requires indexed completion mode")
                )
    causes.extend(validate_pod_failure_policy(spec, f"{path}.podFailurePolicy"))
    causes.extend(validate_success_policy(spec, f"{path}.successPolicy"))
    causes.extend(validate_managed_by(spec.get("managedBy"), f"{path}.managedBy"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        allowed = (
            ("Failed",) if spec.get("podFailurePolicy") is not None else POD_REPLACEMENT_POLICIES
        )
        if replacement not in allowed:
            causes.append(field.not_supported(f"{path}.podReplacementPolicy", replacement, allowed))
    causes.extend(validate_pod_template(spec.get("template"), f"{path}.template"))
    restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart in (None, "", "Always"):
        causes.append(field.required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in JOB_RESTART_POLICIES:
        causes.append(field.not_supported(restart_path, restart, JOB_RESTART_POLICIES))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        causes.append(
            field.invalid(
                restart_path,
                restart,
                'only "Never" is supported when podFailurePolicy is specified',
            )
        )
    return causes


def validate_job(obj: Mapping[str, Any]) -> list[Cause]:
    """``ValidateJob`` (metadata is checked by the store)."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [field.required("spec")]
    causes = _validate_generated_selector(obj)
    causes.extend(validate_job_spec_body(spec, "spec"))
    causes.extend(validate_selector(spec, "spec"))
    name = str((obj.get("metadata") or {}).get("name") or "")
    completions = as_int(spec.get("completions"))
    indexed = spec.get("completionMode") == "Indexed"
    if indexed and completions is not None and completions > 0:
        hostname = f"{name}-{completions - 1}"
        if check_dns1123_label(hostname):
            causes.append(
                field.invalid(
                    "metadata.name",
                    name,
                    f"will not able to create pod with invalid DNS label: {hostname}",
                )
            )
    return causes


def validate_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    """Rule 6 (the new object itself is validated by :func:`validate_job`)."""
    new_spec, old_spec = spec_of(new), spec_of(old)
    causes: list[Cause] = []
    for key in (
        "completions",
        "selector",
        "template",
        "completionMode",
        "podFailurePolicy",
        "successPolicy",
        "backoffLimitPerIndex",
        "managedBy",
    ):
        causes.extend(immutable(new_spec, old_spec, key, "spec"))
    return causes


def validate_job_status(obj: Mapping[str, Any]) -> list[Cause]:
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return []
    causes: list[Cause] = []
    for key in ("active", "succeeded", "failed", "ready", "terminating"):
        causes.extend(nonnegative(status, key, "status"))
    return causes
