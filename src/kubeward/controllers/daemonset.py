"""The daemonset controller: one pod of a DaemonSet on every node that should run it
(``pkg/controller/daemon``; node eligibility and the pod's shape are ``daemonset_nodes``',
revisions ``history``'s).

Rules:

 1. A DaemonSet's pods are those of its namespace it claims (``ownership``); each is on the
    node ``daemonset_nodes`` rule 4 names. A set being deleted, or with an empty selector, is
    left alone. While expectations (``expectations``) are pending it neither creates nor
    deletes.
 2. A pod is the template with the daemon tolerations (``daemonset_nodes`` rule 1), bound to
    its node by affinity (rule 3), ``generateName: <ds>-``, labels
    ``controller-revision-hash`` (the update revision's hash) and, when the set has the
    ``deprecated.daemonset.template.generation`` annotation, ``pod-template-generation``.
 3. On a node where it should run and no pod is (terminating ones included): create one. Where
    it should continue running: a failed pod is deleted (``FailedDaemonPod``), and of several
    pods the oldest is kept. Where it should not continue: its pods are deleted. A pod not yet
    scheduled for a node that no longer exists is deleted; one naming no node is ignored.
 4. ``RollingUpdate`` (``daemonset_rollout``, with ``maxUnavailable`` and ``maxSurge``) runs
    once no pod needs creating or deleting for rule 3; ``OnDelete``: pods are replaced only
    when someone deletes them.
 5. Status (counted over pods not being deleted, from each node's oldest pod):
    ``desiredNumberScheduled`` (nodes that should run it), ``currentNumberScheduled`` (those
    with a pod), ``numberMisscheduled`` (nodes with a pod that should not), ``numberReady``,
    ``numberAvailable`` (ready for ``minReadySeconds``), ``numberUnavailable``,
    ``updatedNumberScheduled`` (at the update revision), ``observedGeneration``,
    ``collisionCount``; written only when it changed.
 6. Revisions no pod uses beyond ``revisionHistoryLimit`` are deleted (``history`` rule 5).
 7. Events on the DaemonSet as upstream's pod control words them: ``SuccessfulCreate``
    ``Created pod: <name>``, ``SuccessfulDelete`` ``Deleted pod: <name>``, ``FailedCreate``
    ``Error creating: <error>``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS, DAEMONSETS
from kubeward.api.resources.core import PODS
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers import daemonset_nodes as dn
from kubeward.controllers import daemonset_rollout as rollout
from kubeward.controllers import history, ownership, podstate
from kubeward.controllers.base import Controller
from kubeward.controllers.events import NORMAL, WARNING, EventRecorder
from kubeward.controllers.expectations import Expectations
from kubeward.controllers.informer import Informer, key_of
from kubeward.controllers.status_writes import Written, write_status
from kubeward.errors import BadRequest, KubewardError, NotFound

log = logging.getLogger("kubeward.controllers")

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"


def _spec(obj: m.JSONObject) -> m.JSONObject:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def _selector_of(obj: m.JSONObject) -> LabelSelector | None:
    try:
        selector = LabelSelector.from_dict(_spec(obj).get("selector"))
    except BadRequest:
        return None
    return None if selector.empty else selector


def daemon_pod_spec(ds: m.JSONObject) -> m.JSONObject:
    """Rule 2's spec before it is bound to a node."""
    pod_spec: m.JSONObject = copy.deepcopy((_spec(ds).get("template") or {}).get("spec") or {})
    dn.add_daemon_tolerations(pod_spec)
    return pod_spec


def new_pod(ds: m.JSONObject, node: str, revision_hash: str) -> m.JSONObject:
    """Rule 2."""
    template = _spec(ds).get("template") or {}
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    labels[history.REVISION_HASH_LABEL] = revision_hash
    generation = (m.metadata(ds).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    if generation:
        labels[TEMPLATE_GENERATION_LABEL] = str(generation)
    meta: m.JSONObject = {
        "generateName": f"{m.name_of(ds)}-",
        "namespace": m.namespace_of(ds),
        "labels": labels,
        "ownerReferences": [ownership.new_controller_ref(ds, DAEMONSETS)],
    }
    for field in ("annotations", "finalizers"):
        if tmeta.get(field):
            meta[field] = copy.deepcopy(tmeta[field])
    pod_spec = daemon_pod_spec(ds)
    dn.bind_to_node(pod_spec, node)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}


def _oldest_first(pods: list[m.JSONObject]) -> list[m.JSONObject]:
    return sorted(
        pods, key=lambda p: (str(m.metadata(p).get("creationTimestamp") or ""), m.name_of(p))
    )


class DaemonSetController(Controller):
    name = "daemonset"

    def __init__(
        self,
        daemon_sets: Informer,
        pods: Informer,
        nodes: Informer,
        revisions: Informer,
        client: APIClient,
        *,
        workers: int = 2,
    ) -> None:
        super().__init__(daemon_sets, workers=workers)
        self.pods = pods
        self.nodes = nodes
        self.revisions = revisions
        self.client = client
        self.expectations = Expectations()
        self.events = EventRecorder(client, "daemonset-controller")
        self.depends_on(pods, nodes, revisions)
        pods.add_event_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        nodes.add_event_handler(self._node_changed, self._node_updated, self._node_changed)
        revisions.add_event_handler(
            self._revision_changed,
            lambda old, new: self._revision_changed(new),
            self._revision_changed,
        )

    # --- events ---------------------------------------------------------------------------
    def _owner_key(self, obj: m.JSONObject) -> str | None:
        ref = ownership.controller_ref(obj)
        if ref is None or ref.get("kind") != "DaemonSet":
            return None
        return f"{m.namespace_of(obj)}/{ref.get('name')}"

    def _enqueue_matching(self, obj: m.JSONObject) -> None:
        labels = m.labels_of(obj)
        for ds in self.informer.in_namespace(m.namespace_of(obj)):
            selector = _selector_of(ds)
            if selector is not None and selector.matches(labels):
                self.queue.add(key_of(ds))

    def _pod_added(self, pod: m.JSONObject) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif ownership.controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new:
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

    def _node_changed(self, node: m.JSONObject) -> None:
        for ds in self.informer.cache.values():
            self.queue.add(key_of(ds))

    def _node_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new:
            return
        if (
            m.labels_of(old) != m.labels_of(new)
            or (old.get("spec") or {}) != (new.get("spec") or {})
            or _ready(old) != _ready(new)
        ):
            self._node_changed(new)

    def _revision_changed(self, revision: m.JSONObject) -> None:
        key = self._owner_key(revision)
        if key is not None:
            self.queue.add(key)

    # --- reconcile ------------------------------------------------------------------------
    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None:
            self.expectations.forget(key)
            return None
        ds = copy.deepcopy(cached)
        selector = _selector_of(ds)
        if selector is None or ownership.is_deleting(ds):
            return None
        namespace = m.namespace_of(ds)
        pods = await ownership.claim(
            ds, DAEMONSETS, selector, list(self.pods.in_namespace(namespace)), self._patch(PODS)
        )
        revisions = await ownership.claim(
            ds,
            DAEMONSETS,
            selector,
            list(self.revisions.in_namespace(namespace)),
            self._patch(CONTROLLER_REVISIONS),
        )
        _, update, collisions, revisions = await history.sync_revisions(
            self.client, ds, DAEMONSETS, revisions
        )
        update_hash = history.hash_of(update)
        by_node: dict[str, list[m.JSONObject]] = {}
        for pod in pods:
            node = dn.target_node(pod)
            if node:  # a pod that names no node is not one of the daemon's (upstream skips it)
                by_node.setdefault(node, []).append(pod)
        if self.expectations.satisfied(key):
            await self._manage(key, ds, by_node, update_hash)
        again = await self._update_status(ds, by_node, update_hash, collisions)
        await self._truncate_history(ds, revisions, pods, update)
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

    def _node_plan(self, ds: m.JSONObject) -> list[tuple[str, bool, bool]]:
        """Rule 3's (node, should run, should continue running) for every node."""
        pod_spec = daemon_pod_spec(ds)
        return [(m.name_of(n), *dn.should_run(pod_spec, n)) for n in self.nodes.cache.values()]

    async def _manage(
        self,
        key: str,
        ds: m.JSONObject,
        by_node: dict[str, list[m.JSONObject]],
        update_hash: str,
    ) -> None:
        """Rules 3 and 4."""
        create: list[str] = []
        delete: list[m.JSONObject] = []
        for node, run, keep in self._node_plan(ds):
            pods = by_node.get(node, [])
            live = _oldest_first([p for p in pods if not ownership.is_deleting(p)])
            if run and not pods:
                create.append(node)
            elif keep:
                failed = [p for p in live if (p.get("status") or {}).get("phase") == "Failed"]
                for pod in failed:
                    message = (
                        f"Found failed daemon pod {m.namespace_of(pod)}/{m.name_of(pod)}"
                        f" on node {node}, will try to kill it"
                    )
                    self.events.event(ds, DAEMONSETS, WARNING, "FailedDaemonPod", message)
                delete.extend(failed)
                running = [p for p in live if p not in failed]
                if len(running) > 1 and rollout.limits(ds, 1)[1] == 0:
                    delete.extend(running[1:])
            else:
                delete.extend(live)
        known = {name for name, _, _ in self._node_plan(ds)}
        for node, pods in by_node.items():
            if node not in known:  # unscheduled pods for a node that is gone
                delete.extend(
                    p
                    for p in pods
                    if not ownership.is_deleting(p) and not (p.get("spec") or {}).get("nodeName")
                )
        if not create and not delete:
            await self._rolling_update(key, ds, by_node, update_hash)
            return
        await self._write(key, ds, create, delete, update_hash)

    async def _rolling_update(
        self, key: str, ds: m.JSONObject, by_node: dict[str, list[m.JSONObject]], update_hash: str
    ) -> None:
        """Rule 4."""
        if (_spec(ds).get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            return
        nodes = [(node, run) for node, run, keep in self._node_plan(ds) if keep]
        create, delete = rollout.rolling_update(ds, nodes, by_node, update_hash, m.now())
        if create or delete:
            await self._write(key, ds, create, delete, update_hash)

    async def _write(
        self,
        key: str,
        ds: m.JSONObject,
        create: list[str],
        delete: list[m.JSONObject],
        update_hash: str,
    ) -> None:
        self.expectations.expect(key, len(create), [key_of(p) for p in delete])
        namespace = m.namespace_of(ds)

        async def make(node: str) -> BaseException | None:
            try:
                created = await self.client.create(PODS, new_pod(ds, node, update_hash), namespace)
            except (KubewardError, OSError) as exc:
                self.expectations.creation_observed(key)
                self.events.event(ds, DAEMONSETS, WARNING, "FailedCreate", f"Error creating: {exc}")
                return exc
            message = f"Created pod: {m.name_of(created)}"
            self.events.event(ds, DAEMONSETS, NORMAL, "SuccessfulCreate", message)
            return None

        async def remove(pod: m.JSONObject) -> BaseException | None:
            try:
                await self.client.delete(PODS, m.name_of(pod), namespace, uid=ownership.uid_of(pod))
            except NotFound:
                self.expectations.deletion_observed(key, key_of(pod))
                return None
            except (KubewardError, OSError) as exc:
                self.expectations.deletion_observed(key, key_of(pod))
                self.events.event(ds, DAEMONSETS, WARNING, "FailedDelete", f"Error deleting: {exc}")
                return exc
            message = f"Deleted pod: {m.name_of(pod)}"
            self.events.event(ds, DAEMONSETS, NORMAL, "SuccessfulDelete", message)
            return None

        results = await asyncio.gather(*(make(n) for n in create), *(remove(p) for p in delete))
        errors = [r for r in results if r is not None]
        if errors:
            raise errors[0]

    # --- status ---------------------------------------------------------------------------
    def calculate_status(
        self,
        ds: m.JSONObject,
        by_node: dict[str, list[m.JSONObject]],
        update_hash: str,
        collisions: int | None,
    ) -> tuple[m.JSONObject, float | None]:
        """Rule 5."""
        min_ready = int(_spec(ds).get("minReadySeconds") or 0)
        now = m.now()
        desired = current = misscheduled = ready = available = updated = 0
        again: float | None = None
        for node, run, _ in self._node_plan(ds):
            pods = _oldest_first([p for p in by_node.get(node, []) if not ownership.is_deleting(p)])
            if not run:
                misscheduled += bool(pods)
                continue
            desired += 1
            if not pods:
                continue
            current += 1
            pod = pods[0]
            if podstate.is_ready(pod):
                ready += 1
                if podstate.is_available(pod, min_ready, now):
                    available += 1
                else:
                    wait = podstate.seconds_until_available(pod, min_ready, now)
                    if wait is not None:
                        again = wait if again is None else min(again, wait)
            updated += history.hash_of_pod(pod) == update_hash
        status: m.JSONObject = {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": desired,
            "numberReady": ready,
            "observedGeneration": int(m.metadata(ds).get("generation") or 1),
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
            "numberUnavailable": desired - available,
            "collisionCount": collisions,
        }
        for name in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if not status[name]:
                del status[name]
        if collisions is None:
            del status["collisionCount"]
        conditions = (ds.get("status") or {}).get("conditions")
        if conditions:
            status["conditions"] = conditions
        return status, again

    async def _update_status(
        self,
        ds: m.JSONObject,
        by_node: dict[str, list[m.JSONObject]],
        update_hash: str,
        collisions: int | None,
    ) -> float | None:
        status, again = self.calculate_status(ds, by_node, update_hash, collisions)
        if status == (ds.get("status") or {}):
            return again
        written = await write_status(self.client, DAEMONSETS, ds, status)
        if written is Written.GONE:
            return None
        return 0.05 if written is Written.STALE else again

    async def _truncate_history(
        self,
        ds: m.JSONObject,
        revisions: list[m.JSONObject],
        pods: list[m.JSONObject],
        update: m.JSONObject,
    ) -> None:
        """Rule 6."""
        hashes = {history.hash_of_pod(p) for p in pods}
        live = {m.name_of(r) for r in revisions if history.hash_of(r) in hashes}
        live.add(m.name_of(update))
        for revision in history.surplus(revisions, live, history.history_limit(ds)):
            try:
                await self.client.delete(
                    CONTROLLER_REVISIONS, m.name_of(revision), m.namespace_of(ds)
                )
            except NotFound:
                continue


def _ready(node: m.JSONObject) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False
