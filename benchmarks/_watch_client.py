"""Watch clients for ``benchmarks/api.py``: W watches in one process, each event's delay recorded.

Run as ``python benchmarks/_watch_client.py URL KEYDIR STEM WATCHERS RV EXPECTED SECONDS OUT``.
It opens WATCHERS watches of ``default`` configmaps from resourceVersion RV over TLS with the
client certificate in KEYDIR, prints ``ready`` once every response has started, and reads
until each watch has EXPECTED events or SECONDS have passed. Each event carries the monotonic
time the writer sent it (``data.sent``; the clock is the machine's, shared by processes), so
the delay is measured on receipt. OUT gets the delays (a float64 array), OUT with a .json
suffix the totals.

The client is an asyncio protocol that parses the HTTP/1.1 response and its chunked body
itself — strictly: a malformed status line, header block or chunk frame fails the run — so
that per read it costs a callback, not a task switch and a parser, and the watch server rather
than its 1,000 clients is what the figures measure.
"""

from __future__ import annotations

import array
import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import uvloop
from _servers import tls_context  # type: ignore[import-not-found]

SENT = b'"sent":"'


class Totals:
    def __init__(self) -> None:
        self.delays = array.array("d")
        self.received = 0
        self.errors = 0
        self.complete = 0
        self.reads = 0
        self.last = 0.0


class WatchProtocol(asyncio.Protocol):
    """One watch: the response head, then chunk frames, then event lines."""

    def __init__(self, request: bytes, expected: int, totals: Totals) -> None:
        self.request = request
        self.expected = expected
        self.totals = totals
        self.transport: asyncio.Transport | None = None
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.head_done = False
        self.buffer = b""  # unparsed bytes of the head or of chunk frames
        self.line = b""  # the start of an event line split across chunks
        self.seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.totals.reads += 1
        buffer = self.buffer + data
        if not self.head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            head = buffer[:end].lower()
            if not head.startswith(b"http/1.1 200 ") or b"transfer-encoding: chunked" not in head:
                self.fail(f"unexpected response head: {buffer[:end]!r}")
                return
            self.head_done = True
            self.started.set_result(None)
            buffer = buffer[end + 4 :]
        payload = []
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                break
            size = int(buffer[:end], 16)
            if size == 0:
                self.finish()
                return
            frame_end = end + 2 + size
            if len(buffer) < frame_end + 2:
                break
            if buffer[frame_end : frame_end + 2] != b"\r\n":
                self.fail("a chunk is not followed by CRLF")
                return
            payload.append(buffer[end + 2 : frame_end])
            buffer = buffer[frame_end + 2 :]
        self.buffer = buffer
        if payload:
            self.take_lines(b"".join(payload), now)

    def take_lines(self, data: bytes, now: float) -> None:
        lines = (self.line + data).split(b"\n")
        self.line = lines.pop()
        totals = self.totals
        for line in lines:
            at = line.find(SENT)
            if at < 0:
                if b'"ERROR"' in line:
                    totals.errors += 1
                continue
            end = line.index(b'"', at + len(SENT))
            totals.delays.append(now - float(line[at + len(SENT) : end]))
            self.seen += 1
            totals.last = max(totals.last, now)
        if self.seen >= self.expected:
            totals.complete += 1
            self.finish()

    def fail(self, why: str) -> None:
        if not self.started.done():
            self.started.set_exception(RuntimeError(why))
        self.finish()
        print(why, file=sys.stderr)

    def finish(self) -> None:
        if not self.done.done():
            self.totals.received += self.seen
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.started.done():
            self.started.set_exception(ConnectionError(f"connection lost: {exc}"))
        self.finish()


async def main(argv: list[str]) -> None:
    url, keydir, stem = urlsplit(argv[0]), Path(argv[1]), argv[2]
    watchers, rv, expected, seconds, out = (
        int(argv[3]),
        argv[4],
        int(argv[5]),
        float(argv[6]),
        Path(argv[7]),
    )
    context = tls_context(keydir, stem)
    totals = Totals()
    loop = asyncio.get_running_loop()
    request = (
        f"GET /api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}"
        f"&timeoutSeconds={int(seconds) + 5} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        "Accept: application/json\r\nUser-Agent: kubeward-bench\r\n\r\n"
    ).encode()
    handshakes = asyncio.Semaphore(32)
    deadline = time.monotonic() + seconds

    async def open_watch() -> WatchProtocol:
        async with handshakes:
            _, protocol = await loop.create_connection(
                lambda: WatchProtocol(request, expected, totals),
                url.hostname,
                url.port,
                ssl=context,
            )
            await protocol.started
        return protocol

    protocols = await asyncio.gather(*(open_watch() for _ in range(watchers)))
    print("ready", flush=True)
    await asyncio.wait([p.done for p in protocols], timeout=max(0.0, deadline - time.monotonic()))
    for protocol in protocols:
        protocol.finish()
    with out.open("wb") as file:
        totals.delays.tofile(file)
    out.with_suffix(".json").write_bytes(
        orjson.dumps(
            {
                "received": totals.received,
                "errors": totals.errors,
                "complete": totals.complete,
                "last": totals.last,
                "reads": totals.reads,
            }
        )
    )


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1:]))
