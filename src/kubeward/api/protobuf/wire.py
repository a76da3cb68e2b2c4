"""The protobuf wire format, read strictly.

kubectl 1.32 sends typed objects as proto2 messages. This module reads the bytes and nothing
else: it knows tags, varints and length-delimited fields, not Kubernetes.

Rules:
 1. Every read is bounds-checked: a varint that runs off the end, a length that points past
    the end, or a varint longer than ten bytes is malformed input.
 2. Unknown fields are skipped by their wire type (varint, 64-bit, length-delimited, 32-bit,
    and start/end groups, which are nested); wire types 6 and 7 do not exist and are refused.
 3. Field number 0 is illegal.
 4. Problems raise :class:`WireError`; the decoder turns it into a 400 BadRequest with the
    path of the field being read.
"""

from __future__ import annotations

from typing import Final

from kubeward.errors import WireError

VARINT: Final = 0
FIXED64: Final = 1
LENGTH_DELIMITED: Final = 2
START_GROUP: Final = 3
END_GROUP: Final = 4
FIXED32: Final = 5

_MAX_VARINT_BYTES: Final = 10
_MAX_GROUP_DEPTH: Final = 64


def write_varint(value: int) -> bytes:
    """An unsigned varint (a negative int64 as its two's complement, in 10 bytes)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an unsigned varint at ``pos``; return it and the position after it."""
    result = 0
    end = len(buf)
    for shift in range(0, 7 * _MAX_VARINT_BYTES, 7):
        if pos >= end:
            raise WireError("unexpected end of data in a varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
    raise WireError("varint is longer than 10 bytes")


def read_tag(buf: bytes, pos: int) -> tuple[int, int, int]:
    """Read a field key; return (field number, wire type, position after the key)."""
    key, pos = read_varint(buf, pos)
    number, wire_type = key >> 3, key & 7
    if number == 0:
        raise WireError(f"illegal tag 0 (wire type {wire_type})")
    return number, wire_type, pos


def read_length_delimited(buf: bytes, pos: int) -> tuple[bytes, int]:
    """Read a length prefix and the bytes it covers."""
    length, pos = read_varint(buf, pos)
    end = pos + length
    if end > len(buf):
        raise WireError(f"length {length} runs past the end of the data")
    return buf[pos:end], end


def to_int64(value: int) -> int:
    """Interpret an unsigned varint as a two's-complement int64."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def to_int32(value: int) -> int:
    """Interpret an unsigned varint as an int32 (negative int32s are sign-extended to 64 bits)."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def skip_field(buf: bytes, pos: int, number: int, wire_type: int, depth: int = 0) -> int:
    """Skip the value of a field whose key was just read; return the position after it."""
    if wire_type == VARINT:
        _, pos = read_varint(buf, pos)
        return pos
    if wire_type == FIXED64:
        return _skip_fixed(buf, pos, 8)
    if wire_type == LENGTH_DELIMITED:
        _, pos = read_length_delimited(buf, pos)
        return pos
    if wire_type == FIXED32:
        return _skip_fixed(buf, pos, 4)
    if wire_type == START_GROUP:
        return _skip_group(buf, pos, number, depth)
    if wire_type == END_GROUP:
        raise WireError(f"end group for field {number} without a start group")
    raise WireError(f"illegal wire type {wire_type} for field {number}")


def _skip_fixed(buf: bytes, pos: int, size: int) -> int:
    if pos + size > len(buf):
        raise WireError(f"unexpected end of data in a {size * 8}-bit field")
    return pos + size


def _skip_group(buf: bytes, pos: int, number: int, depth: int) -> int:
    if depth >= _MAX_GROUP_DEPTH:
        raise WireError("groups are nested too deeply")
    while pos < len(buf):
        inner, wire_type, pos = read_tag(buf, pos)
        if wire_type == END_GROUP:
            if inner != number:
                raise WireError(f"end group {inner} does not match start group {number}")
            return pos
        pos = skip_field(buf, pos, inner, wire_type, depth + 1)
    raise WireError(f"unexpected end of data in group {number}")
