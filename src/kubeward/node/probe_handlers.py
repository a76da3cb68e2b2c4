"""What each kind of probe does against a simulated container (pkg/probe/{exec,http,tcp,grpc}).

Rules:
 1. ``exec`` runs its command in the container's filesystem and environment through the
    simulated commands, on the runtime's clock: exit 0 is success, anything else failure with
    the command's output; one still running after ``timeoutSeconds`` is killed and fails with
    ``command timed out: "CMD" timed out after Ns``.
 2. ``httpGet``, ``tcpSocket`` and ``grpc`` name a port by number or by the name of one of the
    container's ``ports``; a name it does not declare cannot be probed (the kubelet's
    ``strconv.Atoi`` error). The pod's network answers on every port its containers declare
    (the node's built-in responder: HTTP 200, a TCP accept, gRPC health ``SERVING``), and on
    every port a running ``nc -l`` echo server listens on; any other port refuses the connection, in the words of Go's HTTP client, dialer and gRPC health
    check. ``path``, ``scheme`` and ``httpHeaders`` are accepted and change nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubeward.node.probes import FAILURE, SUCCESS, Handler, Outcome, ProbeError, ProbeSpec
from kubeward.node.runtime import Container, Sandbox


def _exec(spec: ProbeSpec, c: Container, _: Sandbox, now: datetime.datetime) -> Outcome:
    """Rule 1."""
    argv = [str(a) for a in (spec.handler["exec"].get("command") or [])]
    process = c.exec_process(argv, now)
    process.advance(now + datetime.timedelta(seconds=spec.timeout))
    if process.running:
        process.kill(137, now)
        joined = " ".join(argv)
        return Outcome(FAILURE, f'command timed out: "{joined}" timed out after {spec.timeout}s')
    output = (bytes(process.output.stdout) + bytes(process.output.stderr)).decode(errors="replace")
    return Outcome(SUCCESS if process.exit_code == 0 else FAILURE, output)


def port_of(value: Any, c: Container) -> int:
    """Rule 2."""
    if isinstance(value, str):
        for port in c.spec.get("ports") or []:
            if port.get("name") == value:
                return int(port.get("containerPort", 0))
        try:
            number = int(value)
        except ValueError:
            raise ProbeError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    else:
        number = int(value or 0)
    if not 0 < number < 65536:
        raise ProbeError(f"invalid port number: {number}")
    return number


def _address(action: dict[str, Any], c: Container, sandbox: Sandbox) -> str:
    host = str(action.get("host") or sandbox.ip)
    return f"{host}:{port_of(action.get('port'), c)}"


def _served(action: dict[str, Any], c: Container, sandbox: Sandbox) -> bool:
    host = str(action.get("host") or sandbox.ip)
    return (
        host in (sandbox.ip, "localhost", "127.0.0.1")
        and port_of(action.get("port"), c) in sandbox.listening_ports()
    )


def _http(spec: ProbeSpec, c: Container, sandbox: Sandbox, _: datetime.datetime) -> Outcome:
    action = spec.handler["httpGet"]
    address = _address(action, c, sandbox)
    if _served(action, c, sandbox):
        return Outcome(SUCCESS)
    scheme = str(action.get("scheme") or "HTTP").lower()
    path = str(action.get("path") or "/")
    url = f"{scheme}://{address}{path if path.startswith('/') else '/' + path}"
    return Outcome(FAILURE, f'Get "{url}": dial tcp {address}: connect: connection refused')


def _tcp(spec: ProbeSpec, c: Container, sandbox: Sandbox, _: datetime.datetime) -> Outcome:
    action = spec.handler["tcpSocket"]
    address = _address(action, c, sandbox)
    if _served(action, c, sandbox):
        return Outcome(SUCCESS)
    return Outcome(FAILURE, f"dial tcp {address}: connect: connection refused")


def _grpc(spec: ProbeSpec, c: Container, sandbox: Sandbox, _: datetime.datetime) -> Outcome:
    action = spec.handler["grpc"]
    address = f"{sandbox.ip}:{port_of(action.get('port'), c)}"
    if port_of(action.get("port"), c) in sandbox.listening_ports():
        return Outcome(SUCCESS)
    return Outcome(
        FAILURE,
        f'timeout: failed to connect service "{address}" within {spec.timeout}s: '
        "context deadline exceeded",
    )


HANDLERS: dict[str, Handler] = {"exec": _exec, "httpGet": _http, "tcpSocket": _tcp, "grpc": _grpc}
