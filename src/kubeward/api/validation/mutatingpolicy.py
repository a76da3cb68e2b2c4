"""Validation of MutatingAdmissionPolicy and its bindings (admissionregistration.k8s.io/v1alpha1).

Rules (``pkg/apis/admissionregistration/validation`` of 1.32):
 1. What every admission policy has is checked as for ValidatingAdmissionPolicy
    (``admissionpolicy.validate_policy_common``): ``failurePolicy``, ``paramKind``,
    ``matchConstraints`` (required, with ``resourceRules``), ``matchConditions``, ``variables``.
 2. ``mutations`` needs at least one item. Each has a ``patchType`` of ApplyConfiguration or
    JSONPatch; the field of that type (``applyConfiguration`` or ``jsonPatch``) is required,
    with an ``expression`` that compiles to what the patch type needs
    (``mutation_cel.compile_mutation``); the other field is invalid (its value shown as
    ``{applyConfiguration}`` or ``{jsonPatch}``, as upstream shows it).
 3. ``reinvocationPolicy`` is required, Never or IfNeeded.
 4. A mutating policy cannot match DELETE: an operation of ``matchConstraints`` (or a binding's
    ``matchResources``) outside ``*``, CONNECT, CREATE and UPDATE is unsupported at
    ``...resourceRules.operations``. (Read from upstream's later validation; 1.32's plugin
    never mutates a DELETE either: there is no object.)
 5. A binding names a ``policyName``; its ``paramRef`` and ``matchResources`` are checked as
    a ValidatingAdmissionPolicyBinding's (it has no ``validationActions``).
"""

from __future__ import annotations

from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.admissionpolicy import (
    validate_binding_common,
    validate_policy_common,
)
from kubeward.api.validation.mutation_cel import compile_mutation
from kubeward.errors import Cause

PATCH_TYPES = ("ApplyConfiguration", "JSONPatch")
REINVOCATION_POLICIES = ("IfNeeded", "Never")
MUTATING_OPERATIONS = ("*", "CONNECT", "CREATE", "UPDATE")
_FIELD = {"ApplyConfiguration": "applyConfiguration", "JSONPatch": "jsonPatch"}


def _mutation(mutation: Any, path: str) -> list[Cause]:
    """Rule 2 for one mutation."""
    if not isinstance(mutation, dict):
        return [field.invalid(path, mutation, "must be an object")]
    patch_type = mutation.get("patchType")
    if not patch_type:
        return [field.required(f"{path}.patchType")]
    if patch_type not in PATCH_TYPES:
        return [field.not_supported(f"{path}.patchType", patch_type, PATCH_TYPES)]
    causes: list[Cause] = []
    wanted = _FIELD[str(patch_type)]
    for other in _FIELD.values():
        if other != wanted and mutation.get(other) is not None:
            causes.append(
                field.invalid(
                    f"{path}.{other}",
                    f"{{{other}}}",
                    f"must not be specified when patchType is {patch_type}",
                )
            )
    body = mutation.get(wanted)
    if not isinstance(body, dict):
        causes.append(
            field.required(f"{path}.{wanted}", f"must be specified when patchType is {patch_type}")
        )
        return causes
    expression = body.get("expression")
    where = f"{path}.{wanted}.expression"
    if not isinstance(expression, str) or not expression.strip():
        causes.append(field.required(where))
        return causes
    compiled = compile_mutation(expression.strip(), str(patch_type))
    if compiled.error:
        causes.append(field.invalid(where, expression, compiled.error))
    return causes


def validate_mutating_policy(obj: dict[str, Any]) -> list[Cause]:
    """Rules 1-3."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes = validate_policy_common(spec)
    causes.extend(_operations(spec.get("matchConstraints"), "spec.matchConstraints"))
    mutations = spec.get("mutations") or []
    if not mutations:
        causes.append(field.required("spec.mutations", "mutations must contain at least one item"))
    for i, mutation in enumerate(mutations):
        causes.extend(_mutation(mutation, f"spec.mutations[{i}]"))
    policy = spec.get("reinvocationPolicy")
    if not policy:
        causes.append(field.required("spec.reinvocationPolicy"))
    elif policy not in REINVOCATION_POLICIES:
        causes.append(field.not_supported("spec.reinvocationPolicy", policy, REINVOCATION_POLICIES))
    return causes


def validate_mutating_binding(obj: dict[str, Any]) -> list[Cause]:
    """Rule 4."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes: list[Cause] = []
    if not spec.get("policyName"):
        causes.append(field.required("spec.policyName"))
    causes.extend(validate_binding_common(spec))
    causes.extend(_operations(spec.get("matchResources"), "spec.matchResources"))
    return causes


def _operations(match: Any, path: str) -> list[Cause]:
    """Rule 4."""
    if not isinstance(match, dict):
        return []
    return [
        field.not_supported(f"{path}.resourceRules.operations", operation, MUTATING_OPERATIONS)
        for rule in match.get("resourceRules") or []
        if isinstance(rule, dict)
        for operation in rule.get("operations") or []
        if operation not in MUTATING_OPERATIONS
    ]
