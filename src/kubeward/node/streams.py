"""The kubelet's streaming protocols over WebSocket: exec and attach.

As k8s.io/apimachinery's wsstream and remotecommand (the channel protocol kubectl 1.32 and the
official clients speak). Rules:
 1. exec/attach negotiate ``v5.channel.k8s.io`` or ``v4.channel.k8s.io`` (the client's order).
    Every binary message is one channel byte then data: 0 stdin, 1 stdout, 2 stderr, 3 error
    (a ``Status``), 4 resize. Under v5 the message ``255 N`` closes channel N (stdin's end).
 2. With ``stdin=true`` the input is read until stdin is closed (or the connection ends), then
    the command runs; its stdout and stderr go to their channels (when asked for), then the
    error channel carries Success, or Failure ``NonZeroExitCode`` with the exit code as the
    ``ExitCode`` cause — which is how kubectl learns the exit code — and the connection closes.
 2a. The command runs on the runtime's clock: its output is sent as it is written, and a
    ``sleep`` in it takes its time; a caller that goes away ends it.
 2b. A shell with no script (``sh``, ``/bin/sh``, ``bash`` and stdin) is interactive, as a real
    one reading a pipe: each line of stdin runs as it arrives and its output is sent at once;
    ``exit [N]`` ends it with N, the end of stdin with the last line's status. ``cat`` with no
    file (alone or as ``sh -c cat``) likewise copies stdin to stdout as it arrives and ends
    with 0 when stdin is closed. Text frames carry stdin as binary ones do (the official
    Python client sends ``str`` stdin as text; the kubelet's wsstream reads both).
 3. Port-forwarding is ``node.port_forward``'s.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from kubeward.node.clock import Clock
from kubeward.node.commands import Process

CHANNEL_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255
EXEC_POLL_SECONDS = 1.0
SHELLS = ("sh", "bash", "ash")
_EXIT = re.compile(r"(^|[;&|])\s*exit\b")


def exit_status(argv: list[str], code: int) -> dict[str, Any]:
    """Rule 2's error-channel Status."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(argv)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def failure_status(message: str) -> dict[str, Any]:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError"}


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


async def upgrade(request: web.Request, protocols: tuple[str, ...]) -> web.WebSocketResponse:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise web.HTTPBadRequest(text="Upgrade request required")
    ws = web.WebSocketResponse(protocols=protocols, heartbeat=None, max_msg_size=0)
    await ws.prepare(request)
    return ws


def channel_message(message: WSMessage) -> tuple[int, bytes] | None:
    """A message's channel and data, from a binary or a text frame (rule 2b)."""
    if message.type == WSMsgType.BINARY:
        data = bytes(message.data)
    elif message.type == WSMsgType.TEXT:
        data = str(message.data).encode("utf-8", errors="surrogateescape")
    else:
        return None
    return (data[0], data[1:]) if data else None


async def read_stdin(ws: web.WebSocketResponse) -> bytes:
    """Rule 2: stdin until its close signal or the end of the connection."""
    data = bytearray()
    async for message in ws:
        parsed = channel_message(message)
        if parsed is None:
            continue
        channel, payload = parsed
        if channel == STDIN:
            data += payload
        elif channel == CLOSE and payload[:1] == bytes([STDIN]):
            break
    return bytes(data)


async def send(ws: web.WebSocketResponse, channel: int, data: bytes) -> None:
    if data and not ws.closed:
        await ws.send_bytes(bytes([channel]) + data)


async def serve_command(
    request: web.Request,
    argv: list[str],
    start: Callable[[bytes], Process],
    clock: Clock,
) -> web.WebSocketResponse:
    """Rules 1 and 2 for one exec; rule 2a: the process runs on ``clock``; rule 2b."""
    ws = await upgrade(request, CHANNEL_PROTOCOLS)
    code: int | None
    if flag(request, "stdin") and interactive_shell(argv):
        code = await _serve_shell(request, ws, start, clock)
    elif flag(request, "stdin") and streaming_cat(argv):
        code = await _serve_cat(request, ws)
    else:
        stdin = await read_stdin(ws) if flag(request, "stdin") else b""
        left = asyncio.ensure_future(read_stdin(ws))
        try:
            code = await _run(request, ws, start(stdin), clock, left)
        finally:
            left.cancel()
            await asyncio.gather(left, return_exceptions=True)
    if code is None:  # the caller went away
        return ws
    await send(ws, ERROR, json.dumps(exit_status(argv, code)).encode())
    await ws.close()
    return ws


async def _run(
    request: web.Request,
    ws: web.WebSocketResponse,
    process: Process,
    clock: Clock,
    left: asyncio.Future[bytes],
) -> int | None:
    """Rule 2a: the process's output as it is written; its exit code, or None when the caller
    went away first (``left``) and the process was killed."""
    sent = {STDOUT: 0, STDERR: 0}
    while True:
        process.advance(clock())
        for channel, data, wanted in (
            (STDOUT, process.output.stdout, flag(request, "stdout")),
            (STDERR, process.output.stderr, flag(request, "stderr")),
        ):
            if wanted:
                await send(ws, channel, bytes(data[sent[channel] :]))
            sent[channel] = len(data)
        if not process.running:
            return process.exit_code or 0
        wait = EXEC_POLL_SECONDS
        if process.wake_at is not None:
            wait = min(max((process.wake_at - clock()).total_seconds(), 0.0), wait)
        await asyncio.wait((left,), timeout=wait)
        if left.done():  # the caller went away: the exec'd process is killed
            process.kill(137, clock())
            return None


def interactive_shell(argv: list[str]) -> bool:
    """Rule 2b."""
    return len(argv) == 1 and os.path.basename(argv[0]) in SHELLS


def streaming_cat(argv: list[str]) -> bool:
    """Rule 2b's ``cat``."""
    if len(argv) == 3 and os.path.basename(argv[0]) in SHELLS and argv[1] == "-c":
        argv = argv[2].split()
    return len(argv) == 1 and os.path.basename(argv[0]) == "cat"


async def _serve_cat(request: web.Request, ws: web.WebSocketResponse) -> int:
    async for message in ws:
        parsed = channel_message(message)
        if parsed is None:
            continue
        channel, payload = parsed
        if channel == CLOSE and payload[:1] == bytes([STDIN]):
            break
        if channel == STDIN and flag(request, "stdout"):
            await send(ws, STDOUT, payload)
    return 0


async def _serve_shell(
    request: web.Request,
    ws: web.WebSocketResponse,
    start: Callable[[bytes], Process],
    clock: Clock,
) -> int:
    """Rule 2b: one line of stdin at a time, each run on the clock; the shell's exit code."""
    pending, status = b"", 0
    never: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    async for message in ws:
        parsed = channel_message(message)
        if parsed is None:
            continue
        channel, payload = parsed
        if channel == CLOSE and payload[:1] == bytes([STDIN]):
            break
        if channel != STDIN:
            continue
        pending += payload
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            status = await _run(request, ws, start(line + b"\n"), clock, never) or 0
            if _EXIT.search(line.decode(errors="replace")):
                return status
    if pending.strip():
        status = await _run(request, ws, start(pending), clock, never) or 0
    return status


async def serve_attach(
    request: web.Request, output: bytes, wait_for_end: Callable[[], Awaitable[int | None]]
) -> web.WebSocketResponse:
    """Attach: what the process wrote, then its end, or the caller leaving first."""
    ws = await upgrade(request, CHANNEL_PROTOCOLS)
    if flag(request, "stdout"):
        await send(ws, STDOUT, output)
    ended = asyncio.ensure_future(wait_for_end())
    left = asyncio.ensure_future(read_stdin(ws))
    try:
        await asyncio.wait((ended, left), return_when=asyncio.FIRST_COMPLETED)
        if ended.done() and (code := ended.result()) is not None:
            await send(ws, ERROR, json.dumps(exit_status(["attach"], code)).encode())
    finally:
        for task in (ended, left):
            task.cancel()
        await asyncio.gather(ended, left, return_exceptions=True)
    await ws.close()
    return ws
