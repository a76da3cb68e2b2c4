"""A Job's policies, validated as ``pkg/apis/batch/validation`` validates them (Kubernetes 1.32).

Rules:

 1. Pod failure policy: at most 20 rules; each has an action (Count, FailIndex — which needs
    ``backoffLimitPerIndex`` —, FailJob, Ignore) and exactly one of ``onExitCodes`` (operator In
    or NotIn, 1–255 ordered unique values, no 0 with In, a container of the template) and
    ``onPodConditions`` (at most 20 patterns of a qualified condition type and a status of
    True, False or Unknown, True when left out).
 2. Success policy: only with Indexed completion; 1–20 rules, each with ``succeededIndexes``
    (intervals ``0,2-4`` in increasing order, below ``completions``) and/or
    ``succeededCount`` (not negative, at most ``completions`` and at most the indexes named).
 3. ``managedBy`` is a domain-prefixed path (``example.com/queue``) of at most 63 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import check_dns1123_subdomain, check_qualified_name
from kubeward.api.validation.workload import as_int, is_int, nonnegative
from kubeward.errors import Cause

POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONDITION_STATUSES = ("False", "True", "Unknown")
MAX_POD_FAILURE_RULES = 20
MAX_EXIT_CODE_VALUES = 255
MAX_CONDITION_PATTERNS = 20
MAX_SUCCESS_POLICY_RULES = 20
MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024
MAX_MANAGED_BY_LENGTH = 63


def _too_many(path: str, count: int, limit: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {count}: must have at most {limit} items", path)


def default_condition_patterns(spec: dict[str, Any]) -> None:
    policy = spec.get("podFailurePolicy")
    if not isinstance(policy, dict):
        return
    for rule in policy.get("rules") or []:
        for pattern in (rule.get("onPodConditions") or []) if isinstance(rule, dict) else []:
            if isinstance(pattern, dict) and not pattern.get("status"):
                pattern["status"] = "True"


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
        causes.append(_too_many(f"{path}.values", len(values), MAX_EXIT_CODE_VALUES))
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


def validate_pod_failure_policy(spec: Mapping[str, Any], path: str) -> list[Cause]:
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


def indexes_error(text: str, completions: int) -> tuple[int, str]:
    """``validateIndexesFormat``: how many indexes ``text`` names, and why it is refused."""
    if not text:
        return 0, ""
    last: int | None = None
    total = 0
    for interval in text.split(","):
        limits = interval.split("-")
        if len(limits) > 2:
            return 0, (
                f'the fragment "{interval}" violates the requirement that an index interval '
                "can have at most two parts separated by '-'"
            )
        bounds: list[int] = []
        for part in limits:
            if not part.lstrip("+-").isdigit():
                return 0, f'cannot convert string to integer for index: "{part}"'
            number = int(part)
            if number >= completions:
                return 0, f'too large index: "{part}"'
            if last is not None and last >= number:
                return 0, f"non-increasing order, previous: {last}, current: {number}"
            last = number
            bounds.append(number)
        total += 1 if len(bounds) == 1 else bounds[1] - bounds[0] + 1
    return total, ""


def validate_success_policy(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """Rule 2."""
    policy = spec.get("successPolicy")
    if not isinstance(policy, Mapping):
        return []
    if spec.get("completionMode") != "Indexed":
        return [field.invalid(path, dict(policy), "requires indexed completion mode")]
    rules = policy.get("rules") or []
    causes: list[Cause] = []
    if not rules:
        causes.append(
            field.required(
                f"{path}.rules",
                "at least one rules must be specified when the successPolicy is specified",
            )
        )
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        causes.append(_too_many(f"{path}.rules", len(rules), MAX_SUCCESS_POLICY_RULES))
    completions = as_int(spec.get("completions")) or 0
    for i, rule in enumerate(rules):
        at = f"{path}.rules[{i}]"
        if not isinstance(rule, Mapping):
            causes.append(field.invalid(at, rule, "must be an object"))
            continue
        indexes, count = rule.get("succeededIndexes"), rule.get("succeededCount")
        if indexes is None and count is None:
            causes.append(
                field.required(
                    at, "at least one of succeededCount or succeededIndexes must be specified"
                )
            )
        total = 0
        if isinstance(indexes, str):
            if len(indexes) > MAX_SUCCEEDED_INDEXES_LENGTH:
                causes.append(
                    field.too_long(f"{at}.succeededIndexes", MAX_SUCCEEDED_INDEXES_LENGTH)
                )
            total, error = indexes_error(indexes, completions)
            if error:
                causes.append(
                    field.invalid(
                        f"{at}.succeededIndexes",
                        indexes,
                        f"error parsing succeededIndexes: {error}",
                    )
                )
        if count is not None:
            causes.extend(nonnegative(rule, "succeededCount", at))
            if is_int(count) and count > completions:
                causes.append(
                    field.invalid(
                        f"{at}.succeededCount",
                        count,
                        f"must be less than or equal to {completions} (the number of specified "
                        "completions)",
                    )
                )
            if is_int(count) and isinstance(indexes, str) and count > total:
                causes.append(
                    field.invalid(
                        f"{at}.succeededCount",
                        count,
                        f"must be less than or equal to {total} (the number of indexes in the "
                        "specified succeededIndexes field)",
                    )
                )
    return causes


def validate_managed_by(value: object, path: str) -> list[Cause]:
    """Rule 3 (``IsDomainPrefixedPath`` and the length limit)."""
    if value is None:
        return []
    text = str(value)
    causes: list[Cause] = []
    domain, slash, rest = text.partition("/")
    if not slash or not rest:
        causes.append(
            field.invalid(path, text, 'must be a domain-prefixed path (such as "acme.io/foo")')
        )
    else:
        causes.extend(field.invalid(path, domain, m) for m in check_dns1123_subdomain(domain))
    if len(text) > MAX_MANAGED_BY_LENGTH:
        causes.append(field.too_long(path, MAX_MANAGED_BY_LENGTH))
    return causes
