"""The replicaset controller: keeps ``spec.replicas`` pods running from a ReplicaSet's template
(``pkg/controller/replicaset``).

Rules:

 1. The ReplicaSet's pods are the active pods of its namespace it claims (``ownership``):
    those it controls whose labels still match, plus matching orphans it adopts.
 2. While expectations (``expectations``) are pending for a ReplicaSet, it does not create or
    delete: its cache has not seen its last writes yet. A ReplicaSet being deleted is never
    scaled.
 3. Too few pods: create the difference (at most ``BURST_REPLICAS`` per pass) in slow-start
    batches of 1, 2, 4 …; the first failure stops the remaining batches. A pod is the
    template's labels, annotations, finalizers and spec, ``generateName: <rs>-`` and a
    controller reference with ``blockOwnerDeletion`` (``ownership`` rule 1).
 4. Too many pods: delete the surplus in ``podstate`` rule 3's order.
 5. Status: ``replicas`` (claimed active pods), ``fullyLabeledReplicas`` (pods carrying every
    template label), ``readyReplicas``, ``availableReplicas`` (ready for ``minReadySeconds``),
    ``observedGeneration``; a failed create or delete sets the ``ReplicaFailure`` condition
    (reason ``FailedCreate``/``FailedDelete``, the error as message), a clean pass removes it.
    Status is written only when it changed. With ``minReadySeconds``, the ReplicaSet is looked
    at again when its next pod becomes available; after a failed write, with backoff.
 6. Every write is made with the controller's own client, so with
    ``--use-service-account-credentials`` it is ``replicaset-controller``'s. Each pod created
    or deleted, and each failed creation, is recorded as an event on the ReplicaSet
    (``SuccessfulCreate`` ``Created pod: <name>``, ``SuccessfulDelete``, ``FailedCreate``).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.apps import REPLICA_SETS
from kubeward.api.resources.core import PODS
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import ownership, podstate
from kubeward.controllers.base import Controller
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.expectations import Expectations
from kubeward.controllers.informer import Informer, key_of
from kubeward.controllers.status_writes import Written, write_status
from kubeward.errors import (
    BadRequest,
    KubewardError,
    NotFound,
    ReplicaSetSyncFailed,
)

log = logging.getLogger("kubeward.controllers")

BURST_REPLICAS = 500
REPLICA_FAILURE = "ReplicaFailure"


def pod_from_template(
    owner: m.JSONObject, rt: ResourceType, template: m.JSONObject
) -> m.JSONObject:
    """Rule 3: the pod a workload creates from its template."""
    tmeta = template.get("metadata") or {}
    meta: m.JSONObject = {
        "generateName": f"{m.name_of(owner)}-",
        "namespace": m.namespace_of(owner),
        "ownerReferences": [ownership.new_controller_ref(owner, rt)],
    }
    for field in ("labels", "annotations", "finalizers"):
        if tmeta.get(field):
            meta[field] = copy.deepcopy(tmeta[field])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _selector_of(obj: m.JSONObject) -> LabelSelector | None:
    try:
        selector = LabelSelector.from_dict((obj.get("spec") or {}).get("selector"))
    except BadRequest:
        return None
    return None if selector.empty else selector


def _condition(status: m.JSONObject, kind: str) -> m.JSONObject | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


class ReplicaSetController(Controller):
    """Subclasses (``replicationcontroller``) change the kind, how its selector is read and
    the events' component."""

    name = "replicaset"
    component = "replicaset-controller"

    def __init__(
        self,
        replica_sets: Informer,
        pods: Informer,
        client: APIClient,
        *,
        workers: int = 5,
        rt: ResourceType = REPLICA_SETS,
    ) -> None:
        super().__init__(replica_sets, workers=workers)
        self.pods = pods
        self.client = client
        self.rt = rt
        self.expectations = Expectations()
        self.events = EventRecorder(client, self.component)
        self.depends_on(pods)
        pods.add_event_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def selector_of(self, obj: m.JSONObject) -> LabelSelector | None:
        """The workload's pod selector; None when it selects nothing usable."""
        return _selector_of(obj)

    # --- events ---------------------------------------------------------------------------
    def _owner_key(self, pod: m.JSONObject) -> str | None:
        ref = ownership.controller_ref(pod)
        if ref is None or ref.get("kind") != self.rt.kind:
            return None
        if str(ref.get("apiVersion", "")).rpartition("/")[0] != self.rt.group:
            return None
        key = f"{m.namespace_of(pod)}/{ref.get('name')}"
        owner = self.informer.get(key)
        if owner is None or ownership.uid_of(owner) != ref.get("uid"):
            return None
        return key

    def _enqueue_matching(self, pod: m.JSONObject) -> None:
        labels = m.metadata(pod).get("labels") or {}
        for rs in self.informer.in_namespace(m.namespace_of(pod)):
            selector = self.selector_of(rs)
            if selector is not None and selector.matches(labels):
                self.queue.add(key_of(rs))

    def _pod_added(self, pod: m.JSONObject) -> None:
        if m.metadata(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif ownership.controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if new is old:  # a resync: the ReplicaSet's own resync covers it
            return
        if m.metadata(new).get("deletionTimestamp") and not m.metadata(old).get(
            "deletionTimestamp"
        ):
            self._pod_deleted(new)
            return
        for pod in (old, new):
            key = self._owner_key(pod)
            if key is not None:
                self.queue.add(key)
            elif ownership.controller_ref(pod) is None:
                self._enqueue_matching(pod)

    def _pod_deleted(self, pod: m.JSONObject) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, key_of(pod))
            self.queue.add(key)

    # --- reconcile ------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        rs = self.cached(key)
        if rs is None:
            self.expectations.forget(key)
            return None
        selector = self.selector_of(rs)
        if selector is None:
            return None
        satisfied = self.expectations.satisfied(key)
        candidates = [
            p for p in self.pods.in_namespace(m.namespace_of(rs)) if podstate.is_active(p)
        ]
        pods = await ownership.claim(rs, self.rt, selector, candidates, self._patch_pod)
        failure: tuple[str, str] | None = None
        if satisfied and not ownership.is_deleting(rs):
            failure = await self._manage(key, rs, pods)
        again = await self._update_status(rs, pods, failure)
        if failure is not None:
            # Rule 5 recorded it; retry with backoff (a restored permission is noticed).
            raise ReplicaSetSyncFailed(f"{failure[0]}: {failure[1]}")
        return again

    async def _patch_pod(self, pod: m.JSONObject, body: m.JSONObject) -> Any:
        try:
            return await self.client.patch(
                PODS, m.name_of(pod), body, namespace=m.namespace_of(pod)
            )
        except NotFound:
            return None

    async def _manage(
        self, key: str, rs: m.JSONObject, pods: list[m.JSONObject]
    ) -> tuple[str, str] | None:
        """Rules 3 and 4; the failure (reason, message) if a write failed."""
        wanted = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(pods) - wanted
        if diff < 0:
            return await self._create(key, rs, min(-diff, BURST_REPLICAS))
        if diff > 0:
            return await self._delete(key, rs, pods, min(diff, BURST_REPLICAS))
        return None

    async def _create(self, key: str, rs: m.JSONObject, count: int) -> tuple[str, str] | None:
        self.expectations.expect_creations(key, count)
        template = (rs.get("spec") or {}).get("template") or {}
        pod = pod_from_template(rs, self.rt, template)
        namespace = m.namespace_of(rs)
        remaining, batch = count, 1
        while remaining > 0:
            size = min(batch, remaining)
            results = await asyncio.gather(
                *(self.client.create(PODS, copy.deepcopy(pod), namespace) for _ in range(size)),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            for error in errors:
                if not isinstance(error, KubewardError | OSError):
                    raise error
            for created in results:
                if isinstance(created, dict):
                    message = f"Created pod: {m.name_of(created)}"
                    self.events.event(rs, self.rt, NORMAL, "SuccessfulCreate", message)
            remaining -= size
            if errors:
                # Creations that failed or were never tried will not be observed.
                for _ in range(len(errors) + remaining):
                    self.expectations.creation_observed(key)
                log.warning("%s: %s: creating pods failed: %s", self.name, key, errors[0])
                message = f"Error creating: {errors[0]}"
                self.events.event(rs, self.rt, WARNING, "FailedCreate", message)
                return "FailedCreate", str(errors[0])
            batch *= 2
        return None

    async def _delete(
        self, key: str, rs: m.JSONObject, pods: list[m.JSONObject], count: int
    ) -> tuple[str, str] | None:
        victims = podstate.deletion_order(pods, m.now())[:count]
        self.expectations.expect_deletions(key, [key_of(p) for p in victims])

        async def delete(pod: m.JSONObject) -> BaseException | None:
            try:
                await self.client.delete(
                    PODS, m.name_of(pod), m.namespace_of(pod), uid=ownership.uid_of(pod)
                )
                message = f"Deleted pod: {m.name_of(pod)}"
                self.events.event(rs, self.rt, NORMAL, "SuccessfulDelete", message)
            except NotFound:
                self.expectations.deletion_observed(key, key_of(pod))
            except (KubewardError, OSError) as exc:
                self.expectations.deletion_observed(key, key_of(pod))
                return exc
            return None

        errors = [e for e in await asyncio.gather(*(delete(p) for p in victims)) if e]
        if errors:
            log.warning("%s: %s: deleting pods failed: %s", self.name, key, errors[0])
            return "FailedDelete", str(errors[0])
        return None

    def calculate_status(
        self, rs: m.JSONObject, pods: list[m.JSONObject], failure: tuple[str, str] | None
    ) -> tuple[m.JSONObject, float | None]:
        """Rule 5: the new status, and when to look again for a pod becoming available."""
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        now = m.now()
        fully = ready = available = 0
        again: float | None = None
        for pod in pods:
            labels = m.metadata(pod).get("labels") or {}
            if all(labels.get(k) == v for k, v in template_labels.items()):
                fully += 1
            if podstate.is_ready(pod):
                ready += 1
                if podstate.is_available(pod, min_ready, now):
                    available += 1
                else:
                    wait = podstate.seconds_until_available(pod, min_ready, now)
                    if wait is not None:
                        again = wait if again is None else min(again, wait)
        old = rs.get("status") or {}
        status: m.JSONObject = {
            "replicas": len(pods),
            "fullyLabeledReplicas": fully,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": int(m.metadata(rs).get("generation") or 1),
        }
        conditions = [c for c in old.get("conditions") or [] if c.get("type") != REPLICA_FAILURE]
        existing = _condition(old, REPLICA_FAILURE)
        if failure is not None:
            conditions.append(
                existing
                or {
                    "type": REPLICA_FAILURE,
                    "status": "True",
                    "lastTransitionTime": m.format_time(now),
                    "reason": failure[0],
                    "message": failure[1],
                }
            )
        if conditions:
            status["conditions"] = conditions
        return status, again

    async def _update_status(
        self, rs: m.JSONObject, pods: list[m.JSONObject], failure: tuple[str, str] | None
    ) -> float | None:
        status, again = self.calculate_status(rs, pods, failure)
        old = dict(rs.get("status") or {})
        old.pop("terminatingReplicas", None)
        if status == old:
            return again
        written = await write_status(self.client, self.rt, rs, status)
        if written is Written.GONE:
            return None
        return 0.05 if written is Written.STALE else again
