"""The ttl-after-finished controller: deletes finished Jobs once their
``ttlSecondsAfterFinished`` has run out (``pkg/controller/ttlafterfinished``).

Rules:

 1. A Job is a candidate when ``ttlSecondsAfterFinished`` is set, it has a ``Complete`` or
    ``Failed`` condition that is True, and it is not being deleted. It finished at that
    condition's ``lastTransitionTime`` and expires ``ttlSecondsAfterFinished`` later.
 2. Before it expires, the Job is looked at again when it will (or when a fake clock moves).
 3. Once expired, the Job is read again from the API server (its TTL may have changed since
    the cache saw it) and, if it is still expired, deleted with a uid precondition and
    ``propagationPolicy: Foreground``, as upstream: the garbage collector removes its pods
    first, and the Job goes last.
 4. Times come from the injected clock (``clock``).
"""

from __future__ import annotations

import asyncio
import datetime

from kubeward.api import meta as m
from kubeward.api.resources.batch import JOBS
from kubeward.client.api import APIClient
from kubeward.controllers import ownership
from kubeward.controllers.base import Controller
from kubeward.controllers.clock import Clock, RealClock, on_loop
from kubeward.controllers.informer import Informer
from kubeward.errors import NotFound

_FINISHED = ("Complete", "Failed")


def finished_at(job: m.JSONObject) -> datetime.datetime | None:
    """Rule 1: when the Job finished (None: it has not)."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in _FINISHED and cond.get("status") == "True":
            return m.parse_time(str(cond.get("lastTransitionTime") or ""))
    return None


def seconds_left(job: m.JSONObject, now: datetime.datetime) -> float | None:
    """Rules 1 and 2: seconds until the Job expires (<= 0: expired; None: not a candidate)."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if ttl is None or ownership.is_deleting(job):
        return None
    finished = finished_at(job)
    if finished is None:
        return None
    return (finished + datetime.timedelta(seconds=int(ttl)) - now).total_seconds()


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished"

    def __init__(
        self, jobs: Informer, client: APIClient, *, clock: Clock | None = None, workers: int = 5
    ) -> None:
        super().__init__(jobs, workers=workers)
        self.client = client
        self.clock: Clock = clock or RealClock()

    async def run(self) -> None:
        self.clock.subscribe(on_loop(asyncio.get_running_loop(), self._requeue_all))
        await super().run()

    def _requeue_all(self) -> None:
        for key in list(self.informer.cache):
            self.queue.add(key)

    async def reconcile(self, key: str) -> float | None:
        job = self.cached(key)
        if job is None:
            return None
        left = seconds_left(job, self.clock.now())
        if left is None:
            return None
        if left > 0:
            return left
        try:
            fresh = await self.client.get(JOBS, m.name_of(job), m.namespace_of(job))
        except NotFound:
            return None
        left = seconds_left(fresh, self.clock.now())
        if left is None:
            return None
        if left > 0:
            return left
        try:
            await self.client.delete(
                JOBS,
                m.name_of(fresh),
                m.namespace_of(fresh),
                uid=ownership.uid_of(fresh),
                propagation_policy="Foreground",
            )
        except NotFound:
            return None
        return None
