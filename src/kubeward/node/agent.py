"""The node agent: a kubelet whose container runtime is simulated.

Everything it does through the API server is what a kubelet does, as the node's own identity
(``system:node:NAME`` in ``system:nodes``), so the Node authorizer and NodeRestriction see
the real thing. Rules:

 1. Register: create the Node (``node.status``); if it exists, keep it and report status.
    A refused or failed registration is logged and retried (1 s, doubling to 30 s), as the
    kubelet keeps trying until the API server lets it in.
 2. Heartbeat: renew the Lease ``kube-node-lease/NAME`` every ``heartbeat_seconds``
    (``leaseDurationSeconds`` 40, holder the node's name), creating it when missing, as the
    kubelet's node lease controller does; a failed renewal is logged and retried.
 3. Report node status every ``status_seconds``.
 4. Run the pods bound to the node (``node.pods``), once the node's pod range is known: the
    Node's ``spec.podCIDR`` as the node-IPAM controller set it (the agent follows its own Node
    until it is set, as a kubelet in a cluster waits for it), or else ``--pod-cidr``.
    A node registers with ``--pod-cidr`` as its ``spec.podCIDR`` when it is given, so a
    cluster without the controller still works; a Node that already has a range keeps it.
 5. With a certificate directory: rotate the client certificate before it expires
    (``rotate_certificates``), and serve the kubelet API on its port with a serving
    certificate from the Certificates API (``serve``), reporting the bound port in
    ``status.daemonEndpoints`` (``node.credentials``, ``node.kubelet_api``); its callers are
    checked through the API server (``node.kubelet_auth``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time

from kubeward.api import meta as m
from kubeward.api.resources.apps import LEASES
from kubeward.api.resources.core import NODES
from kubeward.client.api import APIClient
from kubeward.controllers.informer import Informer
from kubeward.controllers.nodeipam import node_pod_cidrs
from kubeward.controllers.sources import ClientSource
from kubeward.errors import AlreadyExists, KubewardError, NotFound
from kubeward.node import credentials
from kubeward.node.config import NodeConfig
from kubeward.node.ipam import IPNetwork
from kubeward.node.kubelet_api import KubeletAPI, NodeView, start_kubelet_api
from kubeward.node.kubelet_auth import KubeletAuth
from kubeward.node.pods import PodRunner
from kubeward.node.status import node_object, node_status

log = logging.getLogger("kubeward.node")

LEASE_NAMESPACE = "kube-node-lease"


def micro_time() -> str:
    """A MicroTime, as Lease's renewTime is written."""
    return m.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class NodeAgent:
    def __init__(self, client: APIClient, config: NodeConfig) -> None:
        self.client = client
        self.config = config
        self.pods = PodRunner(client, config)
        self.kubelet_port: int | None = None

    async def register(self) -> None:
        """Rule 1."""
        try:
            await self.client.create(NODES, node_object(self.config))
            log.info("node %s registered", self.config.name)
        except AlreadyExists:
            log.info("node %s already registered", self.config.name)
        await self.report_status()

    async def report_status(self) -> None:
        status = node_status(self.config, self.kubelet_port)
        await self.client.patch(NODES, self.config.name, {"status": status}, subresource="status")

    async def renew_lease(self) -> None:
        """Rule 2, once."""
        spec = {
            "holderIdentity": self.config.name,
            "leaseDurationSeconds": self.config.lease_duration_seconds,
            "renewTime": micro_time(),
        }
        try:
            await self.client.patch(
                LEASES, self.config.name, {"spec": spec}, namespace=LEASE_NAMESPACE
            )
        except NotFound:
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.config.name, "namespace": LEASE_NAMESPACE},
                "spec": spec,
            }
            with contextlib.suppress(AlreadyExists):
                await self.client.create(LEASES, lease, LEASE_NAMESPACE)

    async def _every(self, seconds: float, action: str) -> None:
        step = self.renew_lease if action == "lease" else self.report_status
        while True:
            try:
                await step()
            except KubewardError as exc:
                log.warning("%s: %s failed: %s", self.config.name, action, exc)
            await asyncio.sleep(seconds)

    async def register_until_done(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.register()
                return
            except KubewardError as exc:
                log.warning(
                    "%s: unable to register: %s (retrying in %.0fs)", self.config.name, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def serve_kubelet_api(self) -> None:
        """Rule 5: the serving certificate (waiting for its approval), then the HTTPS port."""
        config = self.config
        assert config.cert_dir is not None
        pem_file = await credentials.serving_certificate(
            self.client, config.name, config.address, config.cert_dir
        )
        view = NodeView(
            config.name,
            self.pods.runtime,
            lambda: list(self.pods.informer.cache.values()),
            started=time.monotonic(),
        )
        runner, port = await start_kubelet_api(
            pem_file,
            config.kubelet_port,
            bind=config.address,
            client_ca_file=config.client_ca_file,
            api=KubeletAPI(view, KubeletAuth(self.client, config.name)),
        )
        self.kubelet_port = port
        log.info("%s: kubelet API on https://%s:%d", config.name, config.address, port)
        try:
            await self.report_status()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def rotate_certificates(self) -> None:
        """Rule 5: a new client certificate when 70-90% of the current one's life has passed."""
        config = self.config
        assert config.cert_dir is not None and config.kubeconfig is not None
        pem_file = config.cert_dir / credentials.CLIENT_FILE
        while True:
            deadline = credentials.rotation_deadline(pem_file)
            if deadline is not None:
                wait = (deadline - m.now()).total_seconds()
                if wait > 0:
                    await asyncio.sleep(min(wait, 3600.0))
                    continue
            try:
                await credentials.rotate_client_certificate(
                    self.client, config.name, config.cert_dir, config.kubeconfig
                )
                log.info("%s: client certificate rotated", config.name)
            except KubewardError as exc:
                log.warning(
                    "%s: certificate rotation failed: %s (retrying in 30s)", config.name, exc
                )
                await asyncio.sleep(30.0)

    async def pod_cidr(self) -> IPNetwork:
        """Rule 4: the Node's first ``spec.podCIDRs`` entry, waited for unless ``--pod-cidr``."""
        source = ClientSource(
            self.client, NODES, field_selector=f"metadata.name={self.config.name}"
        )
        informer = Informer(source, resync=0)
        found: asyncio.Future[IPNetwork] = asyncio.get_running_loop().create_future()

        def look(node: m.JSONObject) -> None:
            for text in node_pod_cidrs(node)[:1]:
                with contextlib.suppress(ValueError):
                    if not found.done():
                        found.set_result(ipaddress.ip_network(text, strict=False))

        informer.add_event_handler(on_add=look, on_update=lambda _old, new: look(new))
        following = asyncio.create_task(informer.run())
        try:
            await informer.synced.wait()
            if not found.done() and self.config.pod_cidr is not None:
                return self.config.pod_cidr
            if not found.done():
                log.info("%s: waiting for the Node's spec.podCIDR", self.config.name)
            return await found
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following

    async def run_pods(self) -> None:
        """Rule 4."""
        network = await self.pod_cidr()
        log.info("%s: pod IPs from %s", self.config.name, network)
        self.pods.use_pod_cidr(network)
        await asyncio.gather(self.pods.informer.run(), self.pods.run())

    async def run(self) -> None:
        """Rules 1-5, until cancelled."""
        await self.register_until_done()
        tasks = [
            asyncio.create_task(self._every(self.config.heartbeat_seconds, "lease")),
            asyncio.create_task(self._every(self.config.status_seconds, "status")),
            asyncio.create_task(self.run_pods()),
        ]
        if self.config.cert_dir is not None and self.config.serve:
            tasks.append(asyncio.create_task(self.serve_kubelet_api()))
        if (
            self.config.cert_dir is not None
            and self.config.kubeconfig
            and self.config.rotate_certificates
        ):
            tasks.append(asyncio.create_task(self.rotate_certificates()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
