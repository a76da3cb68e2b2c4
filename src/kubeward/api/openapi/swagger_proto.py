"""The Swagger 2.0 document in the protobuf form kubectl asks for.

kubectl fetches ``/openapi/v2`` with ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
and unmarshals the body as gnostic's ``openapi.v2.Document`` (a JSON body fails with "proto:
cannot parse invalid wire-format data"). This module writes that message from the JSON-shaped
document of ``swagger.py``.

Rules:

1. Field numbers are those of gnostic's ``openapiv2/OpenAPIv2.proto`` (proto3): scalar fields
   equal to their zero value are left out, messages and ``oneof`` members are always written,
   maps are repeated ``Named*`` pairs in the document's key order.
2. Vendor extensions (``x-...``) and the ``Any`` values (``default``, ``example``, ``enum``
   items) are ``Any{yaml}`` holding the value as JSON text, which is valid YAML; kubectl reads
   ``x-kubernetes-group-version-kind`` and the patch extensions from it.
3. A schema keyword the encoder does not know is a programming error (``ValueError``), so a
   new keyword in ``schemas.json`` cannot silently vanish from what kubectl validates against.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from kubeward.api.protobuf.wire import write_varint

_VARINT = 0
_FIXED64 = 1
_LENGTH_DELIMITED = 2


class _Message:
    """A protobuf message being written, field by field."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def _tag(self, number: int, wire_type: int) -> None:
        self._parts.append(write_varint(number << 3 | wire_type))

    def string(self, number: int, value: Any) -> None:
        if value:
            self.raw(number, str(value).encode())

    def strings(self, number: int, values: Iterable[Any]) -> None:
        for value in values:
            self.raw(number, str(value).encode())

    def boolean(self, number: int, value: Any) -> None:
        if value:
            self._tag(number, _VARINT)
            self._parts.append(b"\x01")

    def oneof_boolean(self, number: int, value: bool) -> None:
        """A ``oneof`` member is written even when it holds the zero value."""
        self._tag(number, _VARINT)
        self._parts.append(b"\x01" if value else b"\x00")

    def int64(self, number: int, value: Any) -> None:
        if value:
            self._tag(number, _VARINT)
            self._parts.append(write_varint(int(value) & 0xFFFFFFFFFFFFFFFF))

    def double(self, number: int, value: Any) -> None:
        if value:
            self._tag(number, _FIXED64)
            self._parts.append(struct.pack("<d", float(value)))

    def raw(self, number: int, data: bytes) -> None:
        self._tag(number, _LENGTH_DELIMITED)
        self._parts.append(write_varint(len(data)))
        self._parts.append(data)

    def message(self, number: int, message: _Message) -> None:
        self.raw(number, message.encode())

    def encode(self) -> bytes:
        return b"".join(self._parts)


def encode_document(document: Mapping[str, Any]) -> bytes:
    """``openapi.v2.Document`` bytes for a Swagger 2.0 document (rules 1-3)."""
    out = _Message()
    out.string(1, document.get("swagger"))
    if "info" in document:
        out.message(2, _info(document["info"]))
    out.string(3, document.get("host"))
    out.string(4, document.get("basePath"))
    out.strings(5, document.get("schemes", ()))
    out.strings(6, document.get("consumes", ()))
    out.strings(7, document.get("produces", ()))
    if "paths" in document:
        out.message(8, _paths(document["paths"]))
    if "definitions" in document:
        out.message(9, _named(document["definitions"], _schema))
    for requirement in document.get("security", ()):
        out.message(12, _security_requirement(requirement))
    if "securityDefinitions" in document:
        out.message(13, _named(document["securityDefinitions"], _security_definition))
    _vendor_extensions(out, 16, document)
    return out.encode()


def _named(mapping: Mapping[str, Any], encode: Callable[[Any], _Message]) -> _Message:
    """A gnostic map: ``repeated Named<T> additional_properties = 1`` of {1 name, 2 value}."""
    out = _Message()
    for name, value in mapping.items():
        pair = _Message()
        pair.string(1, name)
        pair.message(2, encode(value))
        out.message(1, pair)
    return out


def _any(value: Any) -> _Message:
    out = _Message()
    out.raw(2, orjson.dumps(value))  # Any.yaml: JSON text is YAML (rule 2)
    return out


def _vendor_extensions(out: _Message, number: int, obj: Mapping[str, Any]) -> None:
    for key, value in obj.items():
        if key.startswith("x-"):
            pair = _Message()
            pair.string(1, key)
            pair.message(2, _any(value))
            out.message(number, pair)


def _info(info: Mapping[str, Any]) -> _Message:
    out = _Message()
    out.string(1, info.get("title"))
    out.string(2, info.get("version"))
    out.string(3, info.get("description"))
    _vendor_extensions(out, 7, info)
    return out


def _paths(paths: Mapping[str, Any]) -> _Message:
    out = _Message()
    for path, item in paths.items():
        pair = _Message()
        pair.string(1, path)
        pair.message(2, _path_item(item))
        out.message(2, pair)
    return out


_OPERATION_FIELDS = {
    "get": 2,
    "put": 3,
    "post": 4,
    "delete": 5,
    "options": 6,
    "head": 7,
    "patch": 8,
}


def _path_item(item: Mapping[str, Any]) -> _Message:
    out = _Message()
    out.string(1, item.get("$ref"))
    for method, number in _OPERATION_FIELDS.items():
        if method in item:
            out.message(number, _operation(item[method]))
    for param in item.get("parameters", ()):
        out.message(9, _parameters_item(param))
    _vendor_extensions(out, 10, item)
    return out


def _operation(operation: Mapping[str, Any]) -> _Message:
    out = _Message()
    out.strings(1, operation.get("tags", ()))
    out.string(2, operation.get("summary"))
    out.string(3, operation.get("description"))
    out.string(5, operation.get("operationId"))
    out.strings(6, operation.get("produces", ()))
    out.strings(7, operation.get("consumes", ()))
    for param in operation.get("parameters", ()):
        out.message(8, _parameters_item(param))
    if "responses" in operation:
        out.message(9, _responses(operation["responses"]))
    out.strings(10, operation.get("schemes", ()))
    out.boolean(11, operation.get("deprecated"))
    _vendor_extensions(out, 13, operation)
    return out


def _parameters_item(param: Mapping[str, Any]) -> _Message:
    out = _Message()
    if "$ref" in param:
        reference = _Message()
        reference.string(1, param["$ref"])
        reference.string(2, param.get("description"))
        out.message(2, reference)
        return out
    parameter = _Message()
    if param.get("in") == "body":
        body = _Message()
        body.string(1, param.get("description"))
        body.string(2, param.get("name"))
        body.string(3, param.get("in"))
        body.boolean(4, param.get("required"))
        if "schema" in param:
            body.message(5, _schema(param["schema"]))
        _vendor_extensions(body, 6, param)
        parameter.message(1, body)
    else:
        non_body = _Message()
        location = param.get("in")
        if location == "path":
            non_body.message(4, _simple_parameter(param, type_field=5))
        elif location == "header":
            non_body.message(1, _simple_parameter(param, type_field=5))
        elif location == "formData":
            non_body.message(2, _simple_parameter(param, type_field=6, allow_empty=True))
        else:
            non_body.message(3, _simple_parameter(param, type_field=6, allow_empty=True))
        parameter.message(2, non_body)
    out.message(1, parameter)
    return out


def _simple_parameter(
    param: Mapping[str, Any], *, type_field: int, allow_empty: bool = False
) -> _Message:
    """Header, path, formData and query parameters share one layout; the last two add
    ``allow_empty_value`` as field 5, which moves every later field up by one."""
    out = _Message()
    out.boolean(1, param.get("required"))
    out.string(2, param.get("in"))
    out.string(3, param.get("description"))
    out.string(4, param.get("name"))
    shift = 0
    if allow_empty:
        out.boolean(5, param.get("allowEmptyValue"))
        shift = 1
    out.string(type_field, param.get("type"))
    out.string(type_field + 1, param.get("format"))
    out.boolean(19 + shift, param.get("uniqueItems"))
    _vendor_extensions(out, 22 + shift, param)
    return out


def _responses(responses: Mapping[str, Any]) -> _Message:
    out = _Message()
    for code, response in responses.items():
        value = _Message()
        if "$ref" in response:
            reference = _Message()
            reference.string(1, response["$ref"])
            value.message(2, reference)
        else:
            body = _Message()
            body.string(1, response.get("description"))
            if "schema" in response:
                item = _Message()
                item.message(1, _schema(response["schema"]))
                body.message(2, item)
            _vendor_extensions(body, 5, response)
            value.message(1, body)
        pair = _Message()
        pair.string(1, code)
        pair.message(2, value)
        out.message(1, pair)
    _vendor_extensions(out, 2, responses)
    return out


# Schema keywords the encoder writes: name -> (field number, writer).
_SCALARS: dict[str, tuple[int, str]] = {
    "$ref": (1, "string"),
    "format": (2, "string"),
    "title": (3, "string"),
    "description": (4, "string"),
    "multipleOf": (6, "double"),
    "maximum": (7, "double"),
    "exclusiveMaximum": (8, "boolean"),
    "minimum": (9, "double"),
    "exclusiveMinimum": (10, "boolean"),
    "maxLength": (11, "int64"),
    "minLength": (12, "int64"),
    "pattern": (13, "string"),
    "maxItems": (14, "int64"),
    "minItems": (15, "int64"),
    "uniqueItems": (16, "boolean"),
    "maxProperties": (17, "int64"),
    "minProperties": (18, "int64"),
    "discriminator": (26, "string"),
    "readOnly": (27, "boolean"),
}
_STRUCTURED = frozenset(
    {"default", "required", "enum", "additionalProperties", "type", "items", "allOf"}
    | {"properties", "example"}
)


def _schema(schema: Mapping[str, Any]) -> _Message:
    out = _Message()
    for key, value in schema.items():
        if key.startswith("x-") or key in _STRUCTURED:
            continue
        spec = _SCALARS.get(key)
        if spec is None:
            raise ValueError(f"openapi v2: no protobuf field for schema keyword {key!r}")
        number, writer = spec
        getattr(out, writer)(number, value)
    if "default" in schema:
        out.message(5, _any(schema["default"]))
    out.strings(19, schema.get("required", ()))
    for item in schema.get("enum", ()):
        out.message(20, _any(item))
    additional = schema.get("additionalProperties")
    if additional is not None:
        choice = _Message()
        if isinstance(additional, bool):
            choice.oneof_boolean(2, additional)
        else:
            choice.message(1, _schema(additional))
        out.message(21, choice)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        type_item = _Message()
        type_item.strings(1, types)
        out.message(22, type_item)
    if "items" in schema:
        items = schema["items"] if isinstance(schema["items"], list) else [schema["items"]]
        items_item = _Message()
        for item in items:
            items_item.message(1, _schema(item))
        out.message(23, items_item)
    for part in schema.get("allOf", ()):
        out.message(24, _schema(part))
    if "properties" in schema:
        out.message(25, _named(schema["properties"], _schema))
    if "example" in schema:
        out.message(30, _any(schema["example"]))
    _vendor_extensions(out, 31, schema)
    return out


def _security_definition(definition: Mapping[str, Any]) -> _Message:
    out = _Message()
    if definition.get("type") == "apiKey":
        api_key = _Message()
        api_key.string(1, definition.get("type"))
        api_key.string(2, definition.get("name"))
        api_key.string(3, definition.get("in"))
        api_key.string(4, definition.get("description"))
        _vendor_extensions(api_key, 5, definition)
        out.message(2, api_key)
    elif definition.get("type") == "basic":
        basic = _Message()
        basic.string(1, definition.get("type"))
        basic.string(2, definition.get("description"))
        _vendor_extensions(basic, 3, definition)
        out.message(1, basic)
    else:
        raise ValueError(f"openapi v2: unsupported security definition {definition!r}")
    return out


def _security_requirement(requirement: Mapping[str, Any]) -> _Message:
    out = _Message()
    for name, scopes in requirement.items():
        values = _Message()
        values.strings(1, scopes)
        pair = _Message()
        pair.string(1, name)
        pair.message(2, values)
        out.message(1, pair)
    return out
