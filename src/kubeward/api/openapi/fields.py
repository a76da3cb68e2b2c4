"""Unknown-field detection behind ``fieldValidation=Strict|Warn``.

kubectl trusts the server to reject unknown fields once the OpenAPI document says the server
takes ``fieldValidation`` (see ``documents.py``), so this check is what stands between a typo
such as ``imagePullPolcy`` and an object stored without the field the user meant to set.

Rules, as Kubernetes' strict JSON decoding (sigs.k8s.io/json) applies them:

1. A field is unknown when the schema of the object that holds it has no property of that exact
   (case-sensitive) name. Paths read ``spec.containers[0].imagePullPolcy``: fields joined by
   ``.``, list items as ``[i]``.
2. Maps (``additionalProperties``) accept any key; their values are checked against the value
   schema. Free-form values (``x-kubernetes-preserve-unknown-fields``, or an object schema with
   neither properties nor additionalProperties, such as RawExtension) accept anything.
3. ``metadata`` is checked against ObjectMeta like any other field.
4. Values of the wrong JSON type are left to validation; this check only names unknown fields.
5. Paths are reported in document order, at most 100 of them, as the Go decoder does.
6. Messages: Strict answers 400 BadRequest ``strict decoding error: unknown field "a", unknown
   field "b"`` (create and update prefix it with ``<Kind> in version "<v>" cannot be handled as
   a <Kind>: ``); Warn adds one ``unknown field "a"`` warning per field; a merge or JSON patch
   that yields unknown fields is a 422 on the field ``patch``.

Speed: this runs on every write, so each schema is compiled once into a tree of small checker
objects (a dict lookup per field) and cached per kind.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from kubeward.api.openapi import catalog
from kubeward.errors import BadRequest, Cause, Invalid, invalid

MAX_REPORTED = 100


class _Checker:
    """Appends the paths of unknown fields under ``value`` (found at ``path``) to ``out``."""

    __slots__ = ()

    def check(self, value: object, path: str, out: list[str]) -> None:
        raise NotImplementedError


class _Struct(_Checker):
    __slots__ = ("fields",)

    def __init__(self) -> None:
        # Field name -> checker for its value, or None when any value is fine (scalars,
        # free-form objects, maps of scalars).
        self.fields: dict[str, _Checker | None] = {}

    def check(self, value: object, path: str, out: list[str]) -> None:
        if not isinstance(value, dict):
            return
        fields = self.fields
        prefix = f"{path}." if path else ""
        for key, item in value.items():
            if key in fields:
                checker = fields[key]
                if checker is not None and item is not None:
                    checker.check(item, prefix + key, out)
            else:
                out.append(prefix + key)


class _List(_Checker):
    __slots__ = ("item",)

    def __init__(self, item: _Checker) -> None:
        self.item = item

    def check(self, value: object, path: str, out: list[str]) -> None:
        if not isinstance(value, list):
            return
        item = self.item
        for index, element in enumerate(value):
            if element is not None:
                item.check(element, f"{path}[{index}]", out)


class _Map(_Checker):
    __slots__ = ("value",)

    def __init__(self, value: _Checker) -> None:
        self.value = value

    def check(self, value: object, path: str, out: list[str]) -> None:
        if not isinstance(value, dict):
            return
        checker = self.value
        for key, element in value.items():
            if element is not None:
                checker.check(element, f"{path}.{key}", out)


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
            struct = _Struct()
            self.named[name] = struct  # registered before its fields: schemas may recurse
            struct.fields = {key: self.compile(sub) for key, sub in schema["properties"].items()}
            return struct
        checker = self.compile(schema)
        self.named[name] = checker
        return checker

    def compile(self, schema: Mapping[str, Any]) -> _Checker | None:
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return None
        target = catalog.ref_target(schema)
        if target is not None:
            return self.named_checker(target)
        if schema.get("type") == "array":
            item = self.compile(schema.get("items") or {})
            return _List(item) if item is not None else None
        if "properties" in schema:
            struct = _Struct()
            struct.fields = {key: self.compile(sub) for key, sub in schema["properties"].items()}
            return struct
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            value = self.compile(additional)
            return _Map(value) if value is not None else None
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

    Raises:
        KeyError: the catalog has no schema for the kind (see :func:`has_schema`).
    """
    checker = _checker_for(group, version, kind)
    if checker is None:
        return []
    out: list[str] = []
    checker.check(obj, "", out)
    return out[:MAX_REPORTED]


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
