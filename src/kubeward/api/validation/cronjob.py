"""Validation and defaulting of batch/v1 CronJob, as Kubernetes 1.32 does them.

From ``pkg/apis/batch/v1/defaults.go`` and ``pkg/apis/batch/validation/validation.go``.

Defaulting: ``concurrencyPolicy`` Allow, ``suspend`` false, ``successfulJobsHistoryLimit`` 3,
``failedJobsHistoryLimit`` 1. The job template gets only the pod template's and the condition
patterns' defaults: ``SetDefaults_Job`` is for Jobs, so the Job defaults come when the cronjob
controller creates the Job.

Validation:

 1. On create the name is at most 52 characters, so that the Jobs it names
    ``<name>-<timestamp>`` fit in 63.
 2. ``schedule`` is required and a cron schedule (``api.validation.cron``) without
    ``TZ``/``CRON_TZ`` (an update may keep one the old schedule had, but not together with
    ``timeZone``).
 3. ``timeZone``, when set (or changed), is a name of the tz database: not empty, not ``Local``,
    made of parts of at most 14 letters, digits, ``.``, ``-``, ``_`` or ``+``.
 4. ``concurrencyPolicy`` is Allow, Forbid or Replace; ``startingDeadlineSeconds`` and the
    history limits are not negative.
 5. The job template is a valid Job spec with no ``selector`` and no ``manualSelector: true``
    (the selector is generated for each Job).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.batch import validate_job_spec_body
from kubeward.api.validation.cron import known_time_zone, schedule_error
from kubeward.api.validation.job_policies import default_condition_patterns
from kubeward.api.validation.workload import nonnegative, spec_of
from kubeward.errors import Cause

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
CRONJOB_NAME_MAX = 52
_TZ_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


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
        default_condition_patterns(job_template["spec"])


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
