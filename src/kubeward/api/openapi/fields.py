"""Schema conformance behind decoding: unknown fields (``fieldValidation``) and JSON types.

kubectl trusts the server to reject unknown fields once the OpenAPI document says the server
takes ``fieldValidation`` (see ``documents.py``), so this check is what stands between a typo
such as ``imagePullPolcy`` and an object stored without the field the user meant to set. It is
also what Go's typed decoding gives kube-apiserver for free: a value of the wrong JSON type never
reaches defaulting or validation, where it would otherwise crash a strategy written for the
right type.

Rules, as Kubernetes' strict JSON decoding (sigs.k8s.io/json) applies them:

1. A field is unknown when the schema of the object that holds it has no property of that exact
   (case-sensitive) name. Paths read ``spec.containers[0].imagePullPolcy``: fields joined by
   ``.``, list items as ``[i]``, map values as ``.key``.
2. Maps (``additionalProperties``) accept any key; their values are checked against the value
   schema. Free-form values (``x-kubernetes-preserve-unknown-fields``, or an object schema with
   neither properties nor additionalProperties, such as RawExtension) accept anything.
3. ``metadata`` is checked against ObjectMeta like any other field.
4. :func:`conform` also checks every value's JSON type against the schema, as Go's decoder
   does: objects, arrays, strings, booleans; integers within int64 (an integral float such as
   ``1.0`` or ``-0.0`` is taken as that integer); ``int-or-string``; quantities (string or
   number); ``date-time`` strings in RFC 3339; ``byte`` strings in standard base64. The first
   mismatch is a 400 ``json: cannot unmarshal string into Go struct field PodSpec.spec.containers
   of type []v1.Container`` (create and update prefix it as below; a patch whose result
   mismatches is the 422 on ``patch`` of rule 7).
5. Nulls are read as Go reads them: a null field is left unset (removed), a null list item or
   map value becomes its type's zero value (``{}``, ``""``, ``0``, ``false``).
6. Paths are reported in document order, at most 100 of them, as the Go decoder does;
   :meth:`Conformance.drop_unknown` removes every unknown field, reported or not.
7. Messages: Strict answers 400 BadRequest ``strict decoding error: unknown field "a", unknown
   field "b"`` (create and update prefix it with ``<Kind> in version "<v>" cannot be handled as
   a <Kind>: ``); Warn adds one ``unknown field "a"`` warning per field; a merge or JSON patch
   that yields unknown fields (Strict) or wrong types is a 422 on the field ``patch``.

Speed: this runs on every write, so each schema is compiled once into a tree of small checker
objects (a dict lookup per field) and cached per kind.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeward.api.openapi import catalog
from kubeward.errors import BadRequest, Cause, Invalid, invalid

MAX_REPORTED = 100
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)


@dataclass
class Conformance:
    """What :func:`conform` found: the unknown fields, and where they are."""

    unknown: list[str] = field(default_factory=list)
    _holders: list[tuple[dict[str, Any], str]] = field(default_factory=list, repr=False)

    def drop_unknown(self) -> None:
        """Remove every unknown field from the object (Warn and Ignore never store them)."""
        for holder, key in self._holders:
            holder.pop(key, None)
        self._holders.clear()


class _Run:
    __slots__ = ("check_types", "holders", "unknown")

    def __init__(self, check_types: bool) -> None:
        self.check_types = check_types
        self.unknown: list[str] = []
        self.holders: list[tuple[dict[str, Any], str]] = []


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _mismatch(
    value: object, path: str, struct: str, go_type: str, literal: bool = False
) -> BadRequest:
    shown = _json_type(value)
    if literal and shown == "number":
        shown = f"number {json.dumps(value)}"
    return BadRequest(
        f"json: cannot unmarshal {shown} into Go struct field {struct}.{path} of type {go_type}"
    )


class _Checker:
    """Checks ``value`` (found at ``path``, in a struct named ``struct``); returns what to keep."""

    __slots__ = ()
    go_type = "interface {}"

    def check(self, value: object, path: str, struct: str, run: _Run) -> object:
        raise NotImplementedError

    def zero(self) -> object:
        return None


_ZEROS: dict[str, object] = {
    "string": "",
    "integer": 0,
    "boolean": False,
    "int-or-string": 0,
    "number": "0",
}


class _Scalar(_Checker):
    __slots__ = ("format", "go_type")

    def __init__(self, fmt: str, go_type: str) -> None:
        self.format = fmt
        self.go_type = go_type

    def zero(self) -> object:
        return _ZEROS.get(self.format)

    def check(self, value: object, path: str, struct: str, run: _Run) -> object:
        if not run.check_types:
            return value
        fmt = self.format
        if fmt in ("string", "date-time", "byte"):
            if not isinstance(value, str):
                raise _mismatch(value, path, struct, self.go_type)
            if fmt == "date-time" and not _is_time(value):
                raise BadRequest(f'parsing time "{value[:64]}" at {path}: not an RFC 3339 time')
            if fmt == "byte" and not _is_base64(value):
                raise BadRequest(
                    f"illegal base64 data at input byte {_first_illegal_byte(value)} ({path} "
                    "must be base64, as every []byte field of the Kubernetes API)"
                )
            return value
        if fmt == "boolean":
            if not isinstance(value, bool):
                raise _mismatch(value, path, struct, self.go_type)
            return value
        if fmt == "number":  # resource.Quantity: its text or a plain number
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise _mismatch(value, path, struct, self.go_type)
            return value
        if fmt == "int-or-string" and isinstance(value, str):
            return value
        return _integer(value, path, struct, self.go_type)


def _integer(value: object, path: str, struct: str, go_type: str) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(value, path, struct, go_type)
    if isinstance(value, float):
        if not value.is_integer():
            raise _mismatch(value, path, struct, go_type, literal=True)
        value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _mismatch(value, path, struct, go_type, literal=True)
    return value


def _is_time(text: str) -> bool:
    if _RFC3339.fullmatch(text) is None:
        return False
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


_BASE64_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"
)


def _first_illegal_byte(text: str) -> int:
    """Where Go's base64 decoder stops: the first character outside the alphabet, else the end."""
    for index, char in enumerate(text):
        if char not in _BASE64_ALPHABET:
            return index
    return len(text)


def _check_child(
    checker: _Checker | None, value: object, path: str, struct: str, run: _Run
) -> object:
    """A list item or map value: nulls become the zero value (rule 5)."""
    if value is None:
        return checker.zero() if checker is not None and run.check_types else None
    if checker is None:
        return value
    return checker.check(value, path, struct, run)


class _Struct(_Checker):
    __slots__ = ("fields", "go_type", "name")

    def __init__(self, name: str = "", go_type: str = "struct") -> None:
        # Field name -> checker for its value, or None when any value is fine (free-form).
        self.fields: dict[str, _Checker | None] = {}
        self.name = name or "struct"
        self.go_type = go_type

    def zero(self) -> object:
        return {}

    def check(self, value: object, path: str, struct: str, run: _Run) -> object:
        if not isinstance(value, dict):
            if run.check_types:
                raise _mismatch(value, path, struct, self.go_type)
            return value
        fields = self.fields
        prefix = f"{path}." if path else ""
        nulls: list[str] = []
        for key, item in value.items():
            if key in fields:
                checker = fields[key]
                if item is None:
                    nulls.append(key)
                elif checker is not None:
                    kept = checker.check(item, prefix + key, self.name, run)
                    if kept is not item:
                        value[key] = kept
            else:
                run.unknown.append(prefix + key)
                run.holders.append((value, key))
        if nulls and run.check_types:
            for key in nulls:
                del value[key]
        return value


class _List(_Checker):
    __slots__ = ("go_type", "item")

    def __init__(self, item: _Checker | None) -> None:
        self.item = item
        self.go_type = "[]" + (item.go_type if item is not None else "interface {}")

    def check(self, value: object, path: str, struct: str, run: _Run) -> object:
        if not isinstance(value, list):
            if run.check_types:
                raise _mismatch(value, path, struct, self.go_type)
            return value
        item = self.item
        for index, element in enumerate(value):
            kept = _check_child(item, element, f"{path}[{index}]", struct, run)
            if kept is not element:
                value[index] = kept
        return value


class _Map(_Checker):
    __slots__ = ("go_type", "value")

    def __init__(self, value: _Checker | None) -> None:
        self.value = value
        self.go_type = "map[string]" + (value.go_type if value is not None else "interface {}")

    def check(self, value: object, path: str, struct: str, run: _Run) -> object:
        if not isinstance(value, dict):
            if run.check_types:
                raise _mismatch(value, path, struct, self.go_type)
            return value
        checker = self.value
        for key, element in value.items():
            kept = _check_child(checker, element, f"{path}.{key}", struct, run)
            if kept is not element:
                value[key] = kept
        return value


_SCALARS = {
    ("string", None): ("string", "string"),
    ("string", "date-time"): ("date-time", "v1.Time"),
    ("string", "byte"): ("byte", "[]uint8"),
    ("integer", None): ("integer", "int64"),
    ("boolean", None): ("boolean", "bool"),
    ("number", None): ("number", "float64"),
}


def _go_name(schema_name: str) -> str:
    """``io.k8s.api.core.v1.PodSpec`` → ``v1.PodSpec``, as Go prints the type."""
    parts = schema_name.split(".")
    return ".".join(parts[-2:])


class _Compiler:
    """Turns catalog schemas into checkers, sharing one checker per named schema."""

    def __init__(self, schemas: Mapping[str, catalog.Schema]) -> None:
        self.schemas = schemas
        self.named: dict[str, _Checker | None] = {}

    def named_checker(self, name: str) -> _Checker | None:
        if name in self.named:
            return self.named[name]
        schema = self.schemas[name]
        if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            struct = _Struct(name.rsplit(".", 1)[-1], _go_name(name))
            self.named[name] = struct  # registered before its fields: schemas may recurse
            struct.fields = {key: self.compile(sub) for key, sub in schema["properties"].items()}
            return struct
        if schema.get("x-kubernetes-int-or-string"):
            checker: _Checker | None = _Scalar("int-or-string", "intstr.IntOrString")
        elif "oneOf" in schema:  # resource.Quantity
            checker = _Scalar("number", _go_name(name))
        else:
            checker = self.compile(schema)
        self.named[name] = checker
        return checker

    def compile(self, schema: Mapping[str, Any]) -> _Checker | None:
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return None
        target = catalog.ref_target(schema)
        if target is not None:
            return self.named_checker(target)
        if schema.get("x-kubernetes-int-or-string"):
            return _Scalar("int-or-string", "intstr.IntOrString")
        kind = schema.get("type")
        if kind == "array":
            return _List(self.compile(schema.get("items") or {}))
        if "properties" in schema:
            struct = _Struct()
            struct.fields = {key: self.compile(sub) for key, sub in schema["properties"].items()}
            return struct
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            return _Map(self.compile(additional))
        scalar = _SCALARS.get((str(kind), schema.get("format")))
        if scalar is not None:
            return _Scalar(*scalar)
        return None


@functools.cache
def _compiler() -> _Compiler:
    # Compile everything up front (a few milliseconds, once) so that no caller ever sees a
    # checker whose fields are still being filled in.
    compiler = _Compiler(catalog.all_schemas())
    for name in compiler.schemas:
        compiler.named_checker(name)
    return compiler


@functools.cache
def _checker_for(group: str, version: str, kind: str) -> _Checker | None:
    name = catalog.schema_name(group, version, kind)
    if name is None:
        gv = f"{group}/{version}" if group else version
        raise KeyError(f"openapi: no schema for {gv} {kind}")
    return _compiler().named_checker(name)


def has_schema(group: str, version: str, kind: str) -> bool:
    """Whether :func:`unknown_fields` can check objects of this kind."""
    return catalog.schema_name(group, version, kind) is not None


def unknown_fields(obj: Mapping[str, Any], group: str, version: str, kind: str) -> list[str]:
    """The paths of every field of ``obj`` that the kind's schema does not declare.

    Neither types nor nulls are looked at, and ``obj`` is not changed.

    Raises:
        KeyError: the catalog has no schema for the kind (see :func:`has_schema`).
    """
    checker = _checker_for(group, version, kind)
    if checker is None:
        return []
    run = _Run(check_types=False)
    checker.check(obj, "", kind, run)
    return run.unknown[:MAX_REPORTED]


def conform(obj: dict[str, Any], group: str, version: str, kind: str) -> Conformance:
    """Check ``obj`` against the kind's schema (rules 1-6), normalizing nulls and integers.

    Returns:
        The unknown fields; the caller decides (by ``fieldValidation``) whether they are an
        error, a warning or silently dropped.

    Raises:
        KeyError: the catalog has no schema for the kind (see :func:`has_schema`).
        BadRequest: the first value of the wrong type, as Go's decoder words it (rule 4),
            without the kind prefix: see :func:`decoding_error` and :func:`patch_decoding_error`.
    """
    checker = _checker_for(group, version, kind)
    if checker is None:
        return Conformance()
    run = _Run(check_types=True)
    checker.check(obj, "", kind, run)
    return Conformance(run.unknown[:MAX_REPORTED], run.holders)


def decoding_error(error: BadRequest, *, kind: str, version: str) -> BadRequest:
    """The 400 create and update answer for a value of the wrong type."""
    return BadRequest(
        f"{kind} in version {_go_quote(version)} cannot be handled as a {kind}: {error.message}"
    )


def patch_decoding_error(error: BadRequest, patched: Mapping[str, Any]) -> Invalid:
    """The 422 on ``patch`` a patch gets when its result has a value of the wrong type."""
    rendered = json.dumps(patched, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    cause = Cause(
        "FieldValueInvalid", f"Invalid value: {_go_quote(rendered)}: {error.message}", "patch"
    )
    return invalid("", "", [cause])


def _go_quote(text: str) -> str:
    # Go's %q; JSON string quoting agrees with it for every printable character.
    return json.dumps(text, ensure_ascii=False)


def unknown_field_warnings(paths: Iterable[str]) -> list[str]:
    """One warning text per unknown field, as ``fieldValidation=Warn`` reports them."""
    return [f"unknown field {_go_quote(path)}" for path in paths]


def strict_decoding_message(paths: Iterable[str]) -> str:
    """``strict decoding error: unknown field "a", unknown field "b"``."""
    return "strict decoding error: " + ", ".join(unknown_field_warnings(paths))


def strict_decoding_error(paths: Iterable[str], *, kind: str = "", version: str = "") -> BadRequest:
    """The 400 that ``fieldValidation=Strict`` answers for unknown fields.

    Kubernetes' create and update handlers prefix the message with the kind and version the
    body was decoded as; pass ``kind`` and ``version`` to get that form:
    ``Pod in version "v1" cannot be handled as a Pod: strict decoding error: ...``.
    """
    message = strict_decoding_message(paths)
    if kind:
        message = f"{kind} in version {_go_quote(version)} cannot be handled as a {kind}: {message}"
    return BadRequest(message)


def strict_patch_error(paths: Iterable[str], patched: Mapping[str, Any]) -> Invalid:
    """The 422 a JSON or merge patch gets when its result has unknown fields under Strict.

    Kubernetes reports the whole patched object as the invalid value of the field ``patch``,
    with neither kind nor name: `` "" is invalid: patch: Invalid value: "{...}": strict ...``.
    """
    rendered = json.dumps(patched, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    cause = Cause(
        "FieldValueInvalid",
        f"Invalid value: {_go_quote(rendered)}: {strict_decoding_message(paths)}",
        "patch",
    )
    return invalid("", "", [cause])
