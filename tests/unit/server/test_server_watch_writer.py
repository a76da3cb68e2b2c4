"""The watch writer (kubeward/server/watch_writer.py): chunk frames, readiness, closed peers.

Over a real asyncio transport on a local socket pair (tests/integration/test_server_watch_http.py
reads the frames through the whole server over TLS).
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from kubeward.server.watch_writer import ChunkedWatchWriter, chunk


def test_a_chunk_frames_the_joined_lines_and_no_lines_make_no_frame() -> None:
    assert chunk([b'{"a":1}\n', b'{"b":2}\n']) == b'10\r\n{"a":1}\n{"b":2}\n\r\n'
    assert chunk([]) == b""  # an empty chunk would end the response body


async def _writer_and_peer(
    high_water: int,
) -> tuple[ChunkedWatchWriter, socket.socket, asyncio.BaseTransport]:
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    frames = [b""]

    def encode(batch: list[object], shared: dict[object, bytes]) -> bytes:
        return frames[0]

    writer = ChunkedWatchWriter(transport, encode, high_water=high_water)  # type: ignore[arg-type]
    writer.frames = frames  # type: ignore[attr-defined]
    return writer, theirs, transport


def test_each_delivery_is_one_frame_on_the_wire() -> None:
    async def go() -> bytes:
        writer, peer, transport = await _writer_and_peer(1 << 20)
        writer.frames[0] = chunk([b"one\n", b"two\n"])  # type: ignore[attr-defined]
        writer.deliver([], {})
        writer.write(chunk([b"three\n"]))
        await asyncio.sleep(0.01)
        peer.setblocking(False)
        data = peer.recv(1024)
        transport.close()
        peer.close()
        return data

    assert run(go()) == b"8\r\none\ntwo\n\r\n6\r\nthree\n\r\n"


def test_a_peer_that_does_not_read_makes_the_writer_not_ready() -> None:
    async def go() -> tuple[bool, bool]:
        writer, peer, _ = await _writer_and_peer(64 * 1024)
        ready_before = writer.ready()
        big = chunk([b"x" * 65536 + b"\n"])
        for _ in range(200):  # far more than the socket buffers take
            writer.write(big)
        ready_after = writer.ready()
        writer.abort()
        peer.close()
        return ready_before, ready_after

    assert run(go()) == (True, False)


def test_a_delivery_to_a_closed_connection_raises_connection_reset() -> None:
    async def go() -> None:
        writer, peer, transport = await _writer_and_peer(1 << 20)
        transport.close()
        peer.close()
        with pytest.raises(ConnectionResetError):
            writer.write(chunk([b"late\n"]))

    run(go())


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
