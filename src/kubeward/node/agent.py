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
 4. Run the pods bound to the node (``node.pods``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubeward.api import meta as m
from kubeward.api.resources.apps import LEASES
from kubeward.api.resources.core import NODES
from kubeward.client.api import APIClient
from kubeward.errors import AlreadyExists, KubewardError, NotFound
from kubeward.node.config import NodeConfig
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

    async def register(self) -> None:
        """Rule 1."""
        try:
            await self.client.create(NODES, node_object(self.config))
            log.info("node %s registered", self.config.name)
        except AlreadyExists:
            log.info("node %s already registered", self.config.name)
        await self.report_status()

    async def report_status(self) -> None:
        await self.client.patch(
            NODES, self.config.name, {"status": node_status(self.config)}, subresource="status"
        )

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

    async def run(self) -> None:
        """Rules 1-4, until cancelled."""
        await self.register_until_done()
        tasks = [
            asyncio.create_task(self._every(self.config.heartbeat_seconds, "lease")),
            asyncio.create_task(self._every(self.config.status_seconds, "status")),
            asyncio.create_task(self.pods.informer.run()),
            asyncio.create_task(self.pods.run()),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
