"""How a protobuf message maps onto its Kubernetes JSON form: the schema-table vocabulary.

Each message type is a table ``{field number: Field}``. The numbers come from the
``generated.proto`` files of ``k8s.io/api`` and ``k8s.io/apimachinery`` (Kubernetes 1.32+); the
JSON names are the Go ``json`` tags. The tables themselves live in the ``messages_*`` modules.

Rules the tables encode:
 1. Field numbers are never guessed: every number is the one in ``generated.proto``.
 2. Scalars the Go type holds by value (``string``, ``int32``, ``bool`` without ``*``) are on
    the wire even when zero, and their JSON tag says ``omitempty``, so a zero value is left out.
    ``keep_zero`` marks the fields where a zero must survive: Go pointers (``*bool``,
    ``*int32``, ... whose explicit ``false``/``0`` means something) and fields whose JSON tag has
    no ``omitempty``.
 3. Nested messages that are present are kept even when empty (``"spec": {}``), as Go's JSON
    encoder writes non-pointer structs.
 4. ``inline`` marks an embedded Go struct (``json:",inline"``): its fields join the parent.
 5. A few messages are JSON scalars, not objects (:class:`Special`): ``Time``, ``MicroTime``,
    ``Quantity``, ``IntOrString``, ``FieldsV1`` and the ``ExtraValue`` string lists.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Kind(enum.Enum):
    """What a field holds on the wire and how it reads as JSON."""

    STRING = "string"
    BYTES = "bytes"  # base64 in JSON
    BOOL = "bool"
    INT32 = "int32"
    INT64 = "int64"
    MESSAGE = "message"
    RAW = "raw"  # bytes kept as bytes: only for the envelope and FieldsV1, never in output


class Special(enum.Enum):
    """Messages whose JSON form is a scalar or a list rather than an object."""

    TIME = "Time"  # {1 seconds, 2 nanos} -> "2024-01-02T03:04:05Z"; zero is unset
    MICRO_TIME = "MicroTime"  # same, with six fractional digits
    QUANTITY = "Quantity"  # {1 string} -> "100m"
    INT_OR_STRING = "IntOrString"  # {1 type, 2 intVal, 3 strVal} -> 80 or "http"
    FIELDS_V1 = "FieldsV1"  # {1 raw JSON bytes} -> the JSON object
    STRING_LIST = "StringList"  # ExtraValue / Verbs {1 repeated string} -> ["a", "b"]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message table."""

    json: str
    kind: Kind
    message: str | Special = ""
    repeated: bool = False
    is_map: bool = False  # map<string, value>; ``kind``/``message`` describe the value
    keep_zero: bool = False
    inline: bool = False


Message = Mapping[int, Field]


def string(json: str, *, keep_zero: bool = False) -> Field:
    return Field(json, Kind.STRING, keep_zero=keep_zero)


def strings(json: str) -> Field:
    return Field(json, Kind.STRING, repeated=True)


def blob(json: str) -> Field:
    """A ``bytes`` field; JSON carries it base64-encoded."""
    return Field(json, Kind.BYTES)


def boolean(json: str, *, keep_zero: bool = False) -> Field:
    return Field(json, Kind.BOOL, keep_zero=keep_zero)


def int32(json: str, *, keep_zero: bool = False) -> Field:
    return Field(json, Kind.INT32, keep_zero=keep_zero)


def int32s(json: str) -> Field:
    return Field(json, Kind.INT32, repeated=True)


def int64(json: str, *, keep_zero: bool = False) -> Field:
    return Field(json, Kind.INT64, keep_zero=keep_zero)


def int64s(json: str) -> Field:
    return Field(json, Kind.INT64, repeated=True)


def message(json: str, name: str | Special, *, inline: bool = False) -> Field:
    return Field(json, Kind.MESSAGE, name, inline=inline)


def messages(json: str, name: str | Special) -> Field:
    return Field(json, Kind.MESSAGE, name, repeated=True)


def string_map(json: str) -> Field:
    return Field(json, Kind.STRING, is_map=True)


def blob_map(json: str) -> Field:
    return Field(json, Kind.BYTES, is_map=True)


def message_map(json: str, name: str | Special) -> Field:
    return Field(json, Kind.MESSAGE, name, is_map=True)


def timestamp(json: str) -> Field:
    return message(json, Special.TIME)


def micro_timestamp(json: str) -> Field:
    return message(json, Special.MICRO_TIME)


def quantity(json: str) -> Field:
    return message(json, Special.QUANTITY)


def quantity_map(json: str) -> Field:
    return message_map(json, Special.QUANTITY)


def int_or_string(json: str) -> Field:
    return message(json, Special.INT_OR_STRING)


def object_meta() -> Field:
    """Field 1 of every top-level kind."""
    return message("metadata", "meta.ObjectMeta")
