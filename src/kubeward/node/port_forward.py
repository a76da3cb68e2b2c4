"""Port-forwarding to a pod, in the two WebSocket forms clients use.

Rules (the kubelet's portforward package):
 1. SPDY tunnelled through a WebSocket (subprotocol ``SPDY/3.1+portforward.k8s.io``: kubectl
    1.32): the client opens, per forwarded connection, an ``error`` stream and a ``data``
    stream with the headers ``streamtype``, ``port`` and ``requestid``; each is answered with a
    SYN_REPLY. Bytes on the data stream reach the container's port; the answer comes back on
    it, then the data stream and the error stream of the same request are finished (FIN) —
    kubectl waits for the error stream to end. PINGs are answered with the same id.
 2. The channel protocol (``v4.channel.k8s.io``/``portforward.k8s.io`` with ``?ports=``: the
    official clients): channels 2i (data) and 2i+1 (error) for the i-th port, each opened by a
    message carrying the port as 2 bytes little-endian; bytes on a data channel are answered on
    the same channel. As the kubelet dials every port when the connection opens, a port nobody
    listens on is refused at once: its error channel carries the refusal.
 3. The container's side is simulated by ``answer(port, request bytes)``: it answers once an
    HTTP request's head is complete (or the client finished sending), once per connection.
    A port no container declares refuses the connection: the error stream (or channel) carries
    the kubelet's ``connection refused`` text instead.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import WSMsgType, web

from kubeward.node import spdy
from kubeward.node.streams import send, upgrade

SPDY_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
CHANNEL_PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
Answer = Callable[[int, bytes], bytes | None]  # None: nothing listens on the port


def refused(port: int) -> bytes:
    """Rule 3's error text, as the kubelet's port-forwarder reports a failed dial."""
    return (
        f"failed to connect to localhost:{port} inside namespace: "
        f"dial tcp4 127.0.0.1:{port}: connect: connection refused"
    ).encode()


def wants_spdy(request: web.Request) -> bool:
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    return SPDY_TUNNEL_PROTOCOL in [p.strip() for p in offered.split(",")]


def complete(data: bytes) -> bool:
    """Rule 3: an HTTP request head has arrived (or something that is not HTTP at all)."""
    return b"\r\n\r\n" in data or not data[:1].isalpha()


class _SpdyForwarder:
    """Rule 1 for one tunnelled connection."""

    def __init__(self, ws: web.WebSocketResponse, answer: Answer) -> None:
        self.ws = ws
        self.answer = answer
        self.framer = spdy.Framer()
        self.headers: dict[int, dict[str, str]] = {}
        self.received: dict[int, bytearray] = {}
        self.error_streams: dict[str, int] = {}
        self.answered: set[int] = set()

    async def _finish(self, stream_id: int, port: int, data: bytes | None) -> None:
        self.answered.add(stream_id)
        headers = self.headers.get(stream_id, {})
        frames = self.framer.data(stream_id, data or b"", fin=True)
        error_stream = self.error_streams.get(headers.get("requestid", ""))
        if error_stream is not None:
            error = refused(port) if data is None else b""
            frames += self.framer.data(error_stream, error, fin=True)
        await self.ws.send_bytes(frames)

    async def handle(self, frame: spdy.Frame) -> bool:
        """One frame; False when the connection is over."""
        if frame.control and frame.kind == spdy.SYN_STREAM:
            self.headers[frame.stream_id] = frame.headers
            if frame.headers.get("streamtype") == "error":
                self.error_streams[frame.headers.get("requestid", "")] = frame.stream_id
            else:
                self.received[frame.stream_id] = bytearray()
            await self.ws.send_bytes(self.framer.syn_reply(frame.stream_id))
        elif frame.control and frame.kind == spdy.PING:
            await self.ws.send_bytes(self.framer.control(spdy.PING, 0, frame.payload))
        elif frame.control and frame.kind == spdy.GOAWAY:
            return False
        elif not frame.control and frame.stream_id in self.received:
            buffer = self.received[frame.stream_id]
            buffer += frame.payload
            if frame.stream_id not in self.answered and (frame.fin or complete(bytes(buffer))):
                port = int(self.headers[frame.stream_id].get("port", "0") or 0)
                await self._finish(frame.stream_id, port, self.answer(port, bytes(buffer)))
        return True

    async def run(self) -> None:
        async for message in self.ws:
            if message.type != WSMsgType.BINARY:
                continue
            for frame in self.framer.feed(message.data):
                if not await self.handle(frame):
                    return


async def serve_port_forward(
    request: web.Request,
    ports: list[int],
    answer: Answer,
    *,
    listens: Callable[[int], bool] | None = None,
) -> web.WebSocketResponse:
    """Rules 1 and 2; ``listens(port)`` says whether anything listens on ``port``."""
    if wants_spdy(request):
        ws = await upgrade(request, (SPDY_TUNNEL_PROTOCOL,))
        await _SpdyForwarder(ws, answer).run()
        return ws
    if not ports:
        raise web.HTTPBadRequest(text='query parameter "port" is required')
    ws = await upgrade(request, CHANNEL_PROTOCOLS)
    for index, port in enumerate(ports):
        prefix = port.to_bytes(2, "little")
        await ws.send_bytes(bytes([2 * index]) + prefix)
        await ws.send_bytes(bytes([2 * index + 1]) + prefix)
    for index, port in enumerate(ports):
        if listens is not None and not listens(port):
            await send(ws, 2 * index + 1, refused(port))
    async for message in ws:
        if message.type != WSMsgType.BINARY or len(message.data) < 2:
            continue
        channel, payload = message.data[0], message.data[1:]
        if channel % 2 == 0 and channel // 2 < len(ports):
            port = ports[channel // 2]
            data = answer(port, payload)
            if data is None:
                await send(ws, channel + 1, refused(port))
            else:
                await send(ws, channel, data)
    return ws
