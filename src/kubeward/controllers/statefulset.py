"""The statefulset controller: pods with a stable identity, made and removed in order
(``pkg/controller/statefulset``; pod and claim shapes are ``statefulset_pods``', revisions
``history``'s).

Rules:

 1. A StatefulSet's pods are the pods of its namespace named ``<set>-<ordinal>`` that it
    claims (``ownership``); its ControllerRevisions are those it claims by selector. A set
    being deleted, or with an empty selector, is left alone.
 2. The update revision is the current template's (``history`` rule 3); the current revision
    is the one ``status.currentRevision`` names, else the update revision. A missing pod below
    ``partition`` (RollingUpdate) is made from the current revision, any other from the update
    revision.
 3. ``OrderedReady`` (the default): pods are handled in ordinal order and the pass stops at the
    first pod that was just created, is terminating, or is not Running and Ready (and, with
    ``minReadySeconds``, available); a pod whose identity labels are missing or wrong (an
    adopted orphan) gets them back (``statefulset_pods`` rule 1); surplus pods
    are deleted from the highest ordinal down, one at a time, only while every other pod is
    healthy. ``Parallel``: every missing pod is created and every surplus pod deleted at once.
 4. A pod that has ended (Succeeded or Failed) is deleted and made again. Before a pod is
    created its claims are created (``statefulset_pods`` rule 3); an existing claim is kept.
    Scaling down keeps the claims unless ``persistentVolumeClaimRetentionPolicy.whenScaled``
    is ``Delete``, then the removed pod's claims are deleted with it.
 5. ``RollingUpdate``: once every pod is in place, from the highest ordinal down to
    ``partition`` the first pod not at the update revision is deleted (it is made again at the
    new one); an unhealthy pod on the way stops the pass. ``OnDelete``: pods are only replaced
    when someone deletes them.
 6. Status: ``replicas`` (pods that exist), ``readyReplicas``, ``availableReplicas`` (ready for
    ``minReadySeconds``), ``currentReplicas`` and ``updatedReplicas`` (pods, not terminating,
    at the current or update revision), ``currentRevision``, ``updateRevision``,
    ``collisionCount`` and ``observedGeneration``. A RollingUpdate is complete when every
    wanted pod is ready at the update revision: the current revision becomes the update one.
 7. Revisions no pod uses beyond ``revisionHistoryLimit`` are deleted (``history`` rule 5).
 8. Events on the set, worded as upstream: ``SuccessfulCreate`` ``create Pod web-0 in
    StatefulSet web successful`` and ``create Claim www-web-0 Pod web-0 in StatefulSet web
    success``, ``SuccessfulDelete`` ``delete Pod web-1 in StatefulSet web successful``,
    ``FailedCreate``/``FailedDelete`` ``… failed error: <error>``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS, STATEFULSETS
from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import history, ownership, podstate
from kubeward.controllers import statefulset_pods as sp
from kubeward.controllers.base import Controller
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.informer import Informer, key_of
from kubeward.controllers.status_writes import Written, write_status
from kubeward.errors import AlreadyExists, BadRequest, KubewardError, NotFound

log = logging.getLogger("kubeward.controllers")


def _selector_of(obj: m.JSONObject) -> LabelSelector | None:
    try:
        selector = LabelSelector.from_dict(sp.spec(obj).get("selector"))
    except BadRequest:
        return None
    return None if selector.empty else selector


def _with_template(sts: m.JSONObject, revision: m.JSONObject) -> m.JSONObject:
    """The set as it was at ``revision`` (its template restored)."""
    copied = copy.deepcopy(sts)
    copied.setdefault("spec", {})["template"] = history.template_of(revision)
    return copied


class StatefulSetController(Controller):
    name = "statefulset"

    def __init__(
        self,
        sets: Informer,
        pods: Informer,
        revisions: Informer,
        claims: Informer,
        client: APIClient,
        *,
        workers: int = 5,
    ) -> None:
        super().__init__(sets, workers=workers)
        self.pods = pods
        self.revisions = revisions
        self.claims = claims
        self.client = client
        self.events = EventRecorder(client, "statefulset-controller")
        self.depends_on(pods, revisions, claims)
        pods.add_event_handler(
            self._changed, lambda old, new: self._changed(old, new), self._changed
        )
        revisions.add_event_handler(
            self._changed, lambda old, new: self._changed(old, new), self._changed
        )

    # --- events ---------------------------------------------------------------------------
    def _changed(self, *objs: m.JSONObject) -> None:
        if len(objs) == 2 and objs[0] is objs[1]:
            return  # a resync: the set's own resync covers it
        for obj in objs:
            ref = ownership.controller_ref(obj)
            if ref is not None:
                if ref.get("kind") == "StatefulSet":
                    self.queue.add(f"{m.namespace_of(obj)}/{ref.get('name')}")
                continue
            labels = m.labels_of(obj)
            for sts in self.informer.in_namespace(m.namespace_of(obj)):
                selector = _selector_of(sts)
                if selector is not None and selector.matches(labels):
                    self.queue.add(key_of(sts))

    # --- reconcile ------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None:
            return None
        sts = copy.deepcopy(cached)
        selector = _selector_of(sts)
        if selector is None or ownership.is_deleting(sts):
            return None
        namespace = m.namespace_of(sts)
        candidates = [p for p in self.pods.in_namespace(namespace) if sp.is_member(sts, p)]
        pods = await ownership.claim(sts, STATEFULSETS, selector, candidates, self._patch(PODS))
        revisions = await ownership.claim(
            sts,
            STATEFULSETS,
            selector,
            list(self.revisions.in_namespace(namespace)),
            self._patch(CONTROLLER_REVISIONS),
        )
        current, update, collisions, revisions = await history.sync_revisions(
            self.client, sts, STATEFULSETS, revisions
        )
        await self._sync_pods(sts, current, update, pods)
        again = await self._update_status(sts, current, update, collisions, pods)
        await self._truncate_history(sts, revisions, pods, current, update)
        return again

    def _patch(self, rt: Any) -> Any:
        async def patch(obj: m.JSONObject, body: m.JSONObject) -> Any:
            try:
                return await self.client.patch(
                    rt, m.name_of(obj), body, namespace=m.namespace_of(obj)
                )
            except NotFound:
                return None

        return patch

    async def _sync_pods(
        self,
        sts: m.JSONObject,
        current: m.JSONObject,
        update: m.JSONObject,
        pods: list[m.JSONObject],
    ) -> None:
        """Rules 2-5."""
        spec = sp.spec(sts)
        monotonic = spec.get("podManagementPolicy") != "Parallel"
        start, count = sp.start_ordinal(sts), sp.replicas(sts)
        slots: dict[int, m.JSONObject | None] = dict.fromkeys(range(start, start + count))
        condemned: list[tuple[int, m.JSONObject]] = []
        for pod in pods:
            parsed = sp.ordinal_of(pod)
            if parsed is None:
                continue
            if parsed[1] in slots:
                slots[parsed[1]] = pod
            else:
                condemned.append((parsed[1], pod))
        condemned.sort(key=lambda item: item[0])
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        current_set, update_set = _with_template(sts, current), _with_template(sts, update)
        current_replicas = int((sts.get("status") or {}).get("currentReplicas") or 0)
        min_ready = int(spec.get("minReadySeconds") or 0)
        for ordinal, slot in slots.items():
            if slot is not None and sp.has_ended(slot):
                if not sp.is_terminating(slot):
                    await self._delete_pod(sts, slot)
                # Made again once it is gone (on a later pass).
                if monotonic:
                    return
                continue
            if slot is None:
                limit = partition if strategy.get("rollingUpdate") else current_replicas
                from_current = rolling and ordinal < start + limit
                source, revision = (current_set, current) if from_current else (update_set, update)
                template = sp.spec(source).get("template") or {}
                new = sp.new_pod(sts, template, ordinal, m.name_of(revision))
                created = await self._create_pod(sts, new, ordinal)
                if monotonic or not created:
                    return
                continue
            if monotonic and (sp.is_terminating(slot) or not sp.is_running_and_ready(slot)):
                return
            if monotonic and not podstate.is_available(slot, min_ready, m.now()):
                return
            if sp.is_terminating(slot):
                continue
            identity = sp.identity_patch(slot, ordinal)
            if identity is not None:
                await self._patch(PODS)(slot, identity)
            await self._sync_claim_owners(sts, ordinal)
        await_all = all(p is not None and sp.is_healthy(p) for p in slots.values())
        unhealthy = next((p for _, p in condemned if not sp.is_healthy(p)), None)
        for _, pod in reversed(condemned):
            if sp.is_terminating(pod):
                if monotonic:
                    return
                continue
            if monotonic and (not await_all or (unhealthy is not None and pod is not unhealthy)):
                return
            await self._delete_pod(sts, pod)
            if sp.retention(sts, "whenScaled") == "Delete":
                await self._delete_claims(sts, pod)
            if monotonic:
                return
        if not rolling:
            return
        for ordinal in sorted(slots, reverse=True):
            if ordinal < start + partition:
                break
            target = slots[ordinal]
            if target is None:
                return
            if sp.revision_of(target) != m.name_of(update) and not sp.is_terminating(target):
                await self._delete_pod(sts, target)
                return
            if not sp.is_healthy(target):
                return

    # --- writes ---------------------------------------------------------------------------
    async def _create_pod(self, sts: m.JSONObject, pod: m.JSONObject, ordinal: int) -> bool:
        """Rule 4 and 8: claims first, then the pod; False if it could not be made."""
        namespace, name = m.namespace_of(sts), m.name_of(pod)
        for template in sp.claim_templates(sts):
            claim = sp.new_claim(sts, template, ordinal)
            if self.claims.get(f"{namespace}/{m.name_of(claim)}") is not None:
                continue
            try:
                await self.client.create(PERSISTENT_VOLUME_CLAIMS, claim, namespace)
            except AlreadyExists:
                continue
            except (KubewardError, OSError) as exc:
                message = (
                    f"create Claim {m.name_of(claim)} for Pod {name} in StatefulSet"
                    f" {m.name_of(sts)} failed error: {exc}"
                )
                self.events.event(sts, STATEFULSETS, WARNING, "FailedCreate", message)
                raise
            message = (
                f"create Claim {m.name_of(claim)} Pod {name} in StatefulSet"
                f" {m.name_of(sts)} success"
            )
            self.events.event(sts, STATEFULSETS, NORMAL, "SuccessfulCreate", message)
        try:
            await self.client.create(PODS, pod, namespace)
        except AlreadyExists:
            return False  # our cache has not seen it yet (or it is still going away)
        except (KubewardError, OSError) as exc:
            message = f"create Pod {name} in StatefulSet {m.name_of(sts)} failed error: {exc}"
            self.events.event(sts, STATEFULSETS, WARNING, "FailedCreate", message)
            raise
        message = f"create Pod {name} in StatefulSet {m.name_of(sts)} successful"
        self.events.event(sts, STATEFULSETS, NORMAL, "SuccessfulCreate", message)
        return True

    async def _sync_claim_owners(self, sts: m.JSONObject, ordinal: int) -> None:
        """``statefulset_pods`` rule 3: a changed retention policy reaches existing claims."""
        namespace = m.namespace_of(sts)
        for template in sp.claim_templates(sts):
            claim = self.claims.get(f"{namespace}/{sp.claim_name(template, sts, ordinal)}")
            updated = sp.claim_owner_update(sts, claim) if claim is not None else None
            if updated is None:
                continue
            try:
                await self.client.update(PERSISTENT_VOLUME_CLAIMS, updated, namespace=namespace)
            except NotFound:
                continue

    async def _delete_pod(self, sts: m.JSONObject, pod: m.JSONObject) -> None:
        name = m.name_of(pod)
        try:
            await self.client.delete(PODS, name, m.namespace_of(pod), uid=ownership.uid_of(pod))
        except NotFound:
            return
        except (KubewardError, OSError) as exc:
            message = f"delete Pod {name} in StatefulSet {m.name_of(sts)} failed error: {exc}"
            self.events.event(sts, STATEFULSETS, WARNING, "FailedDelete", message)
            raise
        message = f"delete Pod {name} in StatefulSet {m.name_of(sts)} successful"
        self.events.event(sts, STATEFULSETS, NORMAL, "SuccessfulDelete", message)

    async def _delete_claims(self, sts: m.JSONObject, pod: m.JSONObject) -> None:
        """Rule 4: ``whenScaled: Delete``."""
        parsed = sp.ordinal_of(pod)
        if parsed is None:
            return
        for template in sp.claim_templates(sts):
            name = sp.claim_name(template, sts, parsed[1])
            try:
                await self.client.delete(PERSISTENT_VOLUME_CLAIMS, name, m.namespace_of(sts))
            except NotFound:
                continue
            message = (
                f"delete Claim {name} Pod {m.name_of(pod)} in StatefulSet {m.name_of(sts)} success"
            )
            self.events.event(sts, STATEFULSETS, NORMAL, "SuccessfulDelete", message)

    # --- status ---------------------------------------------------------------------------
    def calculate_status(
        self,
        sts: m.JSONObject,
        current: m.JSONObject,
        update: m.JSONObject,
        collisions: int | None,
        pods: list[m.JSONObject],
    ) -> tuple[m.JSONObject, float | None]:
        """Rule 6: the new status, and when a pod next becomes available."""
        spec = sp.spec(sts)
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = m.now()
        counts = {"replicas": 0, "ready": 0, "available": 0, "current": 0, "updated": 0}
        again: float | None = None
        for pod in pods:
            counts["replicas"] += 1
            if sp.is_running_and_ready(pod):
                counts["ready"] += 1
                if podstate.is_available(pod, min_ready, now):
                    counts["available"] += 1
                else:
                    wait = podstate.seconds_until_available(pod, min_ready, now)
                    if wait is not None:
                        again = wait if again is None else min(again, wait)
            if not sp.is_terminating(pod):
                revision = sp.revision_of(pod)
                counts["current"] += revision == m.name_of(current)
                counts["updated"] += revision == m.name_of(update)
        current_name = m.name_of(current)
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and counts["updated"] == counts["replicas"] == counts[
            "ready"
        ] == sp.replicas(sts):
            current_name, counts["current"] = m.name_of(update), counts["updated"]
        status: m.JSONObject = {
            "observedGeneration": int(m.metadata(sts).get("generation") or 1),
            "replicas": counts["replicas"],
            "readyReplicas": counts["ready"],
            "currentReplicas": counts["current"],
            "updatedReplicas": counts["updated"],
            "currentRevision": current_name,
            "updateRevision": m.name_of(update),
            "collisionCount": collisions,
            "availableReplicas": counts["available"],
        }
        zero_omitted = ("readyReplicas", "currentReplicas", "updatedReplicas", "collisionCount")
        for name in zero_omitted:
            if not status[name]:
                del status[name]
        conditions = (sts.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        return status, again

    async def _update_status(
        self,
        sts: m.JSONObject,
        current: m.JSONObject,
        update: m.JSONObject,
        collisions: int | None,
        pods: list[m.JSONObject],
    ) -> float | None:
        status, again = self.calculate_status(sts, current, update, collisions, pods)
        if status == (sts.get("status") or {}):
            return again
        written = await write_status(self.client, STATEFULSETS, sts, status)
        if written is Written.GONE:
            return None
        return 0.05 if written is Written.STALE else again

    async def _truncate_history(
        self,
        sts: m.JSONObject,
        revisions: list[m.JSONObject],
        pods: list[m.JSONObject],
        current: m.JSONObject,
        update: m.JSONObject,
    ) -> None:
        """Rule 7."""
        live = {m.name_of(current), m.name_of(update), *(sp.revision_of(p) for p in pods)}
        for revision in history.surplus(revisions, live, history.history_limit(sts)):
            try:
                await self.client.delete(
                    CONTROLLER_REVISIONS, m.name_of(revision), m.namespace_of(sts)
                )
            except NotFound:
                continue
