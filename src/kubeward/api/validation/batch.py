"""Validation and defaulting of ``batch/v1`` Job and CronJob, as Kubernetes 1.32 does them.

From ``pkg/apis/batch/v1/defaults.go``, ``pkg/registry/batch/job/strategy.go`` and
``pkg/apis/batch/validation/validation.go``; messages and field paths as the API server words
them.

Defaulting:

 1. Job: ``completions`` and ``parallelism`` both unset become 1 and 1; ``parallelism`` alone
    unset becomes 1; ``backoffLimit`` 6 (2147483647 with ``backoffLimitPerIndex``);
    ``completionMode`` NonIndexed; ``suspend`` false; ``podReplacementPolicy`` Failed with a
    pod failure policy, else TerminatingOrFailed; ``manualSelector`` false; an
    ``onPodConditions`` pattern without ``status`` gets True; the Job takes its template's
    labels when it has none of its own.
 2. Job selector generation (on create, unless ``manualSelector`` is true): the template gets
    ``batch.kubernetes.io/controller-uid`` and ``controller-uid`` (the Job's uid) and
    ``batch.kubernetes.io/job-name`` and ``job-name`` (its name) unless already set, and the
    selector is ``matchLabels: {batch.kubernetes.io/controller-uid: <uid>}``.
 3. CronJob: ``concurrencyPolicy`` Allow, ``suspend`` false, ``successfulJobsHistoryLimit`` 3,
    ``failedJobsHistoryLimit`` 1. Its job template gets only the pod template's and the
    condition patterns' defaults: ``SetDefaults_Job`` is for Jobs, so the Job defaults come
    when the cronjob controller creates the Job.

Validation:

 1. Names are DNS-1123 subdomains; a CronJob's name at most 52 characters (on create), so
    that the Jobs it names ``<name>-<timestamp>`` fit.
 2. A generated selector must match the generated labels (``selector`` not auto-generated)
    and the template must carry them (``must be '<value>'``).
 3. ``parallelism``, ``completions``, ``activeDeadlineSeconds``, ``backoffLimit``,
    ``ttlSecondsAfterFinished``, ``backoffLimitPerIndex``, ``maxFailedIndexes`` are not negative;
    ``completionMode`` is NonIndexed or Indexed (Indexed needs ``completions``).
 4. The template's ``restartPolicy`` is OnFailure or Never (Never with a pod failure policy).
 5. Pod failure policy: at most 20 rules; each has an action (Count, FailIndex, FailJob,
    Ignore) and exactly one of ``onExitCodes`` (operator In or NotIn, 1–255 ordered unique
    values, no 0 with In, a container of the template) and ``onPodConditions`` (at most 20,
    status True, False or Unknown).
 6. Updates: ``completions``, ``selector``, ``template``, ``completionMode``,
    ``podFailurePolicy`` and ``backoffLimitPerIndex`` are immutable.
 7. CronJob: ``schedule`` required and a cron schedule (``api.validation.cron``) without
    ``TZ``/``CRON_TZ``; ``timeZone`` a name of the tz database (not ``Local``, not empty);
    ``concurrencyPolicy`` Allow, Forbid or Replace; the job template has no selector and no
    ``manualSelector: true``; history limits and ``startingDeadlineSeconds`` not negative.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.api.validation import field
from kubeward.api.validation.cron import known_time_zone, schedule_error
from kubeward.api.validation.meta import check_dns1123_label, check_qualified_name
from kubeward.api.validation.workload import (
    as_int,
    immutable,
    is_int,
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
POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONDITION_STATUSES = ("False", "True", "Unknown")
POD_REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
MAX_POD_FAILURE_RULES = 20
MAX_EXIT_CODE_VALUES = 255
MAX_CONDITION_PATTERNS = 20
MAX_PARALLELISM_INDEXED = 100000
CRONJOB_NAME_MAX = 52
_TZ_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


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
    _default_condition_patterns(spec)
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if policy is not None else "TerminatingOrFailed"
    spec.setdefault("manualSelector", False)


def _default_condition_patterns(spec: dict[str, Any]) -> None:
    policy = spec.get("podFailurePolicy")
    if not isinstance(policy, dict):
        return
    for rule in policy.get("rules") or []:
        for pattern in (rule.get("onPodConditions") or []) if isinstance(rule, dict) else []:
            if isinstance(pattern, dict) and not pattern.get("status"):
                pattern["status"] = "True"


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


def default_cronjob(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        _default_condition_patterns(job_template["spec"])


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


def _validate_exit_codes(
    requirement: Mapping[str, Any], path: str, containers: set[str]
) -> list[Cause]:
    causes: list[Cause] = []
    operator = requirement.get("operator")
    if not operator:
        causes.append(field.required(f"{path}.operator", 'valid values: ["In" "NotIn"]'))
    elif operator not in EXIT_CODE_OPERATORS:
        causes.append(field.not_supported(f"{path}.operator", operator, EXIT_CODE_OPERATORS))
    container = requirement.get("containerName")
    if container is not None and container not in containers:
        causes.append(
            field.invalid(
                f"{path}.containerName",
                container,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values = requirement.get("values") or []
    if not isinstance(values, list) or not values:
        causes.append(field.invalid(f"{path}.values", values, "at least one value is required"))
        return causes
    if len(values) > MAX_EXIT_CODE_VALUES:
        causes.append(
            Cause(
                "FieldValueTooMany",
                f"Too many: {len(values)}: must have at most {MAX_EXIT_CODE_VALUES} items",
                f"{path}.values",
            )
        )
    seen: set[int] = set()
    ordered = True
    for j, value in enumerate(values):
        at = f"{path}.values[{j}]"
        if operator == "In" and value == 0:
            causes.append(field.invalid(at, value, "must not be 0 for the In operator"))
        if value in seen:
            causes.append(field.duplicate(at, value))
        else:
            seen.add(value)
        if j > 0 and is_int(values[j - 1]) and is_int(value) and values[j - 1] > value:
            ordered = False
    if not ordered:
        causes.append(field.invalid(f"{path}.values", values, "must be ordered"))
    return causes


def _validate_pod_conditions(patterns: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(patterns) > MAX_CONDITION_PATTERNS:
        causes.append(
            Cause(
                "FieldValueTooMany",
                f"Too many: {len(patterns)}: must have at most {MAX_CONDITION_PATTERNS} items",
                path,
            )
        )
    for j, pattern in enumerate(patterns):
        at = f"{path}[{j}]"
        if not isinstance(pattern, Mapping):
            causes.append(field.invalid(at, pattern, "must be an object"))
            continue
        kind = str(pattern.get("type") or "")
        causes.extend(field.invalid(f"{at}.type", kind, m) for m in check_qualified_name(kind))
        status = pattern.get("status")
        if not status:
            causes.append(
                field.required(f"{at}.status", 'valid values: ["False" "True" "Unknown"]')
            )
        elif status not in CONDITION_STATUSES:
            causes.append(field.not_supported(f"{at}.status", status, CONDITION_STATUSES))
    return causes


def _container_names(spec: Mapping[str, Any]) -> set[str]:
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    names: set[str] = set()
    for key in ("containers", "initContainers"):
        for container in pod_spec.get(key) or []:
            if isinstance(container, Mapping):
                names.add(str(container.get("name") or ""))
    return names


def _validate_pod_failure_policy(spec: Mapping[str, Any], path: str) -> list[Cause]:
    policy = spec.get("podFailurePolicy")
    if not isinstance(policy, Mapping):
        return []
    rules = policy.get("rules") or []
    causes: list[Cause] = []
    if len(rules) > MAX_POD_FAILURE_RULES:
        causes.append(
            Cause(
                "FieldValueTooMany",
                f"Too many: {len(rules)}: must have at most {MAX_POD_FAILURE_RULES} items",
                f"{path}.rules",
            )
        )
    containers = _container_names(spec)
    for i, rule in enumerate(rules):
        at = f"{path}.rules[{i}]"
        if not isinstance(rule, Mapping):
            causes.append(field.invalid(at, rule, "must be an object"))
            continue
        action = rule.get("action")
        if not action:
            causes.append(
                field.required(
                    f"{at}.action", 'valid values: ["Count" "FailIndex" "FailJob" "Ignore"]'
                )
            )
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                causes.append(
                    field.invalid(
                        f"{at}.action", action, "requires the backoffLimitPerIndex to be set"
                    )
                )
        elif action not in POD_FAILURE_ACTIONS:
            causes.append(field.not_supported(f"{at}.action", action, POD_FAILURE_ACTIONS))
        exit_codes = rule.get("onExitCodes")
        conditions = rule.get("onPodConditions") or []
        if isinstance(exit_codes, Mapping):
            causes.extend(_validate_exit_codes(exit_codes, f"{at}.onExitCodes", containers))
        if isinstance(conditions, list) and conditions:
            causes.extend(_validate_pod_conditions(conditions, f"{at}.onPodConditions"))
        if exit_codes is not None and conditions:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
                    at,
                )
            )
        if exit_codes is None and not conditions:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    "Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
                    at,
                )
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
    causes.extend(_validate_pod_failure_policy(spec, f"{path}.podFailurePolicy"))
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
        "backoffLimitPerIndex",
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


def validate_time_zone(time_zone: object, path: str) -> list[Cause]:
    if time_zone is None:
        return []
    if not isinstance(time_zone, str) or not time_zone:
        return [field.invalid(path, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART.match(part):
            return [field.invalid(path, time_zone, f"unknown time zone {time_zone}")]
    if time_zone.lower() == "local":
        return [
            field.invalid(
                path,
                time_zone,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        ]
    if not known_time_zone(time_zone):
        return [field.invalid(path, time_zone, f"unknown time zone {time_zone}")]
    return []


def validate_cronjob(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> list[Cause]:
    """``validateCronJobSpec`` (rule 7) plus, on create, the 52-character name (rule 1)."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [field.required("spec")]
    old_spec = spec_of(old) if old is not None else None
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(field.required("spec.schedule"))
    elif not isinstance(schedule, str):
        causes.append(field.invalid("spec.schedule", schedule, "must be a string"))
    else:
        error = schedule_error(schedule)
        if error:
            causes.append(field.invalid("spec.schedule", schedule, error))
        tz_allowed = old_spec is not None and "TZ" in str(old_spec.get("schedule") or "")
        if tz_allowed and "TZ" in schedule and spec.get("timeZone") is not None:
            causes.append(
                field.invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                )
            )
        elif not tz_allowed and "TZ" in schedule:
            causes.append(
                field.invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
    causes.extend(nonnegative(spec, "startingDeadlineSeconds", "spec"))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        causes.extend(validate_time_zone(spec.get("timeZone"), "spec.timeZone"))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        causes.append(field.required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        causes.append(field.not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    job_template = spec.get("jobTemplate")
    job_spec = job_template.get("spec") if isinstance(job_template, Mapping) else None
    if not isinstance(job_spec, Mapping):
        causes.append(field.required("spec.jobTemplate.spec"))
    else:
        causes.extend(validate_job_spec_body(job_spec, "spec.jobTemplate.spec"))
        if job_spec.get("selector") is not None:
            causes.append(
                field.invalid(
                    "spec.jobTemplate.spec.selector",
                    job_spec["selector"],
                    "`selector` will be auto-generated",
                )
            )
        if job_spec.get("manualSelector") is True:
            causes.append(
                field.not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
            )
    causes.extend(nonnegative(spec, "successfulJobsHistoryLimit", "spec"))
    causes.extend(nonnegative(spec, "failedJobsHistoryLimit", "spec"))
    name = str((obj.get("metadata") or {}).get("name") or "")
    if old is None and len(name) > CRONJOB_NAME_MAX:
        causes.append(
            field.invalid(
                "metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"
            )
        )
    return causes
