"""The pods bound to this node: started in the simulated runtime, reported, finished.

Rules:
 1. The agent follows only its own pods: a list and watch with ``fieldSelector
    spec.nodeName=NAME`` (which is also all the Node authorizer lets it see).
 2. A pod with no sandbox gets an IP from the node's range (``node.ipam``: the Node's
    ``spec.podCIDR``, which the agent hands over with :meth:`PodRunner.use_pod_cidr` before it
    follows pods), its volumes and environment
    (``node.volumes``); then its containers start (``node.runtime``) and its status is sent
    through ``pods/status`` (``node.pod_status``). A mount or configuration that fails leaves the
    pod Pending with the kubelet's waiting reason and a Warning Event (``FailedMount``,
    ``Failed``), and is retried every ``RETRY_SECONDS``. Running pods keep their IP across agent
    restarts; a pod already Succeeded or Failed is not started again.
 2a. Before that its images are "pulled" (``node.images``): an image of a private registry
    with no credentials leaves the pod Pending in ``ErrImagePull``, then ``ImagePullBackOff``,
    with the kubelet's Events, retried every ``PULL_RETRY_SECONDS``.
 3. A started pod is looked at again when something in it is due: a process's sleep ending,
    a container's restart or kill, a probe (``node.probes``, whose Events are recorded and
    whose results make containers started and ready), and its service-account token's
    refresh (80% of its life): the token files are replaced in place, so every container
    sees the new token. Its status is sent again when any of that changed it.
 3a. Events are aggregated as client-go's recorder does: the same reason and message about
    the same object and container raise the existing Event's ``count`` and ``lastTimestamp``.
 4. A pod being deleted (``deletionTimestamp`` set) is finished: its sandbox is removed, its IP
    released, and it is deleted with a grace period of 0 and its uid as a precondition, as the
    kubelet removes a pod once its containers have stopped.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import time
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import PODS
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.events import WARNING, EventRecorder
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource
from kubeward.errors import Conflict, KubewardError, NotFound
from kubeward.node.config import NodeConfig
from kubeward.node.images import missing_credentials, pull_error
from kubeward.node.ipam import IPNetwork, PodIPs
from kubeward.node.pod_status import pod_status, waiting_pod_status
from kubeward.node.probe_handlers import HANDLERS
from kubeward.node.probes import PodProbes, ProbeEvent
from kubeward.node.runtime import Runtime, Sandbox, make_container
from kubeward.node.volumes import VolumeSource

log = logging.getLogger("kubeward.node")
RETRY_SECONDS = 2.0
PULL_RETRY_SECONDS = 5.0
JSONObject = dict[str, Any]


class PodRunner(Controller):
    name = "pod-runner"

    def __init__(
        self,
        client: APIClient,
        config: NodeConfig,
        *,
        resync: float = 300.0,
        runtime: Runtime | None = None,
    ) -> None:
        source = ClientSource(client, PODS, field_selector=f"spec.nodeName={config.name}")
        super().__init__(Informer(source, resync=resync))
        self.client = client
        self.config = config
        self.ips: PodIPs | None = None  # the node's range, once known (rule 2)
        self.runtime = runtime or Runtime()
        # Rule 2a: failed pulls per pod, and when the next attempt is due.
        self.failed_pulls: dict[str, tuple[int, float]] = {}
        self.probes: dict[str, PodProbes] = {}
        self.events = EventRecorder(client, "kubelet", host=config.name)  # rule 3a
        self.informer.add_event_handler(on_add=self._remember_ip)

    def use_pod_cidr(self, network: IPNetwork) -> None:
        """Rule 2: give pods IPs from ``network`` (the Node's ``spec.podCIDR``)."""
        self.ips = PodIPs(network)

    def _remember_ip(self, pod: dict[str, Any]) -> None:
        """Rule 2: pods already running keep their IP."""
        meta = m.metadata(pod)
        if self.ips is None:
            return
        self.ips.hold(
            f"{meta.get('namespace')}/{meta.get('name')}",
            (pod.get("status") or {}).get("podIP", ""),
        )

    async def reconcile(self, key: str) -> float | None:
        pod = self.cached(key)
        if pod is None:
            self.runtime.remove(key)
            self.probes.pop(key, None)
            if self.ips is not None:
                self.ips.release(key)
            self.failed_pulls.pop(key, None)
            return None
        meta = m.metadata(pod)
        namespace, name = str(meta["namespace"]), str(meta["name"])
        if meta.get("deletionTimestamp"):
            await self._finish(key, namespace, name, str(meta.get("uid", "")))
            return None
        sandbox = self.runtime.get(namespace, name)
        if sandbox is not None and sandbox.uid != meta.get("uid"):
            self.runtime.remove(key)
            self.probes.pop(key, None)
            sandbox = None
        if sandbox is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return None
            return await self._start(key, pod)
        return await self._tend(pod, sandbox)

    async def _report(self, pod: JSONObject, status: JSONObject) -> None:
        meta = m.metadata(pod)
        await self.client.patch(
            PODS,
            str(meta["name"]),
            {"status": status},
            namespace=str(meta["namespace"]),
            subresource="status",
        )

    async def _start(self, key: str, pod: JSONObject) -> float | None:
        """Rule 2."""
        meta, spec = m.metadata(pod), pod.get("spec") or {}
        host = self.config.address
        _, due = self.failed_pulls.get(key, (0, 0.0))
        if time.monotonic() < due:  # woken by our own status write: wait for the retry
            return due - time.monotonic()
        image = await missing_credentials(self.client, pod, self.config.private_registries)
        if image is not None:
            await self._pull_failed(key, pod, image)
            return PULL_RETRY_SECONDS
        self.failed_pulls.pop(key, None)
        source = VolumeSource(self.client, pod)
        volumes = await source.volumes()
        if volumes.failure:
            await self._waiting(pod, "ContainerCreating", "", "FailedMount", volumes.failure)
            return RETRY_SECONDS
        if self.ips is None:  # no range yet (the agent hands it over before pods are followed)
            return RETRY_SECONDS
        ip = self.ips.allocate(key)
        sandbox = Sandbox(
            namespace=str(meta["namespace"]),
            name=str(meta["name"]),
            uid=str(meta.get("uid", "")),
            ip=ip,
            volumes=volumes,
            restart_policy=str(spec.get("restartPolicy") or "Always"),
        )
        for init, specs in ((True, spec.get("initContainers")), (False, spec.get("containers"))):
            for container_spec in specs or []:
                env = await source.environment(container_spec)
                if isinstance(env, str):
                    await self._waiting(
                        pod, "CreateContainerConfigError", env, "Failed", f"Error: {env}"
                    )
                    return RETRY_SECONDS
                container = make_container(container_spec, pod, ip, volumes, env)
                container.init = init
                (sandbox.init_containers if init else sandbox.containers).append(container)
        self.runtime.add(key, sandbox)
        probes = self.probes[key] = PodProbes(pod, HANDLERS)
        now = self.runtime.clock()
        sandbox.advance(now)
        events = probes.tick(sandbox, now)
        await self._report(pod, pod_status(pod, sandbox, host, probes))
        await self._probe_events(pod, events)
        log.info("%s: started %s with IP %s", self.config.name, key, ip)
        return self._next(sandbox, probes, now)

    def _next(self, sandbox: Sandbox, probes: PodProbes, now: datetime.datetime) -> float | None:
        """Rule 3: the seconds until the pod next needs looking at."""
        ahead = sandbox.advance(now)
        waits = [w for w in (ahead,) if w is not None]
        for moment in (probes.next_at(), sandbox.volumes.refresh_at):
            if moment is not None:
                waits.append(max((moment - now).total_seconds(), 0.0))
        return max(min(waits), 0.05) if waits else None

    @staticmethod
    def _snapshot(sandbox: Sandbox, probes: PodProbes) -> list[tuple[Any, ...]]:
        return [
            (c.restart_count, str(c.state), probes.started(c), probes.ready(c))
            for c in [*sandbox.init_containers, *sandbox.containers]
        ]

    async def _tend(self, pod: JSONObject, sandbox: Sandbox) -> float | None:
        """Rule 3."""
        key = f"{sandbox.namespace}/{sandbox.name}"
        probes = self.probes.get(key)
        if probes is None:
            probes = self.probes[key] = PodProbes(pod, HANDLERS)
        now = self.runtime.clock()
        refresh = sandbox.volumes.refresh_at
        if refresh is not None and refresh <= now:
            await self._refresh_tokens(pod, sandbox)
        before = self._snapshot(sandbox, probes)
        sandbox.advance(now)
        events = probes.tick(sandbox, now)
        sandbox.advance(now)
        after = self._snapshot(sandbox, probes)
        reported = pod.get("status") or {}
        current = pod_status(pod, sandbox, self.config.address, probes)
        if (
            before != after
            or reported.get("phase") != current["phase"]
            or not _same_readiness(reported, current)
        ):
            await self._report(pod, current)
        await self._probe_events(pod, events)
        return self._next(sandbox, probes, now)

    async def _probe_events(self, pod: JSONObject, events: list[ProbeEvent]) -> None:
        for event in events:
            self._event(
                pod, event.reason, event.message, kind=event.type, container=event.container
            )

    async def _refresh_tokens(self, pod: JSONObject, sandbox: Sandbox) -> None:
        source = VolumeSource(self.client, pod)
        sandbox.volumes.refresh_at = None
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            files = sandbox.volumes.files.get(str(volume.get("name")))
            for item in (volume.get("projected") or {}).get("sources") or []:
                sat = item.get("serviceAccountToken")
                if sat is None or files is None:
                    continue
                try:
                    token, refresh = await source.token(sat)
                except KubewardError as exc:
                    log.warning("%s: token refresh failed: %s", sandbox.name, exc)
                    continue
                files[str(sat.get("path", "token"))] = token
                due = [t for t in (sandbox.volumes.refresh_at, refresh) if t is not None]
                sandbox.volumes.refresh_at = min(due)

    async def _pull_failed(self, key: str, pod: JSONObject, image: str) -> None:
        """Rule 2a."""
        attempts = self.failed_pulls.get(key, (0, 0.0))[0] + 1
        self.failed_pulls[key] = (attempts, time.monotonic() + PULL_RETRY_SECONDS)
        if attempts == 1:
            error = pull_error(image)
            await self._waiting(
                pod, "ErrImagePull", error, "Failed", f'Failed to pull image "{image}": {error}'
            )
        elif attempts == 2:
            await self._waiting(
                pod,
                "ImagePullBackOff",
                f'Back-off pulling image "{image}"',
                "BackOff",
                f'Back-off pulling image "{image}"',
            )

    async def _waiting(
        self, pod: JSONObject, reason: str, message: str, event_reason: str, event_message: str
    ) -> None:
        status = waiting_pod_status(pod, self.config.address, reason, message)
        previous = (pod.get("status") or {}).get("containerStatuses") or [{}]
        already = (previous[0].get("state") or {}).get("waiting", {}).get("reason") == reason
        if not already:
            await self._report(pod, status)
            self._event(pod, event_reason, event_message)

    def _event(
        self,
        pod: JSONObject,
        reason: str,
        message: str,
        *,
        kind: str = WARNING,
        container: str = "",
    ) -> None:
        """An Event from the kubelet of this node, as ``kubectl describe pod`` lists (rule 3a)."""
        path = f"spec.containers{{{container}}}" if container else ""
        self.events.event(pod, PODS, kind, reason, message, field_path=path)

    async def _finish(self, key: str, namespace: str, name: str, uid: str) -> None:
        """Rule 4."""
        self.runtime.remove(key)
        self.probes.pop(key, None)
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": uid},
        }
        # Gone already, or a new pod of the same name: nothing of ours to finish.
        with contextlib.suppress(NotFound, Conflict):
            await self.client.request("DELETE", APIClient.path(PODS, namespace, name), body=options)
        if self.ips is not None:
            self.ips.release(key)
        log.info("%s: finished %s", self.config.name, key)


def _same_readiness(reported: JSONObject, current: JSONObject) -> bool:
    """Whether the API already holds the containers' ready and started flags."""

    def flags(status: JSONObject) -> list[tuple[Any, Any]]:
        return [(c.get("ready"), c.get("started")) for c in status.get("containerStatuses") or []]

    return flags(reported) == flags(current)
