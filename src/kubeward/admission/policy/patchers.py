"""One mutation of a MutatingAdmissionPolicy applied to an object: JSONPatch or ApplyConfiguration.

Rules (``mutating/patch/json_patch.go`` and ``patch/smd.go`` of k8s.io/apiserver 1.32):
 1. ``JSONPatch``: the expression's list of ``JSONPatch`` values is applied as RFC 6902 in
    order (``api.patch.jsonpatch``). A ``test`` that does not hold leaves the object as it was,
    without an error; any other failing operation is ``JSONPath: <why>``.
 2. ``ApplyConfiguration``: the expression's ``Object`` is merged into the object by
    structured-merge rules (``api.fieldmanager.typed.merge``, the kind's schema: maps merge by
    key, granular lists by item key, scalars and atomic values are replaced). Its apiVersion and
    kind are the object's. Fields are not owned by anyone (no ``managedFields`` change).
 3. An ``ApplyConfiguration`` that sets an atomic list, map or struct is refused (``error
    applying patch: invalid ApplyConfiguration: may not mutate atomic arrays, maps or structs:
    PATHS``), so that nobody wipes the rest of an atomic value by setting part of it.
 4. A custom resource is merged by its definition's schema (``SchemaSource``: the reader's
    ``schema_for``); a kind without any schema with deduced types: maps granular, lists atomic
    (so rule 3 refuses setting a list there).
 5. The result must still decode as the kind (its schema's types, no unknown field), as
    upstream decodes it strictly into the typed object: otherwise a JSONPatch result is a 500
    ``Internal error occurred: ...`` (the write fails whatever the failure policy), and an
    apply configuration with a field the kind does not declare is ``error applying patch:
    failed to convert patch object to typed object: .PATH: field not declared in schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from kubeward.api.fieldmanager import schema as shapes
from kubeward.api.fieldmanager.typed import merge
from kubeward.api.openapi import conform, has_schema, unknown_fields
from kubeward.api.openapi.catalog import schema_name
from kubeward.api.patch.jsonpatch import apply_json_patch
from kubeward.api.validation.mutation_cel import MutationError, object_value, patch_operations
from kubeward.errors import BadRequest, InternalError, StatusError


def apply_json_patch_value(obj: dict[str, Any], value: Any) -> dict[str, Any]:
    """Rule 1: the patched copy of ``obj``.

    Raises:
        MutationError: the value is not a list of JSONPatch, or an operation failed.
    """
    operations = patch_operations(value)
    try:
        patched = apply_json_patch(obj, orjson.dumps(operations))
    except StatusError as exc:
        cause = exc.__cause__ or exc
        if "testing value" in str(cause):
            return obj
        raise MutationError(f"JSONPath: {cause}") from exc
    if not isinstance(patched, dict):
        raise MutationError("JSONPath: the patched object is not an object")
    problem = _decoding_problem(patched)
    if problem:
        raise InternalError(f"Internal error occurred: {problem}")
    return patched


def _decoding_problem(obj: dict[str, Any]) -> str:
    """Rule 5: why ``obj`` does not decode as its kind, or ``""``."""
    group, _, version = str(obj.get("apiVersion") or "").rpartition("/")
    kind = str(obj.get("kind") or "")
    if not has_schema(group, version, kind):
        return ""
    try:
        found = conform(obj, group, version, kind)
    except BadRequest as exc:
        return exc.message
    if found.unknown:
        return f'strict decoding error: unknown field "{found.unknown[0]}"'
    return ""


# (apiVersion, kind) -> a custom resource's schema, or None (the reader's ``schema_for``).
SchemaSource = Callable[[str, str], Mapping[str, Any] | None]


def _shape(obj: dict[str, Any], schemas: SchemaSource | None) -> shapes.Type:
    """Rules 2 and 4: the shape the merge follows."""
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    group, _, version = api_version.rpartition("/")
    name = schema_name(group, version, kind)
    if name:
        return shapes.for_builtin(name)
    schema = schemas(api_version, kind) if schemas is not None else None
    return shapes.root(schema) if schema else shapes.DEDUCED


def _atomics(value: Any, t: shapes.Type, path: str) -> list[str]:
    """Rule 3: the paths in ``value`` that are atomic lists, maps or structs."""
    found: list[str] = []
    if isinstance(value, dict) and t.kind in (shapes.MAP, shapes.UNTYPED):
        if t.kind == shapes.MAP and t.atomic:
            found.append(path)
        for key, child in value.items():
            found.extend(_atomics(child, t.field_type(key), f"{path}.{key}"))
    elif isinstance(value, list) and t.kind in (shapes.LIST, shapes.UNTYPED):
        if t.kind == shapes.UNTYPED or t.list_type == "atomic":
            found.append(path)
        element = t.element_type() if t.kind == shapes.LIST else shapes.DEDUCED
        for index, item in enumerate(value):
            found.extend(_atomics(item, element, f"{path}[{index}]"))
    return found


def apply_configuration_value(
    obj: dict[str, Any], value: Any, schemas: SchemaSource | None = None
) -> dict[str, Any]:
    """Rules 2-4: ``obj`` with the expression's ``Object`` merged in.

    Raises:
        MutationError: not an ``Object``, a type name mismatch, or an atomic value set.
    """
    patch = object_value(value)
    patch["apiVersion"] = obj.get("apiVersion")
    patch["kind"] = obj.get("kind")
    shape = _shape(obj, schemas)
    atomics = _atomics(patch, shape, "")
    if atomics:
        raise MutationError(
            "error applying patch: invalid ApplyConfiguration: may not mutate atomic arrays, "
            f"maps or structs: {', '.join(atomics)}"
        )
    group, _, version = str(obj.get("apiVersion") or "").rpartition("/")
    if has_schema(group, version, str(obj.get("kind") or "")):
        unknown = unknown_fields(patch, group, version, str(obj.get("kind") or ""))
        if unknown:
            raise MutationError(
                "error applying patch: failed to convert patch object to typed object: "
                f".{unknown[0]}: field not declared in schema"
            )
    merged = merge(obj, patch, shape)
    if not isinstance(merged, dict):
        raise MutationError("error applying patch: the merged object is not an object")
    return merged
