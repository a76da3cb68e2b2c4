"""The pods bound to this node: started (simulated) and reported, and finished when deleted.

Rules:
 1. The agent follows only its own pods: a list and watch with ``fieldSelector
    spec.nodeName=NAME`` (which is also all the Node authorizer lets it see).
 2. A pod not yet running gets an IP from the node's range and the Running status of
    ``node.status`` through ``pods/status`` — the runtime is simulated: every container starts
    at once and stays up. Running pods keep their IP across agent restarts. A pod that has
    ended (``Succeeded`` or ``Failed``, e.g. a Job's pod reported by ``Cluster.finish_pods``)
    is never started again, as a kubelet never restarts a terminal pod.
 3. A pod being deleted (``deletionTimestamp`` set) is finished: its IP is released and it is
    deleted with a grace period of 0 and its uid as a precondition, as the kubelet removes a
    pod once its containers have stopped.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import PODS
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource
from kubeward.errors import Conflict, NotFound
from kubeward.node.config import NodeConfig
from kubeward.node.ipam import PodIPs
from kubeward.node.status import running_pod_status

log = logging.getLogger("kubeward.node")


class PodRunner(Controller):
    name = "pod-runner"

    def __init__(self, client: APIClient, config: NodeConfig, *, resync: float = 300.0) -> None:
        source = ClientSource(client, PODS, field_selector=f"spec.nodeName={config.name}")
        super().__init__(Informer(source, resync=resync))
        self.client = client
        self.config = config
        self.ips = PodIPs(config.pod_cidr)
        self.informer.add_event_handler(on_add=self._remember_ip)

    def _remember_ip(self, pod: dict[str, Any]) -> None:
        """Rule 2: pods already running keep their IP."""
        meta = m.metadata(pod)
        self.ips.hold(
            f"{meta.get('namespace')}/{meta.get('name')}",
            (pod.get("status") or {}).get("podIP", ""),
        )

    async def reconcile(self, key: str) -> float | None:
        pod = self.cached(key)
        if pod is None:
            self.ips.release(key)
            return None
        meta = m.metadata(pod)
        namespace, name = str(meta["namespace"]), str(meta["name"])
        if meta.get("deletionTimestamp"):
            await self._finish(key, namespace, name, str(meta.get("uid", "")))
            return None
        if (pod.get("status") or {}).get("phase") in ("Running", "Succeeded", "Failed"):
            return None
        status = running_pod_status(pod, self.ips.allocate(key), self.config.address)
        await self.client.patch(
            PODS, name, {"status": status}, namespace=namespace, subresource="status"
        )
        log.info("%s: started %s with IP %s", self.config.name, key, status["podIP"])
        return None

    async def _finish(self, key: str, namespace: str, name: str, uid: str) -> None:
        """Rule 3."""
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": uid},
        }
        # Gone already, or a new pod of the same name: nothing of ours to finish.
        with contextlib.suppress(NotFound, Conflict):
            await self.client.request("DELETE", APIClient.path(PODS, namespace, name), body=options)
        self.ips.release(key)
        log.info("%s: finished %s", self.config.name, key)
