"""The request-header deadline of GuardedProtocol, with a fake transport and protocol."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeward.server.transport import ConnectionGuards, ConnectionTimeouts, GuardedProtocol


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


class RecordingProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


def guarded(header_timeout: float) -> tuple[GuardedProtocol, RecordingProtocol, ConnectionGuards]:
    guards = ConnectionGuards(ConnectionTimeouts(request_header=header_timeout))
    inner = RecordingProtocol()
    protocol = guards.protocol_factory(lambda: inner)()
    return protocol, inner, guards


def test_a_connection_that_never_completes_its_headers_is_dropped() -> None:
    async def scenario() -> None:
        protocol, inner, guards = guarded(0.05)
        transport = FakeTransport()
        protocol.connection_made(transport)
        assert guards.transports() == [transport]
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")  # half a header
        assert inner.received == [b"GET / HTTP/1.1\r\nHost: x\r\n"]
        await asyncio.sleep(0.2)
        assert transport.aborted
        protocol.connection_lost(None)
        assert inner.lost and guards.transports() == []

    asyncio.run(scenario())


def test_complete_headers_stop_the_deadline_until_the_next_request() -> None:
    async def scenario() -> None:
        protocol, _, guards = guarded(0.05)
        transport = FakeTransport()
        protocol.connection_made(transport)
        guards.guard_of(transport).request_started()  # type: ignore[union-attr]
        protocol.data_received(b"body bytes")  # the body: no header deadline
        await asyncio.sleep(0.2)
        assert not transport.aborted
        protocol.request_finished()
        protocol.data_received(b"GET /next")  # the next request starts: deadline again
        await asyncio.sleep(0.2)
        assert transport.aborted

    asyncio.run(scenario())
