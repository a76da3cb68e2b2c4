"""Type checking of a ValidatingAdmissionPolicy against the kinds it matches: its status warnings.

Rules (``validating/typechecking.go`` of k8s.io/apiserver 1.32):
 1. The kinds checked are those its ``matchConstraints.resourceRules`` name without wildcards
    (a rule with ``*`` in a group or version is skipped; ``*`` and subresources among its
    resources are left out), at most 10, sorted by group, version and kind; kinds without a
    schema are skipped.
 2. Each validation's ``expression`` and ``messageExpression`` is checked against every such
    kind, with ``object`` and ``oldObject`` of that kind and ``params`` of the ``paramKind``.
 3. A field the kind's schema does not declare is cel-go's ``undefined field 'NAME'`` at its
    position; the warning for an expression is, per kind, ``<group>/<version>, Kind=<kind>:
    <error>`` and a line break, joined with line breaks, at ``spec.validations[i].expression``
    (or ``.messageExpression``).
 4. kubeward's objects are untyped to the CEL library, so only field names are checked (not
    the types of operators and functions over them): a narrower check than cel-go's.
 5. Type checking never changes what the policy does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubeward.api.openapi.catalog import all_schemas, ref_target, schema_name
from kubeward.api.validation.policy_cel import ANY, COMPILER

MAX_TYPES_TO_CHECK = 10

# (group, version, resource) -> the kinds served there (``RESTMapper.KindsFor``).
KindsFor = Callable[[str, str, str], list[str]]
GVK = tuple[str, str, str]


def kinds_to_check(policy: Mapping[str, Any], kinds_for: KindsFor) -> list[GVK]:
    """Rule 1."""
    constraints = (policy.get("spec") or {}).get("matchConstraints") or {}
    found: set[GVK] = set()
    for rule in constraints.get("resourceRules") or []:
        groups = [str(g) for g in rule.get("apiGroups") or []]
        versions = [str(v) for v in rule.get("apiVersions") or []]
        if any("*" in g for g in groups) or any("*" in v for v in versions):
            continue
        resources = [str(r) for r in rule.get("resources") or [] if not set("*/") & set(str(r))]
        for group in sorted(groups):
            for version in sorted(versions):
                for resource in sorted(resources):
                    for kind in kinds_for(group, version, resource):
                        found.add((group, version, kind))
                        if len(found) == MAX_TYPES_TO_CHECK:
                            return sorted(found)
    return sorted(found)


def _resolve(schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    seen = 0
    while schema is not None and seen < 64:
        target = ref_target(schema)
        if target is None:
            return schema
        schema = all_schemas().get(target)
        seen += 1
    return schema


def _child(schema: Mapping[str, Any], step: str) -> tuple[Mapping[str, Any] | None, bool]:
    """The schema of ``step`` under ``schema`` and whether the step is declared."""
    if schema.get("x-kubernetes-preserve-unknown-fields") is True:
        return None, True
    if step == "*":
        items = schema.get("items")
        if isinstance(items, Mapping):
            return _resolve(items), True
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        return _resolve(additional), True
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None, schema.get("type") != "object" or step == "*"
    if step in properties:
        return _resolve(properties[step]), True
    return None, False


def undefined_at(schema: Mapping[str, Any] | None, path: tuple[str, ...]) -> int | None:
    """The index of the first step of ``path`` that ``schema`` does not declare."""
    node = _resolve(schema)
    for index, step in enumerate(path):
        if node is None:
            return None
        node, declared = _child(node, step)
        if not declared:
            return index
    return None


def _schema_of(api_version: str, kind: str) -> Mapping[str, Any] | None:
    group, _, version = api_version.rpartition("/")
    name = schema_name(group, version, kind)
    return all_schemas().get(name) if name else None


def _problem(source: str, schemas: Mapping[str, Mapping[str, Any] | None]) -> str:
    """Rule 3's error for one expression and one kind, or ``""``."""
    compiled = COMPILER.compile(source, ANY)
    if compiled.program is None:
        return ""
    for selection in compiled.program.selections():
        if selection.variable not in schemas:
            continue
        at = undefined_at(schemas[selection.variable], selection.path)
        if at is not None and at == len(selection.path) - 1:
            error = compiled.program.error_at(
                selection.offset, f"undefined field '{selection.path[at]}'"
            )
            return str(error)
    return ""


def expression_warnings(policy: Mapping[str, Any], kinds_for: KindsFor) -> list[dict[str, str]]:
    """Rules 1-3: ``status.typeChecking.expressionWarnings``."""
    spec = policy.get("spec") or {}
    kinds = [
        (gvk, _schema_of(f"{gvk[0]}/{gvk[1]}" if gvk[0] else gvk[1], gvk[2]))
        for gvk in kinds_to_check(policy, kinds_for)
    ]
    kinds = [(gvk, schema) for gvk, schema in kinds if schema is not None]
    param_kind = spec.get("paramKind") or {}
    params = (
        _schema_of(str(param_kind.get("apiVersion", "")), str(param_kind.get("kind", "")))
        if isinstance(param_kind, Mapping) and param_kind
        else None
    )
    warnings: list[dict[str, str]] = []
    for index, validation in enumerate(spec.get("validations") or []):
        for key in ("expression", "messageExpression"):
            source = validation.get(key)
            if not source:
                continue
            lines = []
            for (group, version, kind), schema in kinds:
                problem = _problem(
                    str(source), {"object": schema, "oldObject": schema, "params": params}
                )
                if problem:
                    gv = f"{group}/{version}" if group else version
                    lines.append(f"{gv}, Kind={kind}: {problem}\n")
            if lines:
                warnings.append(
                    {"fieldRef": f"spec.validations[{index}].{key}", "warning": "\n".join(lines)}
                )
    return warnings
