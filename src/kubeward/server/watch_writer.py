"""Writing a watch to its HTTP connection: each batch one chunk, straight to the transport.

The broadcaster pushes a watcher's pending events from one flush for every watcher
(``server/watch.py``); awaiting aiohttp's ``write()`` per connection would put a task switch
and a drain check behind every one of those writes. Rules:

 1. The response is chunked (``Transfer-Encoding: chunked``) and its headers have gone out
    before the first delivery (the handler writes through aiohttp first). Each delivery is one
    chunk, ``<hex length>\\r\\n<event lines>\\r\\n``, in one ``transport.write`` — one run of TLS
    records, one send. The terminating chunk is aiohttp's ``write_eof()``.
 2. The writer is ready while the transport buffers less than ``high_water`` bytes. Above it
    the broadcaster keeps the watcher's events in its shared log and retries (watch.py rule 3),
    so a client that reads slowly costs the server at most ``high_water`` plus one batch here.
 3. A delivery to a closed connection raises ``ConnectionResetError``, which ends the watcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kubeward.api.registry.store import WatchEvent

HIGH_WATER = 256 * 1024


def chunk(lines: list[bytes]) -> bytes:
    """``lines`` as one chunk frame; b"" for no lines (an empty chunk would end the body)."""
    if not lines:
        return b""
    data = b"".join(lines)
    return b"%x\r\n" % len(data) + data + b"\r\n"


class ChunkedWatchWriter:
    """A :class:`~kubeward.server.watch.WatchSink` writing chunks to one HTTP connection.

    ``encode`` turns a batch into a chunk frame (see :func:`chunk`), using the dict shared by
    the watchers handed the same batch to frame it once for all who encode it alike.
    """

    def __init__(
        self,
        transport: asyncio.Transport,
        encode: Callable[[list[WatchEvent], dict[object, bytes]], bytes],
        *,
        high_water: int = HIGH_WATER,
    ) -> None:
        self._transport = transport
        self._encode = encode
        self._high_water = high_water
        self.deliveries = 0

    def ready(self) -> bool:
        if self._transport.is_closing():
            # The next write raises and ends the watcher; the stdlib's SSL transport cannot
            # even say its buffer size once the peer has gone.
            return True
        return self._transport.get_write_buffer_size() < self._high_water

    def deliver(self, batch: list[WatchEvent], shared: dict[object, bytes]) -> None:
        self.deliveries += 1
        self.write(self._encode(batch, shared))

    def write(self, frame: bytes) -> None:
        """One chunk frame (nothing for b"")."""
        if not frame:
            return
        if self._transport.is_closing():
            raise ConnectionResetError("the client closed the watch connection")
        self._transport.write(frame)

    def abort(self) -> None:
        """Drop the connection (a watcher that stopped reading and fell behind)."""
        self._transport.abort()
