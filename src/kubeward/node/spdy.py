"""SPDY/3.1 framing, the little of it that port-forwarding needs.

kubectl 1.32 port-forwards with SPDY tunnelled through a WebSocket (subprotocol
``SPDY/3.1+portforward.k8s.io``): every binary message carries the next bytes of one SPDY
connection. Rules (the SPDY/3.1 draft, as moby/spdystream speaks it):
 1. A frame is 8 bytes of header then its payload. Control frames start with the bit 1, the
    version (3) and a type: SYN_STREAM 1, SYN_REPLY 2, RST_STREAM 3, SETTINGS 4, PING 6,
    GOAWAY 7, HEADERS 8, WINDOW_UPDATE 9; then flags (FIN 0x01) and a 24-bit length. Data
    frames start with the bit 0 and the stream id, then flags and a 24-bit length.
 2. Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are a 32-bit count then, per header, a
    32-bit length and a lower-case name, a 32-bit length and the value; they are compressed
    with zlib and the draft's preset dictionary, one compression stream per direction for the
    whole connection, each block ending with a sync flush.
 3. Bytes may arrive split anywhere: a frame is returned once all of it is there.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = (
    1,
    2,
    3,
    4,
    6,
    7,
    8,
    9,
)
FLAG_FIN = 0x01
VERSION = 3

# The draft's words, "|"-separated (some hold spaces); each goes in length-prefixed.
_DICTIONARY_WORDS = (
    "options|head|post|put|delete|trace|accept|accept-charset|accept-encoding|accept-language|"
    "accept-ranges|age|allow|authorization|cache-control|connection|content-base|"
    "content-encoding|content-language|content-length|content-location|content-md5|"
    "content-range|content-type|date|etag|expect|expires|from|host|if-match|if-modified-since|"
    "if-none-match|if-range|if-unmodified-since|last-modified|location|max-forwards|pragma|"
    "proxy-authenticate|proxy-authorization|range|referer|retry-after|server|te|trailer|"
    "transfer-encoding|upgrade|user-agent|vary|via|warning|www-authenticate|method|get|status|"
    "200 OK|version|HTTP/1.1|url|public|set-cookie|keep-alive|origin"
)
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
# Rule 2's dictionary, as the draft lays it out: length-prefixed words, then common values.
DICTIONARY = (
    b"".join(struct.pack(">I", len(w)) + w.encode() for w in _DICTIONARY_WORDS.split("|"))
    + _DICTIONARY_TAIL.encode()
)
assert len(DICTIONARY) == 1423


@dataclass
class Frame:
    control: bool
    kind: int  # the control frame type (0 for data)
    flags: int
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class Framer:
    """Rules 1-3 for one connection: ``feed`` what arrived, encode what to send."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    def _headers(self, block: bytes) -> dict[str, str]:
        data = self._inflate.decompress(block)
        (count,) = struct.unpack_from(">I", data, 0)
        offset, headers = 4, {}
        for _ in range(count):
            (size,) = struct.unpack_from(">I", data, offset)
            name = data[offset + 4 : offset + 4 + size].decode()
            offset += 4 + size
            (size,) = struct.unpack_from(">I", data, offset)
            headers[name.lower()] = data[offset + 4 : offset + 4 + size].decode()
            offset += 4 + size
        return headers

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, payload = bytes(self._buffer[:8]), bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            flags = head[4]
            if head[0] & 0x80:
                kind = int.from_bytes(head[2:4], "big")
                frame = Frame(True, kind, flags, 0, payload=payload)
                if kind in (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE):
                    frame.stream_id = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                if kind == SYN_STREAM:
                    frame.headers = self._headers(payload[10:])
                elif kind in (SYN_REPLY, HEADERS):
                    frame.headers = self._headers(payload[4:])
            else:
                stream_id = int.from_bytes(head[:4], "big") & 0x7FFFFFFF
                frame = Frame(False, 0, flags, stream_id, payload=payload)
            frames.append(frame)
        return frames

    def _block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            raw += struct.pack(">I", len(name)) + name.lower().encode()
            raw += struct.pack(">I", len(value.encode())) + value.encode()
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    @staticmethod
    def control(kind: int, flags: int, payload: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload

    def syn_reply(self, stream_id: int, headers: dict[str, str] | None = None) -> bytes:
        return self.control(SYN_REPLY, 0, struct.pack(">I", stream_id) + self._block(headers or {}))

    @staticmethod
    def data(stream_id: int, payload: bytes, *, fin: bool = False) -> bytes:
        flags = FLAG_FIN if fin else 0
        return struct.pack(">II", stream_id, (flags << 24) | len(payload)) + payload

    def syn_stream(self, stream_id: int, headers: dict[str, str], *, fin: bool = False) -> bytes:
        """A client's frame (tests speak it to the node)."""
        payload = struct.pack(">IIBB", stream_id, 0, 0, 0) + self._block(headers)
        return self.control(SYN_STREAM, FLAG_FIN if fin else 0, payload)
