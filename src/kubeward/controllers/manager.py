"""The controller-manager: kube-controller-manager's controllers, each as its own client.

Rules:

 1. It is an ordinary API client: it authenticates with its own kubeconfig credential
    (``CN=system:kube-controller-manager`` by default) and everything it does is authorized
    by the API server.
 2. Before starting, it asks the server who it is (a SelfSubjectReview). Refused credentials
    (401) or a failed TLS handshake stop it at once with a message naming the server and the
    kubeconfig; an unreachable server is waited for (a minute), since a controller-manager may
    start before its API server.
 3. With leader election (``leader``) it acts only while it holds the Lease; losing it stops
    the manager with ``LeaderElectionLost``. A clean stop gives the Lease up.
 4. The controllers ``--controllers`` enables (``names``) run on one informer factory: each
    kind is listed and watched once, by the manager's own client (its role may list and watch
    everything, as upstream's ``shared-informers`` client), whoever reads it.
 5. Each controller writes with its own client: with ``--use-service-account-credentials``
    the service account of ``names`` (``credentials``), else the manager's client.
 6. The signing controller runs only when a signing CA is configured. The garbage collector
    follows every deletable kind the API server serves (``discovery``), custom resources too.
 7. The tokencleaner (off by default, as upstream) deletes expired bootstrap tokens; it reads
    the shared Secret informer.
 8. The endpoints and endpointslice controllers share the Service and Pod informers; the
    disruption controller reads the workloads' informers for their scale.
 9. The node-IPAM controller runs only with ``--allocate-node-cidrs`` (``node_ipam`` set), as
    upstream starts it; it shares the Node informer.
10. The replicationcontroller controller is the replicaset controller over RCs; the horizontal
    pod autoscaler reads HPAs and pods from the shared informers, and metrics and scales with
    its own client (``--horizontal-pod-autoscaler-*`` in ``autoscaler``).
11. The job, cronjob and ttl-after-finished controllers read the time from the configured
    ``clock`` (the wall clock unless a test injects a fake one).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kubeward.api.resources import build_scheme
from kubeward.api.resources.apps import DEPLOYMENTS, LEASES, REPLICA_SETS
from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS, DAEMONSETS, STATEFULSETS
from kubeward.api.resources.autoscaling import HORIZONTAL_POD_AUTOSCALERS
from kubeward.api.resources.batch import CRONJOBS, JOBS
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS
from kubeward.api.resources.core import NODES, PODS, SECRETS
from kubeward.api.resources.core_services import ENDPOINTS, SERVICES
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS
from kubeward.api.resources.core_workloads import REPLICATION_CONTROLLERS
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.api.resources.policy import PODDISRUPTIONBUDGETS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient, ServerUnreachable
from kubeward.controllers import names
from kubeward.controllers.approving import ApprovingController
from kubeward.controllers.base import Controller
from kubeward.controllers.cleaning import CleaningController
from kubeward.controllers.clock import Clock, RealClock
from kubeward.controllers.credentials import ServiceAccountClients, token_credentials
from kubeward.controllers.cronjob import CronJobController
from kubeward.controllers.daemonset import DaemonSetController
from kubeward.controllers.deployment import DeploymentController
from kubeward.controllers.discovery import deletable_resources
from kubeward.controllers.disruption import DisruptionController
from kubeward.controllers.endpoints import EndpointsController
from kubeward.controllers.endpointslice import EndpointSliceController
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.garbagecollector import GarbageCollector
from kubeward.controllers.job import JobController
from kubeward.controllers.leader import LeaderElectionConfig, LeaderElector
from kubeward.controllers.nodeipam import NodeIpamController
from kubeward.controllers.nodeipam_config import NodeIpamConfig
from kubeward.controllers.nodelifecycle import NodeLifecycleController
from kubeward.controllers.podautoscaler import AutoscalerConfig, HorizontalController
from kubeward.controllers.replicaset import ReplicaSetController
from kubeward.controllers.replicationcontroller import ReplicationManager
from kubeward.controllers.scales import ScaleReader
from kubeward.controllers.signing import SigningConfig, SigningController
from kubeward.controllers.sources import ClientSource
from kubeward.controllers.statefulset import StatefulSetController
from kubeward.controllers.tokencleaner import TokenCleaner
from kubeward.controllers.ttlafterfinished import TTLAfterFinishedController
from kubeward.errors import InputError, StatusError, Unauthorized

log = logging.getLogger("kubeward.controllers")

SELF_SUBJECT_REVIEW_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class CredentialsRefused(Unauthorized):
    """The API server answered 401 to the controller-manager's credential (rule 2)."""


@dataclass(frozen=True)
class ManagerConfig:
    signing: SigningConfig | None = None
    resync: datetime.timedelta = datetime.timedelta(minutes=5)
    source: str = "kubeconfig"
    wait_for_server: datetime.timedelta = datetime.timedelta(seconds=60)
    controllers: names.ControllerSelection = field(default_factory=names.ControllerSelection)
    use_service_account_credentials: bool = False
    kubeconfig: Path | None = None  # needed for service-account credentials (its cluster)
    leader_election: LeaderElectionConfig | None = None
    node_ipam: NodeIpamConfig | None = None  # --allocate-node-cidrs and its ranges (rule 9)
    autoscaler: AutoscalerConfig = field(default_factory=AutoscalerConfig)
    clock: Clock = field(default_factory=RealClock)


def builtin_kinds() -> list[ResourceType]:
    """The scheme's kinds, so discovered kinds share the controllers' informers (rule 6)."""
    scheme, _ = build_scheme()
    return list(scheme)


class ControllerManager:
    def __init__(self, client: APIClient, config: ManagerConfig) -> None:
        if config.use_service_account_credentials and config.kubeconfig is None:
            raise InputError("--use-service-account-credentials needs the manager's kubeconfig")
        self.client = client
        self.config = config
        self.factory = InformerFactory(
            lambda rt: ClientSource(client, rt), resync=config.resync.total_seconds()
        )
        self.controllers: list[Controller] = []
        self.elector = (
            LeaderElector(client, config.leader_election)
            if config.leader_election is not None
            else None
        )
        self._accounts: ServiceAccountClients | None = None

    def enabled(self, name: str) -> bool:
        return self.config.controllers.enabled(name)

    async def whoami(self) -> str:
        """Rule 2: the username the server sees, or CredentialsRefused."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.wait_for_server.total_seconds()
        while True:
            try:
                answer = await self.client.create_raw(
                    SELF_SUBJECT_REVIEW_PATH,
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                )
                break
            except Unauthorized as exc:
                raise CredentialsRefused(
                    f"{self.client.server}: the API server refused the credentials in"
                    f" {self.config.source} (401 Unauthorized: {exc.message})"
                ) from exc
            except ServerUnreachable:
                if loop.time() >= give_up:
                    raise
                await asyncio.sleep(0.5)
        user = ((answer.get("status") or {}).get("userInfo") or {}).get("username", "")
        return str(user)

    async def client_for(self, name: str) -> APIClient:
        """Rule 5."""
        if self._accounts is None:
            return self.client
        return await self._accounts.client_for(names.BY_NAME[name].service_account)

    async def build(self) -> list[Controller]:
        """Rules 4-6: the enabled controllers, on the shared factory."""
        if self.config.use_service_account_credentials and self.config.kubeconfig is not None:
            self._accounts = ServiceAccountClients(
                self.client, token_credentials(self.config.kubeconfig)
            )
        f = self.factory
        built: list[Controller] = []
        csrs = f.informer(CERTIFICATE_SIGNING_REQUESTS) if self._csr_enabled() else None
        if csrs is not None and self.config.signing is not None and self.enabled(names.CSR_SIGNING):
            client = await self.client_for(names.CSR_SIGNING)
            built.append(SigningController(csrs, client, self.config.signing))
        if csrs is not None and self.enabled(names.CSR_APPROVING):
            built.append(ApprovingController(csrs, await self.client_for(names.CSR_APPROVING)))
        if csrs is not None and self.enabled(names.CSR_CLEANER):
            built.append(CleaningController(csrs, await self.client_for(names.CSR_CLEANER)))
        if self.enabled(names.REPLICASET):
            built.append(
                ReplicaSetController(
                    f.informer(REPLICA_SETS),
                    f.informer(PODS),
                    await self.client_for(names.REPLICASET),
                )
            )
        if self.enabled(names.REPLICATION_CONTROLLER):
            built.append(
                ReplicationManager(
                    f.informer(REPLICATION_CONTROLLERS),
                    f.informer(PODS),
                    await self.client_for(names.REPLICATION_CONTROLLER),
                )
            )
        if self.enabled(names.HORIZONTAL_POD_AUTOSCALER):
            built.append(
                HorizontalController(
                    f.informer(HORIZONTAL_POD_AUTOSCALERS),
                    f.informer(PODS),
                    await self.client_for(names.HORIZONTAL_POD_AUTOSCALER),
                    config=self.config.autoscaler,
                    clock=self.config.clock,
                )
            )
        if self.enabled(names.DEPLOYMENT):
            built.append(
                DeploymentController(
                    f.informer(DEPLOYMENTS),
                    f.informer(REPLICA_SETS),
                    f.informer(PODS),
                    await self.client_for(names.DEPLOYMENT),
                )
            )
        if self.enabled(names.STATEFULSET):
            built.append(
                StatefulSetController(
                    f.informer(STATEFULSETS),
                    f.informer(PODS),
                    f.informer(CONTROLLER_REVISIONS),
                    f.informer(PERSISTENT_VOLUME_CLAIMS),
                    await self.client_for(names.STATEFULSET),
                )
            )
        if self.enabled(names.DAEMONSET):
            built.append(
                DaemonSetController(
                    f.informer(DAEMONSETS),
                    f.informer(PODS),
                    f.informer(NODES),
                    f.informer(CONTROLLER_REVISIONS),
                    await self.client_for(names.DAEMONSET),
                )
            )
        if self.enabled(names.TOKEN_CLEANER):
            built.append(
                TokenCleaner(f.informer(SECRETS), await self.client_for(names.TOKEN_CLEANER))
            )
        if self.enabled(names.NODE_LIFECYCLE):
            built.append(
                NodeLifecycleController(
                    f.informer(NODES),
                    f.informer(LEASES),
                    f.informer(PODS),
                    await self.client_for(names.NODE_LIFECYCLE),
                )
            )
        if self.config.node_ipam is not None and self.enabled(names.NODE_IPAM):
            built.append(
                NodeIpamController(
                    f.informer(NODES), await self.client_for(names.NODE_IPAM), self.config.node_ipam
                )
            )
        built.extend(await self._build_service_and_budget_controllers())
        built.extend(await self._batch_controllers())
        if self.enabled(names.GARBAGE_COLLECTOR):
            known = builtin_kinds()

            async def discover() -> list[ResourceType]:
                return await deletable_resources(self.client, known)

            informers = {rt: f.informer(rt) for rt in await discover()}
            built.append(
                GarbageCollector(
                    informers,
                    await self.client_for(names.GARBAGE_COLLECTOR),
                    factory=f,
                    discover=discover,
                )
            )
        self.controllers = built
        return built

    async def _build_service_and_budget_controllers(self) -> list[Controller]:
        """The endpoints, endpointslice and disruption controllers, when enabled."""
        f = self.factory
        built: list[Controller] = []
        if self.enabled(names.ENDPOINTS):
            built.append(
                EndpointsController(
                    f.informer(SERVICES),
                    f.informer(PODS),
                    f.informer(ENDPOINTS),
                    await self.client_for(names.ENDPOINTS),
                )
            )
        if self.enabled(names.ENDPOINT_SLICE):
            built.append(
                EndpointSliceController(
                    f.informer(SERVICES),
                    f.informer(PODS),
                    f.informer(ENDPOINT_SLICES),
                    f.informer(NODES),
                    await self.client_for(names.ENDPOINT_SLICE),
                )
            )
        if self.enabled(names.DISRUPTION):
            workloads = {
                rt.kind: f.informer(rt)
                for rt in (REPLICA_SETS, DEPLOYMENTS, STATEFULSETS, REPLICATION_CONTROLLERS)
            }
            client = await self.client_for(names.DISRUPTION)
            built.append(
                DisruptionController(
                    f.informer(PODDISRUPTIONBUDGETS),
                    f.informer(PODS),
                    workloads,
                    client,
                    scales=ScaleReader(client),
                )
            )
        return built

    async def _batch_controllers(self) -> list[Controller]:
        """Rule 9."""
        f, clock = self.factory, self.config.clock
        built: list[Controller] = []
        if self.enabled(names.JOB):
            client = await self.client_for(names.JOB)
            built.append(JobController(f.informer(JOBS), f.informer(PODS), client, clock=clock))
        if self.enabled(names.CRONJOB):
            client = await self.client_for(names.CRONJOB)
            built.append(
                CronJobController(f.informer(CRONJOBS), f.informer(JOBS), client, clock=clock)
            )
        if self.enabled(names.TTL_AFTER_FINISHED):
            client = await self.client_for(names.TTL_AFTER_FINISHED)
            built.append(TTLAfterFinishedController(f.informer(JOBS), client, clock=clock))
        return built

    def _csr_enabled(self) -> bool:
        return any(
            self.enabled(n) for n in (names.CSR_SIGNING, names.CSR_APPROVING, names.CSR_CLEANER)
        )

    async def run(self) -> None:
        """Run until cancelled, or until the Lease is lost (rules 2-6)."""
        user = await self.whoami()
        log.info("controller-manager running as %s against %s", user, self.client.server)
        tasks: list[asyncio.Task[None]] = []
        try:
            if self.elector is not None:
                await self.elector.acquire()
                tasks.append(asyncio.create_task(self.elector.hold(), name="leader-election"))
            controllers = await self.build()
            log.info(
                "controller-manager: started %s",
                ", ".join(c.name for c in controllers) or "no controller",
            )
            self.factory.start()
            tasks.extend(asyncio.create_task(c.run(), name=c.name) for c in controllers)
            tasks.extend(self.factory.tasks())
            if tasks:
                await asyncio.gather(*tasks)
            else:
                await asyncio.Event().wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, StatusError, Exception):
                    await task
            await self.factory.stop()
            if self._accounts is not None:
                await self._accounts.close()
            if self.elector is not None:
                with contextlib.suppress(Exception):
                    await self.elector.release()
