"""A custom object against its version's structural schema: defaults, pruning, validation.

The apiextensions-apiserver does three things with a CRD's ``openAPIV3Schema`` on every write,
in this order, and so does this module:

 1. **Defaulting**: a property that is absent and whose schema has a ``default`` gets a copy of
    it, from the root down (so a defaulted object's own defaults apply too).
 2. **Pruning**: fields the schema does not specify are dropped, except under
    ``x-kubernetes-preserve-unknown-fields: true``; ``apiVersion``, ``kind`` and ``metadata``
    are always kept at the root (and in ``x-kubernetes-embedded-resource`` objects). The pruned
    paths are returned so the handler can warn or refuse (``fieldValidation``).
 3. **Validation**: types (``integer`` also accepts whole floats; ``x-kubernetes-int-or-string``
    either), ``nullable``, ``enum``, ``required``, numeric bounds, string length and
    ``pattern``, array length, map values (``additionalProperties``). Messages follow the
    wording users see from kube-apiserver, e.g.
    ``spec.replicas: Invalid value: "x": spec.replicas in body must be of type integer: "string"``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from kubeward.api.validation import field
from kubeward.errors import Cause

Schema = dict[str, Any]
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def apply_defaults(obj: Any, schema: Schema) -> None:
    """Rule 1, in place."""
    if isinstance(obj, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for key, sub in properties.items():
                if key not in obj and isinstance(sub, dict) and "default" in sub:
                    obj[key] = copy.deepcopy(sub["default"])
                if key in obj:
                    apply_defaults(obj[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not properties:
            for value in obj.values():
                apply_defaults(value, extra)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(item, schema["items"])


def prune(obj: Any, schema: Schema, *, root: bool = True, path: str = "") -> list[str]:
    """Rule 2, in place; the pruned fields' paths (``spec.colour``)."""
    if schema.get("x-kubernetes-preserve-unknown-fields") is True and not schema.get("properties"):
        return []
    pruned: list[str] = []
    if isinstance(obj, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        keep_meta = root or schema.get("x-kubernetes-embedded-resource") is True
        for key in list(obj):
            where = f"{path}.{key}" if path else key
            if keep_meta and key in _ROOT_FIELDS:
                continue
            if isinstance(properties, dict) and key in properties:
                pruned.extend(prune(obj[key], properties[key], root=False, path=where))
            elif isinstance(extra, dict):
                pruned.extend(prune(obj[key], extra, root=False, path=where))
            elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields") is True:
                continue
            else:
                del obj[key]
                pruned.append(where)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(obj):
            pruned.extend(prune(item, schema["items"], root=False, path=f"{path}[{i}]"))
    return pruned


def validate(obj: Any, schema: Schema) -> list[Cause]:
    """Rule 3: every cause, with the path of the field."""
    return list(_validate(obj, schema, "", root=True))


_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _has_type(value: Any, wanted: str) -> bool:
    if wanted == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if wanted == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return _json_type(value) == wanted


def _validate(value: Any, schema: Schema, path: str, *, root: bool = False) -> Iterator[Cause]:
    shown = path or "<root>"
    if value is None:
        if not schema.get("nullable") and not root:
            yield field.invalid(
                shown,
                None,
                f'{shown} in body must be of type {schema.get("type", "object")}: "null"',
            )
        return
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string") is True:
        if not (_has_type(value, "integer") or isinstance(value, str)):
            yield field.invalid(
                shown,
                value,
                f'{shown} in body must be of type integer,string: "{_json_type(value)}"',
            )
            return
    elif wanted and not _has_type(value, wanted):
        yield field.invalid(
            shown, value, f'{shown} in body must be of type {wanted}: "{_json_type(value)}"'
        )
        return
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        yield field.not_supported(shown, value, [_enum_text(e) for e in enum])
    if isinstance(value, int | float) and not isinstance(value, bool):
        yield from _check_number(value, schema, shown)
    elif isinstance(value, str):
        yield from _check_string(value, schema, shown)
    elif isinstance(value, list):
        yield from _check_array(value, schema, shown, path)
    elif isinstance(value, dict):
        yield from _check_object(value, schema, path, root=root)


def _enum_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _check_number(value: float, schema: Schema, shown: str) -> Iterator[Cause]:
    maximum, minimum = schema.get("maximum"), schema.get("minimum")
    if isinstance(maximum, int | float):
        if schema.get("exclusiveMaximum") is True and value >= maximum:
            yield field.invalid(shown, value, f"{shown} in body should be less than {maximum}")
        elif value > maximum:
            yield field.invalid(
                shown, value, f"{shown} in body should be less than or equal to {maximum}"
            )
    if isinstance(minimum, int | float):
        if schema.get("exclusiveMinimum") is True and value <= minimum:
            yield field.invalid(shown, value, f"{shown} in body should be greater than {minimum}")
        elif value < minimum:
            yield field.invalid(
                shown, value, f"{shown} in body should be greater than or equal to {minimum}"
            )
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0 and (value / multiple) % 1:
        yield field.invalid(shown, value, f"{shown} in body should be a multiple of {multiple}")


def _check_string(value: str, schema: Schema, shown: str) -> Iterator[Cause]:
    max_length, min_length = schema.get("maxLength"), schema.get("minLength")
    if isinstance(max_length, int) and len(value) > max_length:
        yield field.too_long(shown, max_length)
    if isinstance(min_length, int) and len(value) < min_length:
        yield field.invalid(
            shown, value, f"{shown} in body should be at least {min_length} chars long"
        )
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True  # refused when the definition was written
        if not matched:
            yield field.invalid(shown, value, f"{shown} in body should match '{pattern}'")


def _check_array(value: list[Any], schema: Schema, shown: str, path: str) -> Iterator[Cause]:
    max_items, min_items = schema.get("maxItems"), schema.get("minItems")
    if isinstance(max_items, int) and len(value) > max_items:
        yield Cause(
            "FieldValueTooMany",
            f"Too many: {len(value)}: must have at most {max_items} items",
            shown,
        )
    if isinstance(min_items, int) and len(value) < min_items:
        yield field.invalid(shown, value, f"{shown} in body should have at least {min_items} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            yield from _validate(item, items, f"{path}[{i}]")


def _check_object(
    value: dict[str, Any], schema: Schema, path: str, *, root: bool
) -> Iterator[Cause]:
    for name in schema.get("required") or []:
        if name not in value:
            yield field.required(f"{path}.{name}" if path else str(name))
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if (
            root
            and key in _ROOT_FIELDS
            and not (isinstance(properties, dict) and key in properties)
        ):
            continue
        if isinstance(properties, dict) and key in properties:
            yield from _validate(item, properties[key], where)
        elif isinstance(extra, dict):
            yield from _validate(item, extra, where)
    max_props, min_props = schema.get("maxProperties"), schema.get("minProperties")
    shown = path or "<root>"
    if isinstance(max_props, int) and len(value) > max_props:
        yield Cause(
            "FieldValueTooMany",
            f"Too many: {len(value)}: must have at most {max_props} items",
            shown,
        )
    if isinstance(min_props, int) and len(value) < min_props:
        yield field.invalid(
            shown, value, f"{shown} in body should have at least {min_props} properties"
        )
