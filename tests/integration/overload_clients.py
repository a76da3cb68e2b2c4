"""Clients that load a server as an attacker would, and an administrator that keeps working.

Shared by tests/integration/test_server_overload.py (small counts) and benchmarks/fairness.py
(the issue's counts). Everything talks to 127.0.0.1 only and every loop is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field

import aiohttp

SELF_SUBJECT_REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


@dataclass
class AdminFigures:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    readyz: list[int] = field(default_factory=list)

    @property
    def ok_ratio(self) -> float:
        return sum(s == 200 for s in self.statuses) / max(1, len(self.statuses))

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


async def administrator(
    url: str, context: ssl.SSLContext, requests: int, path: str, pause: float = 0.0
) -> AdminFigures:
    """``requests`` GETs of ``path`` one after another, each followed by a GET of /readyz."""
    figures = AdminFigures()
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(ssl=context, limit=2)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(requests):
            started = time.perf_counter()
            try:
                async with session.get(url + path) as response:
                    await response.read()
                    figures.statuses.append(response.status)
            except (aiohttp.ClientError, TimeoutError):
                figures.statuses.append(0)
            figures.latencies.append(time.perf_counter() - started)
            try:
                async with session.get(url + "/readyz") as response:
                    await response.read()
                    figures.readyz.append(response.status)
            except (aiohttp.ClientError, TimeoutError):
                figures.readyz.append(0)
            if pause:
                await asyncio.sleep(pause)
    return figures


@dataclass
class SlowBodyOutcome:
    cut_off: int = 0  # the server closed the connection while the body trickled in
    answered: dict[int, int] = field(default_factory=dict)  # status -> count


async def slow_body_post(
    port: int, context: ssl.SSLContext, outcome: SlowBodyOutcome, *, seconds: float, gap: float
) -> None:
    """A POST whose 1,000-byte body arrives one byte every ``gap`` seconds, for ``seconds``."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    except (OSError, ssl.SSLError):
        outcome.answered[0] = outcome.answered.get(0, 0) + 1
        return
    head = (
        f"POST {SELF_SUBJECT_REVIEWS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )

    async def trickle() -> None:
        writer.write(head.encode())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(gap)

    sender = asyncio.create_task(trickle())
    try:
        status_line = await asyncio.wait_for(reader.readline(), seconds + 30)
    except (OSError, ssl.SSLError, TimeoutError):
        status_line = b""
    finally:
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
    if status_line.startswith(b"HTTP/1.1 "):
        status = int(status_line.split()[1])
        outcome.answered[status] = outcome.answered.get(status, 0) + 1
    else:
        outcome.cut_off += 1
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 5)


@dataclass
class WatchOutcome:
    statuses: dict[int, int] = field(default_factory=dict)


async def open_watches(
    session: aiohttp.ClientSession, url: str, path: str, count: int, outcome: WatchOutcome
) -> list[aiohttp.ClientResponse]:
    """Start ``count`` watches at once; return the ones the server accepted, still streaming."""

    async def one() -> aiohttp.ClientResponse | None:
        try:
            response = await session.get(url + path, params={"watch": "true"})
        except (aiohttp.ClientError, TimeoutError):
            outcome.statuses[0] = outcome.statuses.get(0, 0) + 1
            return None
        outcome.statuses[response.status] = outcome.statuses.get(response.status, 0) + 1
        if response.status != 200:
            response.release()
            return None
        return response

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [response for response in opened if response is not None]


def end_watches(watches: list[aiohttp.ClientResponse]) -> None:
    """Drop the watches' connections at once (a TLS close would wait for the server's reply)."""
    for watch in watches:
        connection = watch.connection
        if connection is not None and connection.transport is not None:
            connection.transport.abort()
        watch.close()


@dataclass
class IdleConnections:
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    readers: list[asyncio.StreamReader] = field(default_factory=list)

    async def closed_by_server(self, limit: float) -> int:
        """How many of the connections the server has closed, waiting at most ``limit`` seconds."""

        async def wait_eof(reader: asyncio.StreamReader) -> bool:
            try:
                while await reader.read(65536):
                    pass
            except (OSError, ssl.SSLError):
                pass
            return True

        results = await asyncio.gather(
            *(asyncio.wait_for(wait_eof(r), limit) for r in self.readers), return_exceptions=True
        )
        return sum(result is True for result in results)

    def close(self) -> None:
        for writer in self.writers:
            writer.transport.abort()


async def idle_connections(
    port: int, context: ssl.SSLContext, *, raw: int, handshaken: int, half_header: int
) -> IdleConnections:
    """Connections that never start TLS, finish TLS and say nothing, or send half a header."""
    idle = IdleConnections()
    for _ in range(raw):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        idle.readers.append(reader)
        idle.writers.append(writer)
    for index in range(handshaken + half_header):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        if index >= handshaken:
            writer.write(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            await writer.drain()
        idle.readers.append(reader)
        idle.writers.append(writer)
    return idle
