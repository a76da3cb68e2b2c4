"""Leader election through a coordination.k8s.io Lease, as client-go's ``leaderelection``
with a ``LeaseLock``.

Two controller-managers against one API server must not both act. Rules:

 1. The lock is the Lease ``kube-system/kube-controller-manager``; the identity is
    ``<hostname>_<uuid>`` (a new uuid per process, as kube-controller-manager makes it).
 2. A candidate takes the lease when it does not exist, when it holds it already, or when
    the holder has not renewed it for ``leaseDurationSeconds`` *as observed locally* (the
    candidate's own clock measures how long the record has stayed unchanged, never the
    timestamps written by another machine). Acquiring sets ``acquireTime`` and counts a
    ``leaseTransitions`` when the holder changes; every write is conditional on the
    resourceVersion read, so two candidates cannot both win.
 3. Candidates retry every ``retry_period`` (2 s). The leader renews every ``retry_period``;
    if it cannot renew within ``renew_deadline`` (10 s) it has lost the lease, and the
    manager stops (kube-controller-manager exits: ``leaderelection lost``).
 4. Defaults are kube-controller-manager's: lease duration 15 s, renew deadline 10 s, retry
    period 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from dataclasses import dataclass

from kubeward.api import meta as m
from kubeward.api.resources.apps import LEASES
from kubeward.client.api import APIClient
from kubeward.errors import AlreadyExists, Conflict, KubewardError, LeaderElectionLost, NotFound

log = logging.getLogger("kubeward.controllers")

LEASE_NAMESPACE = "kube-system"
LEASE_NAME = "kube-controller-manager"


def new_identity() -> str:
    """Rule 1."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _micro_time() -> str:
    return m.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Rule 4."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    namespace: str = LEASE_NAMESPACE
    name: str = LEASE_NAME


class LeaderElector:
    def __init__(
        self, client: APIClient, config: LeaderElectionConfig, identity: str | None = None
    ) -> None:
        self.client = client
        self.config = config
        self.identity = identity or new_identity()
        self._observed_spec: object = None
        self._observed_at = 0.0

    async def acquire(self) -> None:
        """Return once this candidate holds the lease (rule 2)."""
        loop = asyncio.get_running_loop()
        logged = False
        while not await self._try_or_report():
            if not logged:
                log.info(
                    "leader election: waiting for lease %s/%s (identity %s)",
                    self.config.namespace,
                    self.config.name,
                    self.identity,
                )
                logged = True
            await asyncio.sleep(self.config.retry_period)
        log.info(
            "leader election: %s acquired lease %s/%s",
            self.identity,
            self.config.namespace,
            self.config.name,
        )
        self._renewed_at = loop.time()

    async def _try_or_report(self) -> bool:
        """A refused or failed attempt is logged and retried, as client-go's elector does."""
        try:
            return await self._try_acquire_or_renew()
        except KubewardError as exc:
            log.warning(
                "leader election: cannot take lease %s/%s: %s",
                self.config.namespace,
                self.config.name,
                exc,
            )
            return False

    async def hold(self) -> None:
        """Renew until the lease is lost, then raise LeaderElectionLost (rule 3)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.retry_period)
            try:
                renewed = await self._try_acquire_or_renew()
            except KubewardError as exc:
                log.warning("leader election: renewing failed: %s", exc)
                renewed = False
            if renewed:
                self._renewed_at = loop.time()
            elif loop.time() - self._renewed_at >= self.config.renew_deadline:
                raise LeaderElectionLost(
                    f"leaderelection lost: {self.identity} could not renew lease "
                    f"{self.config.namespace}/{self.config.name}"
                )

    async def release(self) -> None:
        """Give the lease up on a clean stop, so a standby takes over at once."""
        try:
            lease = await self.client.get(LEASES, self.config.name, self.config.namespace)
        except KubewardError:
            return
        spec = lease.get("spec") or {}
        if spec.get("holderIdentity") != self.identity:
            return
        spec["holderIdentity"] = ""
        spec["leaseDurationSeconds"] = 1
        with contextlib.suppress(KubewardError):
            await self.client.update(LEASES, lease, namespace=self.config.namespace)

    async def _try_acquire_or_renew(self) -> bool:
        loop = asyncio.get_running_loop()
        now = _micro_time()
        duration = int(self.config.lease_duration)
        try:
            lease = await self.client.get(LEASES, self.config.name, self.config.namespace)
        except NotFound:
            body = {
                "apiVersion": LEASES.api_version,
                "kind": "Lease",
                "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                "spec": {
                    "holderIdentity": self.identity,
                    "leaseDurationSeconds": duration,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                },
            }
            try:
                await self.client.create(LEASES, body, self.config.namespace)
            except (AlreadyExists, Conflict):
                return False
            return True
        spec = dict(lease.get("spec") or {})
        holder = str(spec.get("holderIdentity") or "")
        observed = (holder, spec.get("renewTime"), spec.get("leaseDurationSeconds"))
        if observed != self._observed_spec:
            self._observed_spec = observed
            self._observed_at = loop.time()
        held_elsewhere = holder and holder != self.identity
        expired = loop.time() - self._observed_at >= float(
            spec.get("leaseDurationSeconds") or duration
        )
        if held_elsewhere and not expired:
            return False
        if holder != self.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        spec["holderIdentity"] = self.identity
        spec["leaseDurationSeconds"] = duration
        spec["renewTime"] = now
        lease["spec"] = spec
        try:
            await self.client.update(LEASES, lease, namespace=self.config.namespace)
        except Conflict:
            return False
        return True
