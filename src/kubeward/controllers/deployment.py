"""The deployment controller: rolls a Deployment's pods from one template to the next through
ReplicaSets (``pkg/controller/deployment``).

Rules (the arithmetic is ``deployment_util``'s):

 1. A Deployment's ReplicaSets are those of its namespace it claims (``ownership``); the
    *new* one has the Deployment's template (``deployment_util`` rule 1), every other is old.
 2. A Deployment being deleted, or with an empty selector, is left alone. A paused one is only
    scaled, and its ``Progressing`` condition says ``DeploymentPaused`` (``DeploymentResumed``
    once resumed).
 3. A change of ``spec.replicas`` alone (the ``desired-replicas`` annotation of an active
    ReplicaSet differs) is a scaling event: the active ReplicaSets are resized in proportion,
    no rollout step is taken.
 4. RollingUpdate: create the new ReplicaSet if missing; scale it up while the total stays
    within ``replicas + maxSurge``; scale old ones down (unhealthy first, oldest first) while
    available pods stay at least ``replicas - maxUnavailable``. One of the two per pass.
 5. Recreate: scale every old ReplicaSet to zero, wait until none of their pods runs, then
    create (or scale up) the new one to ``replicas``.
 6. Once complete, old ReplicaSets beyond ``revisionHistoryLimit`` (scaled to zero, oldest
    revision first) are deleted.
 7. Status follows ``deployment_util`` rules 4 and 5; ``Progressing`` moves through
    ``NewReplicaSetCreated``/``FoundNewReplicaSet``, ``ReplicaSetUpdated`` and
    ``NewReplicaSetAvailable``, or ``ProgressDeadlineExceeded`` when the deadline passes (the
    Deployment is looked at again when it would). A ReplicaSet's ``ReplicaFailure`` condition
    is copied to the Deployment.
 8. Every resize of a ReplicaSet is recorded as a ``ScalingReplicaSet`` event on the
    Deployment: ``Scaled up replica set <name> from <n> to <m>``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.apps import DEPLOYMENTS, REPLICA_SETS
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import deployment_util as u
from kubeward.controllers import ownership
from kubeward.controllers.base import Controller
from kubeward.controllers.deployment_rollout import Rollout
from kubeward.controllers.events import NORMAL, EventRecorder
from kubeward.controllers.informer import Informer, key_of
from kubeward.errors import BadRequest, NotFound

log = logging.getLogger("kubeward.controllers")


def _selector_of(obj: m.JSONObject) -> LabelSelector | None:
    try:
        selector = LabelSelector.from_dict(u.spec(obj).get("selector"))
    except BadRequest:
        return None
    return None if selector.empty else selector


class DeploymentController(Controller):
    name = "deployment"

    def __init__(
        self,
        deployments: Informer,
        replica_sets: Informer,
        pods: Informer,
        client: APIClient,
        *,
        workers: int = 5,
    ) -> None:
        super().__init__(deployments, workers=workers)
        self.replica_sets = replica_sets
        self.pods = pods
        self.client = client
        self.events = EventRecorder(client, "deployment-controller")
        self.depends_on(replica_sets, pods)
        replica_sets.add_event_handler(
            self._rs_changed, lambda old, new: self._rs_changed(old, new), self._rs_changed
        )
        pods.add_event_handler(on_delete=self._pod_deleted)

    # --- events ---------------------------------------------------------------------------
    def _owner_key(self, obj: m.JSONObject) -> str | None:
        ref = ownership.controller_ref(obj)
        if ref is None or ref.get("kind") != "Deployment":
            return None
        return f"{m.namespace_of(obj)}/{ref.get('name')}"

    def _rs_changed(self, *objs: m.JSONObject) -> None:
        if len(objs) == 2 and objs[0] is objs[1]:
            return  # a resync
        for rs in objs:
            key = self._owner_key(rs)
            if key is not None:
                self.queue.add(key)
                continue
            labels = m.metadata(rs).get("labels") or {}
            for d in self.informer.in_namespace(m.namespace_of(rs)):
                selector = _selector_of(d)
                if selector is not None and selector.matches(labels):
                    self.queue.add(key_of(d))

    def _pod_deleted(self, pod: m.JSONObject) -> None:
        ref = ownership.controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replica_sets.get(f"{m.namespace_of(pod)}/{ref.get('name')}")
        if rs is not None:
            key = self._owner_key(rs)
            if key is not None:
                self.queue.add(key)

    # --- reconcile ------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None:
            return None
        d = copy.deepcopy(cached)
        selector = _selector_of(d)
        if selector is None:
            return None
        candidates = [copy.deepcopy(rs) for rs in self.replica_sets.in_namespace(m.namespace_of(d))]
        claimed = await ownership.claim(d, DEPLOYMENTS, selector, candidates, self._patch_rs)
        rollout = Rollout(self, d, claimed)
        if ownership.is_deleting(d):
            await rollout.sync_status()
            return None
        await rollout.check_paused_conditions()
        if u.spec(d).get("paused"):
            await rollout.sync()
            return None
        if rollout.is_scaling_event():
            await rollout.sync()
            return None
        try:
            if (u.spec(d).get("strategy") or {}).get("type") == "Recreate":
                return await rollout.recreate()
            return await rollout.rolling()
        except NotFound as exc:
            # The Deployment (or a ReplicaSet) went away during the pass; its deletion event
            # brings the key back if anything is left to do.
            log.debug("%s: %s: %s", self.name, key, exc)
            return None

    # --- writes (used by Rollout) ---------------------------------------------------------
    async def _patch_rs(self, rs: m.JSONObject, body: m.JSONObject) -> Any:
        try:
            return await self.client.patch(
                REPLICA_SETS, m.name_of(rs), body, namespace=m.namespace_of(rs)
            )
        except NotFound:
            return None

    async def update_rs(self, rs: m.JSONObject) -> m.JSONObject:
        return await self.client.update(REPLICA_SETS, rs, namespace=m.namespace_of(rs))

    async def create_rs(self, rs: m.JSONObject) -> m.JSONObject:
        return await self.client.create(REPLICA_SETS, rs, m.namespace_of(rs))

    async def get_rs(self, namespace: str, name: str) -> m.JSONObject:
        return await self.client.get(REPLICA_SETS, name, namespace)

    async def delete_rs(self, rs: m.JSONObject) -> None:
        with contextlib.suppress(NotFound):
            await self.client.delete(
                REPLICA_SETS, m.name_of(rs), m.namespace_of(rs), uid=ownership.uid_of(rs)
            )

    async def update_deployment(self, d: m.JSONObject, *, status: bool) -> m.JSONObject:
        return await self.client.update(
            DEPLOYMENTS, d, namespace=m.namespace_of(d), subresource="status" if status else ""
        )

    def scaled(self, d: m.JSONObject, rs: m.JSONObject, before: int, after: int) -> None:
        """Rule 8: the ``ScalingReplicaSet`` event."""
        direction = "up" if after > before else "down"
        message = f"Scaled {direction} replica set {m.name_of(rs)} from {before} to {after}"
        self.events.event(d, DEPLOYMENTS, NORMAL, "ScalingReplicaSet", message)

    def pods_of(self, rs: m.JSONObject) -> list[m.JSONObject]:
        uid = ownership.uid_of(rs)
        return [
            p
            for p in self.pods.in_namespace(m.namespace_of(rs))
            if (ownership.controller_ref(p) or {}).get("uid") == uid
        ]
