"""Connection-level timeouts that aiohttp does not have, at the protocol and transport level.

kube-apiserver's Go ``http.Server`` bounds every connection (``secure_serving.go``):
``ReadHeaderTimeout`` 32 s, ``IdleTimeout`` 90 s, and the TLS handshake by the smallest read
timeout (32 s). Here:

 1. TLS handshake: asyncio's ``ssl_handshake_timeout`` on the listening server, which aiohttp's
    ``TCPSite`` does not pass; :class:`GuardedSite` does. A client that connects and never
    finishes the handshake (or never starts it) is dropped after ``--tls-handshake-timeout``.
 2. Request headers: :class:`GuardedProtocol` wraps aiohttp's protocol. From the moment a
    connection is ready (after the handshake), or the first byte of a next request arrives on
    a kept-alive one, the request line and headers must be complete within
    ``--request-header-timeout``; otherwise the connection is aborted (no TLS close_notify wait:
    the peer is not cooperating). The server marks headers complete when a request reaches it.
 3. Idle keep-alive: aiohttp's own ``keepalive_timeout`` (``--idle-connection-timeout``) closes
    a connection that sends nothing after its last response.
 4. The request body has its own bound in ``server.handler`` (``--request-body-timeout``), and
    the request as a whole the ``--request-timeout`` filter.

 5. A request aiohttp cannot parse (a bad request line or header, a line too long) is answered
    400 by aiohttp and logged as one INFO line naming the peer and the kind of fault, through
    :data:`CONNECTION_LOG`: no traceback, and no text of the request, which may hold an
    ``Authorization`` header.

:class:`ConnectionGuards` keeps every open connection, so that stopping the server can drop
the ones whose TLS close is stuck, and so that a request can find its connection's guard.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("kubeward.apiserver")


class _MalformedRequests(logging.Filter):
    """Rule 5: aiohttp's "Error handling request" with a parse error becomes one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        fault = record.exc_info[1] if record.exc_info else None
        if isinstance(fault, HttpProcessingError):
            peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg = "%s malformed request from %s: %s"
            record.args = (fault.code, peer, type(fault).__name__)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


CONNECTION_LOG = logging.getLogger("kubeward.apiserver.connections")
"""The logger aiohttp's request handler is given (``web.AppRunner(logger=...)``)."""
CONNECTION_LOG.addFilter(_MalformedRequests())


@dataclass(frozen=True)
class ConnectionTimeouts:
    """Seconds; kube-apiserver's values by default."""

    tls_handshake: float = 32.0
    request_header: float = 32.0
    idle_connection: float = 90.0


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the request-header deadline (rule 2)."""

    def __init__(
        self, inner: asyncio.Protocol, guards: ConnectionGuards, header_timeout: float
    ) -> None:
        self.inner = inner
        self.guards = guards
        self.header_timeout = header_timeout
        self.transport: asyncio.BaseTransport | None = None
        self.in_request = False
        self._timer: asyncio.TimerHandle | None = None

    # --- what the server tells us ---------------------------------------------------------
    def request_started(self) -> None:
        """The headers of a request are complete: the header deadline no longer applies."""
        self.in_request = True
        self._cancel_timer()

    def request_finished(self) -> None:
        self.in_request = False

    # --- the deadline ---------------------------------------------------------------------
    def _arm_timer(self) -> None:
        if self._timer is None and self.header_timeout > 0:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_too_slow(self) -> None:
        self._timer = None
        if self.in_request or self.transport is None:
            return
        peer = self.transport.get_extra_info("peername")
        log.info(
            "dropping the connection from %s: no complete request headers in %g s",
            peer,
            self.header_timeout,
        )
        if isinstance(self.transport, asyncio.Transport):
            self.transport.abort()
        else:
            self.transport.close()

    # --- asyncio.Protocol, forwarded ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.guards.opened(transport, self)
        self._arm_timer()
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self.guards.closed(self.transport)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.in_request:
            self._arm_timer()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class ConnectionGuards:
    """Every open connection and its guard."""

    def __init__(self, timeouts: ConnectionTimeouts | None = None) -> None:
        self.timeouts = timeouts or ConnectionTimeouts()
        self._open: dict[asyncio.BaseTransport, GuardedProtocol] = {}

    def protocol_factory(
        self, inner: Callable[[], asyncio.Protocol]
    ) -> Callable[[], GuardedProtocol]:
        def make() -> GuardedProtocol:
            return GuardedProtocol(inner(), self, self.timeouts.request_header)

        return make

    def opened(self, transport: asyncio.BaseTransport, protocol: GuardedProtocol) -> None:
        self._open[transport] = protocol

    def closed(self, transport: asyncio.BaseTransport) -> None:
        self._open.pop(transport, None)

    def guard_of(self, transport: asyncio.BaseTransport | None) -> GuardedProtocol | None:
        return self._open.get(transport) if transport is not None else None

    def transports(self) -> list[asyncio.BaseTransport]:
        return list(self._open)

    def __len__(self) -> int:
        return len(self._open)


class GuardedSite(web.BaseSite):
    """A TLS listening socket whose connections get :class:`ConnectionGuards` (rules 1 and 2)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext,
        guards: ConnectionGuards,
        backlog: int = 1024,
        shutdown_timeout: float = 60.0,
    ) -> None:
        super().__init__(
            runner, ssl_context=ssl_context, backlog=backlog, shutdown_timeout=shutdown_timeout
        )
        self.host = host
        self.requested_port = port
        self.guards = guards
        self.bound_port = port
        self.listening: asyncio.Server | None = None

    @property
    def name(self) -> str:
        return f"https://{self.host}:{self.bound_port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self.listening = await loop.create_server(
            self.guards.protocol_factory(server),
            self.host,
            self.requested_port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            ssl_handshake_timeout=self.guards.timeouts.tls_handshake,
        )
        self._server = self.listening
        if self.listening.sockets:
            self.bound_port = int(self.listening.sockets[0].getsockname()[1])
