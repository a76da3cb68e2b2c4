"""What a CRD's CEL rules see of its schema: declared types, sizes, fields and field paths.

1. ``self`` (and ``oldSelf``) is typed from the node's schema: integers, numbers, strings,
   booleans, lists of those and maps with ``additionalProperties``; objects with properties,
   ``x-kubernetes-int-or-string`` and ``x-kubernetes-preserve-unknown-fields`` are dynamic.
2. Sizes for the cost estimate are the schema's ``maxLength``, ``maxItems`` and
   ``maxProperties``; an unbounded one is as large as a request can make it (3 MiB, over the
   smallest serialized element plus a comma).
3. A selection of a field an object's schema does not declare is refused (dynamic objects
   give the type checker no fields to check); at a resource root only ``apiVersion``,
   ``kind``, ``metadata.name`` and ``metadata.generateName`` are visible, as upstream.
4. A rule's ``fieldPath`` (``.spec.a``, ``['a.b']``) must name a field of the schema.
"""

from __future__ import annotations

import base64
import datetime
import re
from typing import Any

from kubeward import cel
from kubeward.cel import types as celtypes

Schema = dict[str, Any]

_MIN_SERIALIZED = {"string": 2, "integer": 1, "number": 1, "boolean": 4, "object": 2, "array": 2}


_FORMAT_TYPES = {
    "date": celtypes.TIMESTAMP,
    "date-time": celtypes.TIMESTAMP,
    "duration": celtypes.DURATION,
    "byte": celtypes.BYTES,
}
_GO_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def _formatted(text: str, fmt: str) -> Any:
    """A string of a ``date``, ``date-time``, ``duration`` or ``byte`` format as the CEL value
    rules see (rule 6); the string itself when it does not parse."""
    try:
        if fmt == "date-time":
            return cel.timestamp_value(datetime.datetime.fromisoformat(text))
        if fmt == "date":
            day = datetime.date.fromisoformat(text)
            return cel.timestamp_value(datetime.datetime(day.year, day.month, day.day))
        if fmt == "byte":
            return base64.b64decode(text, validate=True)
    except ValueError:
        return text
    if fmt == "duration":
        sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
        parts = _GO_DURATION.findall(body)
        if body == "0":
            return cel.duration_value(datetime.timedelta())
        if (
            not parts
            or "".join(n + u for n, u in parts) != body
            or any(n in ("", ".") for n, _ in parts)
        ):
            return text
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
        return cel.duration_value(datetime.timedelta(seconds=sign * seconds))
    return text


def declared_type(schema: Schema) -> celtypes.CELType:
    """The CEL type of a schema node's values (objects with properties are dyn)."""
    if schema.get("x-kubernetes-int-or-string") or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    ):
        return celtypes.DYN
    kind = schema.get("type")
    if kind == "integer":
        return celtypes.INT
    if kind == "number":
        return celtypes.DOUBLE
    if kind == "string":
        return _FORMAT_TYPES.get(str(schema.get("format")), celtypes.STRING)
    if kind == "boolean":
        return celtypes.BOOL
    if kind == "array" and isinstance(schema.get("items"), dict):
        return celtypes.list_of(declared_type(schema["items"]))
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and not schema.get("properties"):
        return celtypes.map_of(celtypes.STRING, declared_type(extra))
    return celtypes.DYN


def max_size(schema: Schema) -> float:
    """A node's largest size: its bound, else what fits in one request."""
    kind = schema.get("type")
    if kind == "string":
        bound = schema.get("maxLength")
        # maxLength counts characters; sizes are in bytes, up to 4 a character (as upstream).
        return float(4 * bound) if isinstance(bound, int) else float(cel.MAX_REQUEST_BYTES - 2)
    if kind == "array":
        bound = schema.get("maxItems")
        items = schema.get("items")
        item_type = items.get("type") if isinstance(items, dict) else None
        per = _MIN_SERIALIZED.get(str(item_type), 1) + 1
        return float(bound) if isinstance(bound, int) else float((cel.MAX_REQUEST_BYTES - 2) // per)
    if kind == "object":
        bound = schema.get("maxProperties")
        if isinstance(bound, int):
            return float(bound)
        if isinstance(schema.get("properties"), dict) and not schema.get("additionalProperties"):
            return float(len(schema["properties"]))
        return float((cel.MAX_REQUEST_BYTES - 2) // 4)
    if schema.get("x-kubernetes-int-or-string"):
        return float(cel.MAX_REQUEST_BYTES - 2)
    return 1.0


_RESERVED = frozenset(
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
        "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
        "void", "while",
    }
)  # fmt: skip
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_ESCAPED = re.compile(r"__|[-./]")
_ESCAPABLE = re.compile(r"^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$")


def escape(name: str) -> str | None:
    """A property's name as rules write it (rule 5): ``__`` → ``__underscores__``, ``.`` →
    ``__dot__``, ``-`` → ``__dash__``, ``/`` → ``__slash__``, a CEL reserved word ``w`` →
    ``__w__``; None for a name rules cannot write (a leading digit, other characters)."""
    if name in _RESERVED:
        return f"__{name}__"
    if not _ESCAPABLE.match(name):
        return None
    return _ESCAPED.sub(lambda m: _ESCAPES[m.group(0)], name)


def needs_conversion(schema: Schema) -> bool:
    """Whether rules see any value under ``schema`` other than as JSON has it (rules 5, 6)."""
    if schema.get("type") == "string" and schema.get("format") in _FORMAT_TYPES:
        return True
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            if escape(name) != name or (isinstance(sub, dict) and needs_conversion(sub)):
                return True
    return any(
        isinstance(schema.get(key), dict) and needs_conversion(schema[key])
        for key in ("items", "additionalProperties")
    )


def rule_value(value: Any, schema: Schema) -> Any:
    """``value`` as rules see it: properties named as rules name them, formatted strings as
    timestamps, durations and bytes (only where that differs from JSON)."""
    if isinstance(value, str):
        fmt = schema.get("format")
        return _formatted(value, fmt) if fmt in _FORMAT_TYPES else value
    if isinstance(value, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            out: dict[str, Any] = {}
            for key, item in value.items():
                sub = properties.get(key)
                if not isinstance(sub, dict):
                    out[key] = item
                    continue
                name = escape(key)
                if name is not None:
                    out[name] = rule_value(item, sub)
            return out
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {k: rule_value(v, extra) for k, v in value.items()}
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [rule_value(v, schema["items"]) for v in value]
    return value


def child_schema(schema: Schema | None, step: str, *, escaped: bool = False) -> Schema | None:
    """The schema of ``step`` under ``schema`` (``*``: an element or map value); ``escaped``
    when ``step`` is written as rules write property names."""
    if schema is None:
        return None
    if step == "*":
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                return dict(schema[key])
        return None
    properties = schema.get("properties")
    if isinstance(properties, dict) and escaped:
        for name, sub in properties.items():
            if isinstance(sub, dict) and escape(name) == step:
                return dict(sub)
    elif isinstance(properties, dict) and isinstance(properties.get(step), dict):
        return dict(properties[step])
    if isinstance(schema.get("additionalProperties"), dict):
        return dict(schema["additionalProperties"])
    return None


class SchemaSizes:
    """The cost estimator's sizes (``kubeward.cel.cost`` rule 6) from a node's schema."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema

    def size(self, variable: str, path: tuple[str, ...]) -> float | None:
        if variable not in ("self", "oldSelf"):
            return None
        node: Schema | None = self._schema
        for step in path:
            node = child_schema(node, step, escaped=True)
        return None if node is None else max_size(node)


_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]")


def parse_field_path(text: str, schema: Schema) -> tuple[str, ...] | None:
    """A rule's ``fieldPath`` (``.spec.a`` or ``['a.b']``) as steps that exist in the schema."""
    steps: list[str] = []
    pos = 0
    node: Schema | None = schema
    while pos < len(text):
        match = _PATH_TOKEN.match(text, pos)
        if match is None:
            return None
        step = match.group(1) if match.group(1) is not None else match.group(2).replace("\\'", "'")
        node = child_schema(node, step)
        if node is None:
            return None
        steps.append(step)
        pos = match.end()
    return tuple(steps)


_ROOT_META = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}},
}


def visible_schema(schema: Schema, *, root: bool) -> Schema:
    """The schema rules see: at a resource root, ``apiVersion``, ``kind`` and only
    ``metadata.name`` and ``metadata.generateName`` of the object's metadata, as upstream."""
    if not root:
        return schema
    properties = dict(schema.get("properties") or {})
    properties["apiVersion"] = {"type": "string"}
    properties["kind"] = {"type": "string"}
    properties["metadata"] = _ROOT_META
    return {**schema, "properties": properties}


def undefined_field(schema: Schema, path: tuple[str, ...]) -> int | None:
    """The index of the first step of ``path`` the schema does not declare, if any."""
    node: Schema | None = schema
    for i, step in enumerate(path):
        if node is None or node.get("x-kubernetes-preserve-unknown-fields") is True:
            return None
        properties = node.get("properties")
        if step == "*" or not isinstance(properties, dict) or node.get("additionalProperties"):
            node = child_schema(node, step, escaped=True)
            continue
        found = child_schema(node, step, escaped=True)
        if found is None:
            return i
        node = found
    return None
