"""Validation of ValidatingAdmissionPolicy and its bindings, as upstream words it.

Rules (``pkg/apis/admissionregistration/validation`` of 1.32):
 1. A policy needs ``spec.matchConstraints`` with ``resourceRules``; every rule (and exclude
    rule) names operations, apiGroups, apiVersions and resources and a valid scope;
    ``matchPolicy`` is Exact or Equivalent, ``failurePolicy`` Fail or Ignore, selectors are
    label selectors.
 2. It needs at least one validation or audit annotation. Every CEL expression compiles in the
    policy environment (``policy_cel``) and is refused at its own path otherwise
    (``spec.validations[0].expression: Invalid value: "...": compilation failed: ...``).
 3. ``validations[i]``: ``expression`` required, ``message`` without line breaks, ``reason``
    one of Unauthorized, Forbidden, Invalid, RequestEntityTooLarge; ``matchConditions[i]`` and
    ``variables[i]`` have unique names (qualified names; C identifiers for variables);
    ``auditAnnotations[i].key`` is a unique qualified name.
 4. ``paramKind`` has an ``apiVersion`` (``group/version`` or ``version``) and a ``kind``.
 5. A binding names a ``policyName``, ``validationActions`` (unique; Deny, Warn, Audit; not both
    Deny and Warn), and a ``paramRef`` with exactly one of ``name`` and ``selector`` and a
    ``parameterNotFoundAction`` of Allow or Deny.
"""

from __future__ import annotations

import re
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.admissionregistration import OPERATIONS, SCOPES
from kubeward.api.validation.meta import check_qualified_name, validate_label_selector
from kubeward.api.validation.policy_cel import (
    ANY,
    BOOL,
    COMPILER,
    STRING,
    STRING_OR_NULL,
)
from kubeward.errors import Cause

REASONS = ("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge")
ACTIONS = ("Deny", "Warn", "Audit")
_IDENTIFIER = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")


def _expression(value: Any, path: str, returns: tuple[str, ...]) -> list[Cause]:
    """Rule 2."""
    if not isinstance(value, str) or not value.strip():
        return [field.required(path)]
    compiled = COMPILER.compile(value, returns)
    return [field.invalid(path, value, compiled.error)] if compiled.error else []


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> list[Cause]:
    if value is None or value in allowed:
        return []
    return [field.not_supported(path, value, allowed)]


def _rules(rules: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(rules or []):
        where = f"{path}[{i}]"
        if not isinstance(rule, dict):
            causes.append(field.invalid(where, rule, "must be an object"))
            continue
        operations = rule.get("operations") or []
        if not operations:
            causes.append(field.required(f"{where}.operations"))
        for j, operation in enumerate(operations):
            if operation not in OPERATIONS:
                causes.append(
                    field.not_supported(f"{where}.operations[{j}]", operation, OPERATIONS)
                )
        for key in ("apiGroups", "apiVersions", "resources"):
            if not rule.get(key):
                causes.append(field.required(f"{where}.{key}"))
        causes.extend(_choice(rule.get("scope"), f"{where}.scope", SCOPES))
    return causes


def validate_match_resources(match: Any, path: str, *, policy: bool) -> list[Cause]:
    """Rule 1 (the policy's ``matchConstraints`` or a binding's ``matchResources``)."""
    if match is None:
        return [field.required(path)] if policy else []
    if not isinstance(match, dict):
        return [field.invalid(path, match, "must be an object")]
    causes: list[Cause] = []
    if policy and not match.get("resourceRules"):
        causes.append(field.required(f"{path}.resourceRules"))
    causes.extend(_rules(match.get("resourceRules"), f"{path}.resourceRules"))
    causes.extend(_rules(match.get("excludeResourceRules"), f"{path}.excludeResourceRules"))
    causes.extend(_choice(match.get("matchPolicy"), f"{path}.matchPolicy", ("Exact", "Equivalent")))
    for selector in ("namespaceSelector", "objectSelector"):
        if match.get(selector) is not None:
            causes.extend(validate_label_selector(match[selector], f"{path}.{selector}"))
    return causes


def _named(items: Any, path: str, *, identifier: bool) -> tuple[list[Cause], list[dict[str, Any]]]:
    causes: list[Cause] = []
    good: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(items or []):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            causes.append(field.invalid(where, item, "must be an object"))
            continue
        good.append(item)
        name = item.get("name")
        if not name:
            causes.append(field.required(f"{where}.name"))
            continue
        name = str(name)
        if identifier and not _IDENTIFIER.match(name):
            causes.append(
                field.invalid(f"{where}.name", name, "name is not a valid CEL identifier")
            )
        elif not identifier:
            causes.extend(
                field.invalid(f"{where}.name", name, m) for m in check_qualified_name(name)
            )
        if name in seen:
            causes.append(field.duplicate(f"{where}.name", name))
        seen.add(name)
    return causes, good


def validate_policy_common(spec: dict[str, Any]) -> list[Cause]:
    """Rules 1, 3 and 4 for what every admission policy has (validating and mutating):
    ``failurePolicy``, ``paramKind``, ``matchConstraints``, ``matchConditions``, ``variables``."""
    causes: list[Cause] = []
    causes.extend(_choice(spec.get("failurePolicy"), "spec.failurePolicy", ("Fail", "Ignore")))
    param_kind = spec.get("paramKind")
    if param_kind is not None:
        if not isinstance(param_kind, dict):
            causes.append(field.invalid("spec.paramKind", param_kind, "must be an object"))
        else:
            version = param_kind.get("apiVersion")
            if not version:
                causes.append(field.required("spec.paramKind.apiVersion"))
            elif str(version).count("/") > 1:
                causes.append(
                    field.invalid(
                        "spec.paramKind.apiVersion", version, "must be in the form group/version"
                    )
                )
            if not param_kind.get("kind"):
                causes.append(field.required("spec.paramKind.kind"))
    causes.extend(
        validate_match_resources(spec.get("matchConstraints"), "spec.matchConstraints", policy=True)
    )
    named, conditions = _named(
        spec.get("matchConditions"), "spec.matchConditions", identifier=False
    )
    causes.extend(named)
    for i, condition in enumerate(conditions):
        causes.extend(
            _expression(condition.get("expression"), f"spec.matchConditions[{i}].expression", BOOL)
        )
    named, variables = _named(spec.get("variables"), "spec.variables", identifier=True)
    causes.extend(named)
    for i, variable in enumerate(variables):
        causes.extend(
            _expression(variable.get("expression"), f"spec.variables[{i}].expression", ANY)
        )
    return causes


def validate_policy(obj: dict[str, Any]) -> list[Cause]:
    """Rules 1-4."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes = validate_policy_common(spec)
    validations = spec.get("validations") or []
    annotations = spec.get("auditAnnotations") or []
    if not validations and not annotations:
        causes.append(
            field.required(
                "spec.validations", "validations or auditAnnotations must contain at least one item"
            )
        )
    for i, validation in enumerate(validations):
        where = f"spec.validations[{i}]"
        if not isinstance(validation, dict):
            causes.append(field.invalid(where, validation, "must be an object"))
            continue
        causes.extend(_expression(validation.get("expression"), f"{where}.expression", BOOL))
        message = validation.get("message")
        if isinstance(message, str) and "\n" in message:
            causes.append(
                field.invalid(f"{where}.message", message, "message must not contain line breaks")
            )
        if validation.get("messageExpression") is not None:
            causes.extend(
                _expression(
                    validation.get("messageExpression"), f"{where}.messageExpression", STRING
                )
            )
        causes.extend(_choice(validation.get("reason"), f"{where}.reason", REASONS))
    keys: set[str] = set()
    for i, annotation in enumerate(annotations):
        where = f"spec.auditAnnotations[{i}]"
        if not isinstance(annotation, dict):
            causes.append(field.invalid(where, annotation, "must be an object"))
            continue
        key = str(annotation.get("key") or "")
        if not key:
            causes.append(field.required(f"{where}.key"))
        else:
            causes.extend(field.invalid(f"{where}.key", key, m) for m in check_qualified_name(key))
            if key in keys:
                causes.append(field.duplicate(f"{where}.key", key))
            keys.add(key)
        causes.extend(
            _expression(
                annotation.get("valueExpression"), f"{where}.valueExpression", STRING_OR_NULL
            )
        )
    return causes


def validate_binding(obj: dict[str, Any]) -> list[Cause]:
    """Rule 5."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes: list[Cause] = []
    if not spec.get("policyName"):
        causes.append(field.required("spec.policyName"))
    actions = spec.get("validationActions")
    if not actions:
        causes.append(field.required("spec.validationActions"))
    else:
        seen: set[str] = set()
        for i, action in enumerate(actions):
            where = f"spec.validationActions[{i}]"
            if action in seen:
                causes.append(field.duplicate(where, action))
            seen.add(str(action))
            causes.extend(_choice(action, where, ACTIONS))
        if {"Deny", "Warn"} <= seen:
            causes.append(
                field.invalid(
                    "spec.validationActions",
                    actions,
                    "must not contain both Deny and Warn (repeating the same validation failure "
                    "information in the API response and headers serves no purpose)",
                )
            )
    causes.extend(validate_binding_common(spec))
    return causes


def validate_binding_common(spec: dict[str, Any]) -> list[Cause]:
    """Rule 5 for what every policy binding has: ``paramRef`` and ``matchResources``."""
    causes: list[Cause] = []
    ref = spec.get("paramRef")
    if isinstance(ref, dict):
        if ref.get("name") and ref.get("selector") is not None:
            causes.append(
                field.forbidden("spec.paramRef.name", "name and selector are mutually exclusive")
            )
        elif not ref.get("name") and ref.get("selector") is None:
            causes.append(field.required("spec.paramRef", "one of name or selector must be set"))
        if ref.get("selector") is not None:
            causes.extend(validate_label_selector(ref["selector"], "spec.paramRef.selector"))
        action = ref.get("parameterNotFoundAction")
        if action is None:
            causes.append(field.required("spec.paramRef.parameterNotFoundAction"))
        else:
            causes.extend(
                _choice(action, "spec.paramRef.parameterNotFoundAction", ("Allow", "Deny"))
            )
    elif ref is not None:
        causes.append(field.invalid("spec.paramRef", ref, "must be an object"))
    causes.extend(
        validate_match_resources(spec.get("matchResources"), "spec.matchResources", policy=False)
    )
    return causes
