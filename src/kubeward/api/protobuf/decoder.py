"""Turn a Kubernetes protobuf request body into the JSON-shaped object the JSON encoding gives.

Rules:
 1. The body is the four bytes ``k8s\\x00`` then a ``runtime.Unknown`` {1 TypeMeta{1 apiVersion,
    2 kind}, 2 raw, 3 contentEncoding, 4 contentType}. Anything else is a 400.
 2. ``raw`` must be protobuf (``contentType`` empty or ``application/vnd.kubernetes.protobuf``)
    and unencoded (``contentEncoding`` empty).
 3. ``raw`` is read with the schema table of the (apiVersion, kind) in :mod:`.kinds`; fields
    follow the rules in :mod:`.schema`. Unknown field numbers are skipped by wire type.
 4. A known field with the wrong wire type, a truncated varint, a length past the end, an
    impossible IntOrString or an unrepresentable time is a 400 naming the field.
 5. Strings that are not valid UTF-8 get U+FFFD for each bad byte, as Go's JSON encoder writes
    them; ``bytes`` become base64; int64 stays a Python int; the last occurrence of a singular
    field wins.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from kubeward.api.protobuf import wire
from kubeward.api.protobuf.kinds import MESSAGES, ROOTS
from kubeward.api.protobuf.schema import Field, Kind, Message, Special
from kubeward.errors import BadRequest, WireError

MAGIC: Final = b"k8s\x00"
PROTOBUF_CONTENT_TYPE: Final = "application/vnd.kubernetes.protobuf"

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_GO_ZERO_TIME_SECONDS: Final = -62135596800  # time.Time{}.Unix(): 0001-01-01T00:00:00Z

# The envelope and the special scalar messages, described in the same vocabulary.
_INTERNAL: Final[dict[str, Message]] = {
    "runtime.Unknown": {
        1: Field("typeMeta", Kind.MESSAGE, "runtime.TypeMeta"),
        2: Field("raw", Kind.RAW, keep_zero=True),
        3: Field("contentEncoding", Kind.STRING),
        4: Field("contentType", Kind.STRING),
    },
    "runtime.TypeMeta": {
        1: Field("apiVersion", Kind.STRING),
        2: Field("kind", Kind.STRING),
    },
    Special.TIME.value: {
        1: Field("seconds", Kind.INT64),
        2: Field("nanos", Kind.INT32),
    },
    Special.QUANTITY.value: {1: Field("string", Kind.STRING)},
    Special.INT_OR_STRING.value: {
        1: Field("type", Kind.INT64),
        2: Field("intVal", Kind.INT32),
        3: Field("strVal", Kind.STRING),
    },
    Special.FIELDS_V1.value: {1: Field("raw", Kind.RAW)},
    Special.STRING_LIST.value: {1: Field("items", Kind.STRING, repeated=True)},
}

_WIRE_TYPE: Final = {
    Kind.STRING: wire.LENGTH_DELIMITED,
    Kind.BYTES: wire.LENGTH_DELIMITED,
    Kind.RAW: wire.LENGTH_DELIMITED,
    Kind.MESSAGE: wire.LENGTH_DELIMITED,
    Kind.BOOL: wire.VARINT,
    Kind.INT32: wire.VARINT,
    Kind.INT64: wire.VARINT,
}

_ZERO: Final[dict[Kind, Any]] = {
    Kind.STRING: "",
    Kind.BYTES: "",
    Kind.RAW: b"",
    Kind.BOOL: False,
    Kind.INT32: 0,
    Kind.INT64: 0,
}


class _Malformed(Exception):
    """A decoding problem at a field path; becomes a 400 at the top."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def decode_protobuf(body: bytes) -> dict[str, Any]:
    """Decode a ``application/vnd.kubernetes.protobuf`` request body.

    Returns:
        The object as the Kubernetes JSON encoding would give it, with ``apiVersion`` and
        ``kind`` from the envelope's TypeMeta first.

    Raises:
        BadRequest: the body is not a Kubernetes protobuf message, its kind is not one we read
            (see ``KINDS_SUPPORTED``), or the message is malformed.
    """
    if not body.startswith(MAGIC):
        prefix = " ".join(str(byte) for byte in MAGIC)
        raise BadRequest(
            f"provided data does not appear to be a protobuf message, expected prefix [{prefix}]"
        )
    try:
        envelope = _decode_message(bytes(body[len(MAGIC) :]), "runtime.Unknown", "Unknown")
        type_meta = envelope.get("typeMeta", {})
        api_version = str(type_meta.get("apiVersion", ""))
        kind = str(type_meta.get("kind", ""))
        _check_envelope(envelope)
        root = _root_message(api_version, kind)
        obj = _decode_message(envelope.get("raw", b""), root, kind)
    except _Malformed as exc:
        raise BadRequest(f"proto: {exc}") from exc
    return {"apiVersion": api_version, "kind": kind, **obj}


def _check_envelope(envelope: dict[str, Any]) -> None:
    encoding = envelope.get("contentEncoding", "")
    if encoding:
        raise BadRequest(f'unsupported protobuf content encoding "{encoding}"')
    content_type = envelope.get("contentType", "")
    if content_type not in ("", PROTOBUF_CONTENT_TYPE):
        raise BadRequest(f'unsupported content type "{content_type}" inside the protobuf envelope')


def _root_message(api_version: str, kind: str) -> str:
    if not kind:
        raise BadRequest("Object 'Kind' is missing in the protobuf envelope")
    root = ROOTS.get((api_version, kind))
    if root is None:
        raise BadRequest(f'no kind "{kind}" is registered for version "{api_version}"')
    return root


def _table(name: str) -> Message:
    return _INTERNAL.get(name) or MESSAGES[name]


def _decode_message(buf: bytes, name: str, path: str) -> dict[str, Any]:
    table = _table(name)
    out: dict[str, Any] = {}
    pos = 0
    end = len(buf)
    while pos < end:
        try:
            number, wire_type, pos = wire.read_tag(buf, pos)
            field = table.get(number)
            if field is None:
                pos = wire.skip_field(buf, pos, number, wire_type)
                continue
        except WireError as exc:
            raise _Malformed(path, str(exc)) from exc
        field_path = f"{path}.{field.json}"
        if field.is_map:
            key, value, pos = _read_map_entry(buf, pos, wire_type, field, field_path)
            out.setdefault(field.json, {})[key] = value
        elif field.repeated:
            values = out.setdefault(field.json, [])
            pos = _read_repeated(buf, pos, wire_type, field, f"{field_path}[{len(values)}]", values)
        else:
            value, pos = _read_value(buf, pos, wire_type, field, field_path)
            _assign(out, field, value)
    return out


def _assign(out: dict[str, Any], field: Field, value: Any) -> None:
    if field.inline:
        out.update(value)
    elif value is None or (not field.keep_zero and field.kind in _ZERO and not value):
        out.pop(field.json, None)
    else:
        out[field.json] = value


def _read_value(buf: bytes, pos: int, wire_type: int, field: Field, path: str) -> tuple[Any, int]:
    expected = _WIRE_TYPE[field.kind]
    if wire_type != expected:
        raise _Malformed(path, f"wrong wire type {wire_type} (want {expected})")
    try:
        if expected == wire.VARINT:
            raw_int, pos = wire.read_varint(buf, pos)
            return _integer(field.kind, raw_int), pos
        data, pos = wire.read_length_delimited(buf, pos)
    except WireError as exc:
        raise _Malformed(path, str(exc)) from exc
    return _from_bytes(data, field, path), pos


def _integer(kind: Kind, value: int) -> int | bool:
    if kind is Kind.BOOL:
        return value != 0
    if kind is Kind.INT32:
        return wire.to_int32(value)
    return wire.to_int64(value)


def _from_bytes(data: bytes, field: Field, path: str) -> Any:
    if field.kind is Kind.STRING:
        return data.decode("utf-8", errors="replace")
    if field.kind is Kind.BYTES:
        return base64.b64encode(data).decode("ascii")
    if field.kind is Kind.RAW:
        return data
    if isinstance(field.message, Special):
        return _special(field.message, data, path)
    return _decode_message(data, field.message, path)


def _read_repeated(
    buf: bytes, pos: int, wire_type: int, field: Field, path: str, values: list[Any]
) -> int:
    packable = _WIRE_TYPE[field.kind] == wire.VARINT
    if packable and wire_type == wire.LENGTH_DELIMITED:
        try:
            packed, pos = wire.read_length_delimited(buf, pos)
            inner = 0
            while inner < len(packed):
                raw_int, inner = wire.read_varint(packed, inner)
                values.append(_integer(field.kind, raw_int))
        except WireError as exc:
            raise _Malformed(path, str(exc)) from exc
        return pos
    value, pos = _read_value(buf, pos, wire_type, field, path)
    values.append(value)
    return pos


def _read_map_entry(
    buf: bytes, pos: int, wire_type: int, field: Field, path: str
) -> tuple[str, Any, int]:
    if wire_type != wire.LENGTH_DELIMITED:
        raise _Malformed(path, f"wrong wire type {wire_type} (want {wire.LENGTH_DELIMITED})")
    try:
        entry, pos = wire.read_length_delimited(buf, pos)
    except WireError as exc:
        raise _Malformed(path, str(exc)) from exc
    key = ""
    value: Any = None
    seen_value = False
    inner = 0
    while inner < len(entry):
        try:
            number, inner_type, inner = wire.read_tag(entry, inner)
            if number not in (1, 2):
                inner = wire.skip_field(entry, inner, number, inner_type)
                continue
        except WireError as exc:
            raise _Malformed(path, str(exc)) from exc
        if number == 1:
            key_field = Field("key", Kind.STRING)
            key, inner = _read_value(entry, inner, inner_type, key_field, f"{path}.key")
        else:
            value_field = Field(field.json, field.kind, field.message)
            value, inner = _read_value(entry, inner, inner_type, value_field, f"{path}[{key}]")
            seen_value = True
    if not seen_value:
        value = _missing_map_value(field, f"{path}[{key}]")
    return key, value, pos


def _missing_map_value(field: Field, path: str) -> Any:
    if field.kind is Kind.MESSAGE:
        return _from_bytes(b"", field, path)
    return _ZERO[field.kind]


def _special(kind: Special, data: bytes, path: str) -> Any:
    name = Special.TIME.value if kind is Special.MICRO_TIME else kind.value
    fields = _decode_message(data, name, path)
    if kind in (Special.TIME, Special.MICRO_TIME):
        return _format_time(
            fields.get("seconds", 0), fields.get("nanos", 0), kind is Special.MICRO_TIME, path
        )
    if kind is Special.QUANTITY:
        return fields.get("string") or "0"
    if kind is Special.INT_OR_STRING:
        return _int_or_string(fields, path)
    if kind is Special.FIELDS_V1:
        return _fields_v1(fields.get("raw", b""), path)
    return list(fields.get("items", []))


def _format_time(seconds: int, nanos: int, micro: bool, path: str) -> str | None:
    if nanos == 0 and seconds in (0, _GO_ZERO_TIME_SECONDS):
        return None
    carry, nanos = divmod(nanos, 1_000_000_000)
    try:
        moment = _EPOCH + timedelta(seconds=seconds + carry)
    except OverflowError as exc:
        raise _Malformed(path, f"time {seconds}s is out of range") from exc
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


def _int_or_string(fields: dict[str, Any], path: str) -> int | str:
    kind = fields.get("type", 0)
    if kind == 0:
        return int(fields.get("intVal", 0))
    if kind == 1:
        return str(fields.get("strVal", ""))
    raise _Malformed(path, f"impossible IntOrString type {kind}")


def _fields_v1(raw: bytes, path: str) -> Any:
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Malformed(path, f"managed fields are not valid JSON: {exc}") from exc
