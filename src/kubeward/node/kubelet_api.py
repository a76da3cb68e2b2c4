"""The node's HTTPS port: the kubelet API, served with the node's serving certificate.

TLS is 1.2 or newer with the certificate the Certificates API issued to the node
(``kubernetes.io/kubelet-serving``), or one the cluster CA issued directly; client
certificates from ``--client-ca-file`` are asked for but not required. Routes (as
pkg/kubelet/server/server.go), each behind ``node.kubelet_auth`` except ``/healthz``:

 1. ``GET /healthz``: ``ok``, unauthenticated (kubeward keeps the node's health readable, as
    the kubelet's read-only health port does).
 2. ``GET /pods``: the PodList of the pods bound to this node.
 3. ``GET /containerLogs/NS/POD/CONTAINER``: the container's log as text, with the options
    ``node.logs`` honours (``timestamps``, ``sinceSeconds``/``sinceTime``, ``tailLines``,
    ``limitBytes``); ``previous`` is the previous instance's log (400 ``previous terminated
    container "C" in pod "P" not found`` without one); ``follow`` streams the current
    instance until it has ended for good, been replaced, or the pod is gone. A pod or
    container this node does not run is 404; a bad option value 400.
 4. ``/exec/NS/POD[/UID]/CONTAINER`` and ``/attach/…`` (GET or POST, WebSocket upgrade), and
    exec'd commands run on the runtime's clock (``sleep 2`` takes two seconds) in the
    container's filesystem, so what they change the container's probes see;
    ``/portForward/NS/POD[/UID]``: ``node.streams``' protocols. A running container's
    ``nc -l -p PORT -e cat`` echoes what is sent to PORT; each other declared ``containerPort``
    answers port-forwarded bytes with a small HTTP responder naming the pod and port; other
    ports refuse the connection.
 5. ``GET /stats/summary`` and ``GET /metrics/resource``: the node's and its pods' simulated
    usage, the figures ``kubectl top`` and the horizontal pod autoscaler read through the
    metrics API. A running container uses 1m of CPU and 8Mi of memory, plus the load of its
    process (``node.commands`` rule 5: a busy loop is one core), capped by its
    ``resources.limits``, as a cgroup caps it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from kubeward.api import meta as m
from kubeward.api.quantity import quantity_or_zero
from kubeward.node import commands
from kubeward.node.kubelet_auth import KubeletAuth, NodeAttributes, certificate_user, forbidden_text
from kubeward.node.logs import LogOptions
from kubeward.node.port_forward import serve_port_forward
from kubeward.node.runtime import Container, Runtime, Sandbox
from kubeward.node.streams import serve_attach, serve_command

FOLLOW_POLL_SECONDS = 0.2
# Simulated usage per running container: what `kubectl top` shows for an idle process.
CONTAINER_CPU_NANOCORES = 1_000_000
CONTAINER_MEMORY_BYTES = 8 * 1024 * 1024


def container_usage(container: Container) -> tuple[int, int]:
    """Rule 5: a running container's (CPU nanocores, working-set bytes)."""
    cores, used_memory = container.load
    cpu = CONTAINER_CPU_NANOCORES + int(cores * 1e9)
    memory = CONTAINER_MEMORY_BYTES + used_memory
    limits = (container.spec.get("resources") or {}).get("limits") or {}
    if limits.get("cpu") is not None:
        cpu = min(cpu, int(quantity_or_zero(limits["cpu"]) * 10**9))
    if limits.get("memory") is not None:
        memory = min(memory, int(quantity_or_zero(limits["memory"])))
    return cpu, memory


def serving_context(pem_file: Path, client_ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pem_file)
    if client_ca_file is not None:
        context.load_verify_locations(client_ca_file)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


@dataclass
class NodeView:
    """What the kubelet API reads: the node's name, its runtime and its pods."""

    name: str
    runtime: Runtime
    pods: Callable[[], list[dict[str, Any]]]
    started: float = 0.0


def port_answer(sandbox: Sandbox, port: int, data: bytes) -> bytes | None:
    """Rule 4: what the pod's container on ``port`` answers ``data`` (None: nobody listens)."""
    for container in sandbox.containers:
        if container.running and commands.echo_port(container.argv()) == port:
            return data
    return http_answer(sandbox, port, data)


def http_answer(sandbox: Sandbox, port: int, _: bytes) -> bytes | None:
    """Rule 4's responder, on the ports the pod's containers declare (None on others)."""
    if port not in sandbox.declared_ports():
        return None
    body = f"kubeward: pod {sandbox.namespace}/{sandbox.name} port {port}\n".encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class KubeletAPI:
    def __init__(self, view: NodeView, auth: KubeletAuth | None) -> None:
        self.view = view
        self.auth = auth

    @web.middleware
    async def authorize(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        if self.auth is None:
            return web.Response(status=401, text="Unauthorized")
        user = certificate_user(
            request.transport.get_extra_info("peercert") if request.transport else None
        )
        header = request.headers.get("Authorization", "")
        if user is None and header.lower().startswith("bearer "):
            user = await self.auth.user_of_token(header[7:].strip())
        if user is None:
            return web.Response(status=401, text="Unauthorized")
        attributes = NodeAttributes.of(request.method, request.path)
        if not await self.auth.allowed(user, attributes):
            return web.Response(status=403, text=forbidden_text(user, attributes))
        return await handler(request)

    def _container(self, request: web.Request) -> tuple[Sandbox, Container]:
        info = request.match_info
        sandbox = self.view.runtime.get(info["namespace"], info["pod"])
        if sandbox is None or (info.get("uid") and info["uid"] != sandbox.uid):
            raise web.HTTPNotFound(text=f'pod "{info["pod"]}" not found')
        container = sandbox.container(info["container"])
        if container is None:
            raise web.HTTPNotFound(
                text=f'container "{info["container"]}" not found in pod "{info["pod"]}"'
            )
        return sandbox, container

    async def pods(self, _: web.Request) -> web.Response:
        """Rule 2."""
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.view.pods()}
        return web.json_response(body)

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        """Rule 3."""
        sandbox, container = self._container(request)
        try:
            options = LogOptions.parse(request.query, self.view.runtime.clock())
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        if options.previous:
            if container.previous_log is None:
                raise web.HTTPBadRequest(
                    text=f'previous terminated container "{container.name}" in pod '
                    f'"{sandbox.name}" not found'
                )
            data = options.render(container.previous_log)
            return web.Response(body=data, content_type="text/plain")
        current = container.log
        if not options.follow:
            return web.Response(body=options.render(current), content_type="text/plain")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = current.complete_lines()
        await response.write(options.render(current, 0, sent))
        more = LogOptions(timestamps=options.timestamps)
        while self.view.runtime.get(sandbox.namespace, sandbox.name) is sandbox:
            if current.complete_lines() > sent:
                await response.write(more.render(current, sent, current.complete_lines()))
                sent = current.complete_lines()
            if container.log is not current or (
                container.exit_code is not None and container.restart_at is None
            ):
                break
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
        await response.write(more.render(current, sent))
        await response.write_eof()
        return response

    async def exec(self, request: web.Request) -> web.StreamResponse:
        """Rule 4."""
        _, container = self._container(request)
        argv = request.query.getall("command", [])
        if not container.running:
            raise web.HTTPBadRequest(text=f"container {container.name} is not running")
        clock = self.view.runtime.clock
        return await serve_command(
            request, argv, lambda stdin: container.exec_process(argv, clock(), stdin), clock
        )

    async def attach(self, request: web.Request) -> web.StreamResponse:
        sandbox, container = self._container(request)

        async def wait_for_end() -> int | None:
            while self.view.runtime.get(sandbox.namespace, sandbox.name) is sandbox:
                if container.exit_code is not None:
                    return container.exit_code
                await asyncio.sleep(FOLLOW_POLL_SECONDS)
            return None

        return await serve_attach(request, container.log.data(), wait_for_end)

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        sandbox = self.view.runtime.get(info["namespace"], info["pod"])
        if sandbox is None:
            raise web.HTTPNotFound(text=f'pod "{info["pod"]}" not found')
        try:
            ports = [int(p) for p in request.query.getall("ports", []) for p in p.split(",")]
        except ValueError:
            raise web.HTTPBadRequest(text="invalid port") from None
        return await serve_port_forward(
            request,
            ports,
            lambda port, data: port_answer(sandbox, port, data),
            listens=lambda port: port_answer(sandbox, port, b"") is not None,
        )

    def _usage(self) -> tuple[list[dict[str, Any]], int, int]:
        now = m.format_time(m.now())
        pods, total_cpu, total_memory = [], 0, 0
        for sandbox in self.view.runtime.sandboxes.values():
            containers = []
            cpu = memory = 0
            for c in sandbox.containers:
                if not c.running:
                    continue
                used_cpu, used_memory = container_usage(c)
                cpu, memory = cpu + used_cpu, memory + used_memory
                containers.append(
                    {
                        "name": c.name,
                        "startTime": c.state["running"].get("startedAt", now),
                        "cpu": {"time": now, "usageNanoCores": used_cpu},
                        "memory": {"time": now, "workingSetBytes": used_memory},
                    }
                )
            total_cpu, total_memory = total_cpu + cpu, total_memory + memory
            pods.append(
                {
                    "podRef": {
                        "name": sandbox.name,
                        "namespace": sandbox.namespace,
                        "uid": sandbox.uid,
                    },
                    "containers": containers,
                    "cpu": {"time": now, "usageNanoCores": cpu},
                    "memory": {"time": now, "workingSetBytes": memory},
                }
            )
        return pods, total_cpu, total_memory

    async def stats_summary(self, _: web.Request) -> web.Response:
        """Rule 5."""
        pods, cpu, memory = self._usage()
        now = m.format_time(m.now())
        node = {
            "nodeName": self.view.name,
            "cpu": {"time": now, "usageNanoCores": cpu},
            "memory": {"time": now, "workingSetBytes": memory},
        }
        return web.json_response({"node": node, "pods": pods})

    async def metrics_resource(self, _: web.Request) -> web.Response:
        """Rule 5, in the Prometheus text format of the kubelet's resource metrics."""
        pods, cpu, memory = self._usage()
        stamp = int(time.time() * 1000)
        uptime = max(time.monotonic() - self.view.started, 1.0)
        lines = [
            "# TYPE node_cpu_usage_seconds_total counter",
            f"node_cpu_usage_seconds_total {cpu * uptime / 1e9:.6f} {stamp}",
            "# TYPE node_memory_working_set_bytes gauge",
            f"node_memory_working_set_bytes {memory} {stamp}",
            "# TYPE container_cpu_usage_seconds_total counter",
        ]
        for pod in pods:
            ref = pod["podRef"]
            for c in pod["containers"]:
                labels = (
                    f'container="{c["name"]}",namespace="{ref["namespace"]}",pod="{ref["name"]}"'
                )
                seconds = c["cpu"]["usageNanoCores"] * uptime / 1e9
                lines.append(f"container_cpu_usage_seconds_total{{{labels}}} {seconds:.6f} {stamp}")
        lines.append("# TYPE container_memory_working_set_bytes gauge")
        for pod in pods:
            ref = pod["podRef"]
            for c in pod["containers"]:
                labels = (
                    f'container="{c["name"]}",namespace="{ref["namespace"]}",pod="{ref["name"]}"'
                )
                lines.append(
                    f"container_memory_working_set_bytes{{{labels}}}"
                    f" {c['memory']['workingSetBytes']} {stamp}"
                )
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self.authorize])
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/pods", self.pods)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        for verb, handler in (("exec", self.exec), ("attach", self.attach)):
            for path in (
                f"/{verb}/{{namespace}}/{{pod}}/{{container}}",
                f"/{verb}/{{namespace}}/{{pod}}/{{uid}}/{{container}}",
            ):
                app.router.add_get(path, handler)
                app.router.add_post(path, handler)
        for path in ("/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"):
            app.router.add_get(path, self.port_forward)
            app.router.add_post(path, self.port_forward)
        app.router.add_get("/stats/summary", self.stats_summary)
        app.router.add_get("/metrics/resource", self.metrics_resource)
        return app


async def start_kubelet_api(
    pem_file: Path,
    port: int,
    *,
    bind: str = "127.0.0.1",
    client_ca_file: Path | None = None,
    api: KubeletAPI | None = None,
) -> tuple[web.AppRunner, int]:
    """Serve on ``bind:port`` (0: any free port); the runner and the port bound."""
    if api is None:
        app = web.Application()
        app.router.add_get("/healthz", healthz)
    else:
        app = api.application()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, bind, port, ssl_context=serving_context(pem_file, client_ca_file))
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)
