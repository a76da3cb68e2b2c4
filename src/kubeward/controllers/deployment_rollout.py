"""One pass of the deployment controller over one Deployment: the steps of its rules 2-7
(``pkg/controller/deployment``'s ``sync.go``, ``rolling.go``, ``recreate.go``, ``progress.go``).

A :class:`Rollout` holds a working copy of the Deployment and of its claimed ReplicaSets and
replaces each with the API server's answer after every write, so that later writes of the
same pass carry fresh resourceVersions.
"""

from __future__ import annotations

import copy
from typing import Protocol

from kubeward.api import meta as m
from kubeward.api.resources.apps import DEPLOYMENTS, REPLICA_SETS
from kubeward.controllers import deployment_util as u
from kubeward.controllers import ownership
from kubeward.errors import AlreadyExists, Conflict


class Writer(Protocol):
    async def update_rs(self, rs: m.JSONObject) -> m.JSONObject: ...

    async def create_rs(self, rs: m.JSONObject) -> m.JSONObject: ...

    async def get_rs(self, namespace: str, name: str) -> m.JSONObject: ...

    async def delete_rs(self, rs: m.JSONObject) -> None: ...

    async def update_deployment(self, d: m.JSONObject, *, status: bool) -> m.JSONObject: ...

    def pods_of(self, rs: m.JSONObject) -> list[m.JSONObject]: ...

    def scaled(self, d: m.JSONObject, rs: m.JSONObject, before: int, after: int) -> None: ...


def _created(rs: m.JSONObject) -> str:
    return str(m.metadata(rs).get("creationTimestamp") or "")


class Rollout:
    def __init__(self, writer: Writer, d: m.JSONObject, replica_sets: list[m.JSONObject]) -> None:
        self.w = writer
        self.d = d
        self.sets = sorted(replica_sets, key=lambda rs: (_created(rs), m.name_of(rs)))

    # --- the ReplicaSets ------------------------------------------------------------------
    def new_rs(self) -> m.JSONObject | None:
        template = u.spec(self.d).get("template") or {}
        for rs in self.sets:
            if u.equal_ignore_hash(u.spec(rs).get("template") or {}, template):
                return rs
        return None

    def old_sets(self) -> list[m.JSONObject]:
        new = self.new_rs()
        return [rs for rs in self.sets if rs is not new]

    def _replace(self, old: m.JSONObject, new: m.JSONObject) -> None:
        self.sets = [new if rs is old else rs for rs in self.sets]

    async def scale(self, rs: m.JSONObject, count: int) -> bool:
        """``scaleReplicaSet``: resize and stamp the desired/max annotations; True if written."""
        surge = u.fenceposts(self.d)[0]
        wanted = {
            u.DESIRED_REPLICAS: str(u.replicas(self.d)),
            u.MAX_REPLICAS: str(u.replicas(self.d) + surge),
        }
        annotations = m.metadata(rs).get("annotations") or {}
        if u.replicas(rs) == count and all(annotations.get(k) == v for k, v in wanted.items()):
            return False
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = count
        m.metadata(updated).setdefault("annotations", {}).update(wanted)
        self._replace(rs, await self.w.update_rs(updated))
        before = u.replicas(rs)
        if before != count:
            self.w.scaled(self.d, rs, before, count)
        return before != count

    async def sync_revision(self, create: bool) -> m.JSONObject | None:
        """``getAllReplicaSetsAndSyncRevision``: the new ReplicaSet, with its revision."""
        old = self.old_sets()
        new_revision = max((u.revision(rs) for rs in old), default=0) + 1
        new = self.new_rs()
        if new is not None:
            new = await self._stamp_revision(new, new_revision)
            if u.condition(self.d.get("status") or {}, u.PROGRESSING) is None and (
                u.progress_deadline(self.d) is not None
            ):
                status = copy.deepcopy(self.d.get("status") or {})
                message = f'Found new replica set "{m.name_of(new)}"'
                u.set_condition(
                    status, u.new_condition(u.PROGRESSING, "True", u.FOUND_NEW_RS, message)
                )
                await self._write_status(status)
        elif create:
            new = await self._create_new(new_revision)
        if new is not None and self._set_revision(str(u.revision(new))):
            self.d = await self.w.update_deployment(self.d, status=False)
        return new

    def _set_revision(self, revision: str) -> bool:
        annotations = m.metadata(self.d).setdefault("annotations", {})
        if annotations.get(u.REVISION) == revision:
            return False
        annotations[u.REVISION] = revision
        return True

    async def _stamp_revision(self, rs: m.JSONObject, new_revision: int) -> m.JSONObject:
        updated = copy.deepcopy(rs)
        meta = m.metadata(updated)
        annotations = meta.setdefault("annotations", {})
        changed = False
        current = u.revision(rs)
        if current < new_revision:
            if current:
                history = [h for h in str(annotations.get(u.REVISION_HISTORY, "")).split(",") if h]
                annotations[u.REVISION_HISTORY] = ",".join([*history, str(current)])
            annotations[u.REVISION] = str(new_revision)
            changed = True
        for k, v in u.copyable_annotations(self.d).items():
            if annotations.get(k) != v:
                annotations[k] = v
                changed = True
        min_ready = u.spec(self.d).get("minReadySeconds", 0)
        if u.spec(updated).get("minReadySeconds", 0) != min_ready:
            updated["spec"]["minReadySeconds"] = min_ready
            changed = True
        if not changed:
            return rs
        fresh = await self.w.update_rs(updated)
        self._replace(rs, fresh)
        return fresh

    async def _create_new(self, new_revision: int) -> m.JSONObject:
        d_spec = u.spec(self.d)
        collisions = (self.d.get("status") or {}).get("collisionCount")
        template = copy.deepcopy(d_spec.get("template") or {})
        hash_ = u.template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[u.HASH_LABEL] = hash_
        selector = copy.deepcopy(d_spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[u.HASH_LABEL] = hash_
        desired = u.replicas(self.d)
        surge = u.fenceposts(self.d)[0]
        annotations = {
            **u.copyable_annotations(self.d),
            u.REVISION: str(new_revision),
            u.DESIRED_REPLICAS: str(desired),
            u.MAX_REPLICAS: str(desired + surge),
        }
        rs: m.JSONObject = {
            "apiVersion": REPLICA_SETS.api_version,
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{m.name_of(self.d)}-{hash_}",
                "namespace": m.namespace_of(self.d),
                "labels": dict(template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [ownership.new_controller_ref(self.d, DEPLOYMENTS)],
            },
            "spec": {
                "replicas": self._new_replicas(None),
                "minReadySeconds": d_spec.get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            created = await self.w.create_rs(rs)
        except AlreadyExists:
            existing = await self.w.get_rs(m.namespace_of(self.d), m.name_of(rs))
            ref = ownership.controller_ref(existing) or {}
            same = u.equal_ignore_hash(
                u.spec(existing).get("template") or {}, d_spec.get("template") or {}
            )
            if ref.get("uid") == ownership.uid_of(self.d) and same:
                self.sets.append(existing)
                return existing
            status = copy.deepcopy(self.d.get("status") or {})
            status["collisionCount"] = int(collisions or 0) + 1
            await self._write_status(status)
            raise Conflict(f'replica set "{m.name_of(rs)}" exists: hash collision') from None
        self.sets.append(created)
        if u.replicas(created) > 0:
            self.w.scaled(self.d, created, 0, u.replicas(created))
        if u.progress_deadline(self.d) is not None:
            status = copy.deepcopy(self.d.get("status") or {})
            message = f'Created new replica set "{m.name_of(created)}"'
            u.set_condition(
                status, u.new_condition(u.PROGRESSING, "True", u.NEW_RS_CREATED, message)
            )
            await self._write_status(status)
        return created

    def _new_replicas(self, new: m.JSONObject | None) -> int:
        """``NewRSNewReplicas``."""
        desired = u.replicas(self.d)
        if (u.spec(self.d).get("strategy") or {}).get("type") == "Recreate":
            return desired
        current_new = u.replicas(new) if new is not None else 0
        surge = u.fenceposts(self.d)[0]
        current = sum(u.replicas(rs) for rs in self.sets)
        max_total = desired + surge
        if current >= max_total:
            return current_new
        return current_new + max(0, min(max_total - current, desired - current_new))

    async def _write_status(self, status: m.JSONObject) -> None:
        updated = copy.deepcopy(self.d)
        updated["status"] = status
        self.d = await self.w.update_deployment(updated, status=True)

    # --- paused and scaling (rules 2 and 3) -----------------------------------------------
    async def check_paused_conditions(self) -> None:
        if u.progress_deadline(self.d) is None:
            return
        status = copy.deepcopy(self.d.get("status") or {})
        cond = u.condition(status, u.PROGRESSING)
        if cond is not None and cond.get("reason") == u.TIMED_OUT:
            return
        paused = bool(u.spec(self.d).get("paused"))
        shows_paused = cond is not None and cond.get("reason") == u.PAUSED
        if paused and not shows_paused:
            new = u.new_condition(u.PROGRESSING, "Unknown", u.PAUSED, "Deployment is paused")
        elif not paused and shows_paused:
            new = u.new_condition(u.PROGRESSING, "Unknown", u.RESUMED, "Deployment is resumed")
        else:
            return
        u.set_condition(status, new)
        await self._write_status(status)

    def is_scaling_event(self) -> bool:
        desired = str(u.replicas(self.d))
        for rs in self.sets:
            if u.replicas(rs) <= 0:
                continue
            wanted = (m.metadata(rs).get("annotations") or {}).get(u.DESIRED_REPLICAS)
            if wanted is not None and wanted != desired:
                return True
        return False

    async def sync(self) -> None:
        """``sync``: scale (rule 3), clean up when paused, write the status."""
        new = await self.sync_revision(create=False)
        await self._scale_all(new)
        if u.spec(self.d).get("paused"):
            await self.cleanup()
        await self.sync_status()

    async def _scale_all(self, new: m.JSONObject | None) -> None:
        desired = u.replicas(self.d)
        active = [rs for rs in self.sets if u.replicas(rs) > 0]
        if len(active) <= 1:
            latest = active[0] if active else (new or (self.sets[-1] if self.sets else None))
            if latest is not None:
                await self.scale(latest, desired)
            return
        if (
            new is not None
            and u.replicas(new) == desired
            and u.status_int(new, "availableReplicas") == desired
        ):
            for rs in self.old_sets():
                await self.scale(rs, 0)
            return
        if (u.spec(self.d).get("strategy") or {}).get("type") == "Recreate":
            return
        allowed = desired + u.fenceposts(self.d)[0]
        total = sum(u.replicas(rs) for rs in active)
        to_add = allowed - total
        if to_add == 0:
            return
        # Proportional scaling: each active ReplicaSet gets its share of the change, the
        # rounding leftover goes to the largest (newest first when growing).
        order = sorted(active, key=lambda rs: (u.replicas(rs), _created(rs)), reverse=to_add > 0)
        sizes = {id(rs): u.replicas(rs) for rs in order}
        given = 0
        for rs in order:
            share = int(to_add * u.replicas(rs) / total)
            sizes[id(rs)] += share
            given += share
        sizes[id(order[0])] += to_add - given
        for rs in order:
            await self.scale(rs, max(0, sizes[id(rs)]))

    # --- rolling update (rule 4) ----------------------------------------------------------
    async def rolling(self) -> float | None:
        new = await self.sync_revision(create=True)
        assert new is not None
        if await self._reconcile_new(new):
            return await self.sync_rollout_status()
        if await self._reconcile_old():
            return await self.sync_rollout_status()
        status = u.calculate_status(self.d, self.sets, self.new_rs())
        if u.is_complete(self.d, status):
            await self.cleanup()
        return await self.sync_rollout_status()

    async def _reconcile_new(self, new: m.JSONObject) -> bool:
        desired = u.replicas(self.d)
        if u.replicas(new) == desired:
            return False
        if u.replicas(new) > desired:
            return await self.scale(new, desired)
        return await self.scale(new, self._new_replicas(new))

    async def _reconcile_old(self) -> bool:
        new = self.new_rs()
        old = [rs for rs in self.old_sets() if u.replicas(rs) > 0]
        if not old:
            return False
        desired = u.replicas(self.d)
        min_available = desired - u.max_unavailable(self.d)
        all_pods = sum(u.replicas(rs) for rs in self.sets)
        new_unavailable = (
            u.replicas(new) - u.status_int(new, "availableReplicas") if new is not None else 0
        )
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return False
        cleaned = 0
        for rs in sorted(old, key=_created):
            if cleaned >= budget:
                break
            unhealthy = u.replicas(rs) - u.status_int(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            count = min(budget - cleaned, unhealthy)
            await self.scale(rs, u.replicas(rs) - count)
            cleaned += count
        if cleaned:
            return True
        available = sum(u.status_int(rs, "availableReplicas") for rs in self.sets)
        if available <= min_available:
            return False
        total = available - min_available
        scaled = 0
        for rs in sorted((r for r in self.old_sets() if u.replicas(r) > 0), key=_created):
            if scaled >= total:
                break
            count = min(u.replicas(rs), total - scaled)
            await self.scale(rs, u.replicas(rs) - count)
            scaled += count
        return scaled > 0

    # --- recreate (rule 5) ----------------------------------------------------------------
    async def recreate(self) -> float | None:
        new = await self.sync_revision(create=False)
        scaled = False
        for rs in [r for r in self.old_sets() if u.replicas(r) > 0]:
            scaled = await self.scale(rs, 0) or scaled
        if scaled:
            return await self.sync_rollout_status()
        if self._old_pods_running():
            return await self.sync_rollout_status()
        if new is None:
            new = await self.sync_revision(create=True)
        assert new is not None
        await self.scale(self.new_rs() or new, u.replicas(self.d))
        status = u.calculate_status(self.d, self.sets, self.new_rs())
        if u.is_complete(self.d, status):
            await self.cleanup()
        return await self.sync_rollout_status()

    def _old_pods_running(self) -> bool:
        for rs in self.old_sets():
            if u.status_int(rs, "replicas") > 0:
                return True
            for pod in self.w.pods_of(rs):
                if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                    return True
        return False

    # --- history and status (rules 6 and 7) -----------------------------------------------
    async def cleanup(self) -> None:
        limit = u.spec(self.d).get("revisionHistoryLimit")
        if not isinstance(limit, int):
            return
        alive = [rs for rs in self.old_sets() if not ownership.is_deleting(rs)]
        diff = len(alive) - limit
        for rs in sorted(alive, key=u.revision)[: max(diff, 0)]:
            observed = int((rs.get("status") or {}).get("observedGeneration") or 0)
            if (
                u.status_int(rs, "replicas") != 0
                or u.replicas(rs) != 0
                or int(m.metadata(rs).get("generation") or 1) > observed
            ):
                continue
            await self.w.delete_rs(rs)

    async def sync_status(self) -> None:
        """``syncDeploymentStatus``."""
        status = u.calculate_status(self.d, self.sets, self.new_rs())
        if status != (self.d.get("status") or {}):
            await self._write_status(status)

    async def sync_rollout_status(self) -> float | None:
        """``syncRolloutStatus`` (rule 7); the delay before the deadline should be checked."""
        new = self.new_rs()
        name = m.name_of(new) if new is not None else ""
        status = u.calculate_status(self.d, self.sets, new)
        if u.progress_deadline(self.d) is None:
            u.remove_condition(status, u.PROGRESSING)
        cond = u.condition(status, u.PROGRESSING)
        complete_before = (
            status.get("replicas") == status.get("updatedReplicas")
            and cond is not None
            and cond.get("reason") == u.NEW_RS_AVAILABLE
        )
        if u.progress_deadline(self.d) is not None and not complete_before:
            if u.is_complete(self.d, status):
                message = f'ReplicaSet "{name}" has successfully progressed.'
                u.set_condition(
                    status, u.new_condition(u.PROGRESSING, "True", u.NEW_RS_AVAILABLE, message)
                )
            elif u.is_progressing(self.d, status):
                new_cond = u.new_condition(
                    u.PROGRESSING, "True", u.RS_UPDATED, f'ReplicaSet "{name}" is progressing.'
                )
                if cond is not None and cond.get("status") == "True":
                    new_cond["lastTransitionTime"] = cond.get("lastTransitionTime")
                    u.remove_condition(status, u.PROGRESSING)
                u.set_condition(status, new_cond)
            elif (left := u.seconds_to_deadline(self.d, status)) is not None and left <= 0:
                message = f'ReplicaSet "{name}" has timed out progressing.'
                u.set_condition(
                    status, u.new_condition(u.PROGRESSING, "False", u.TIMED_OUT, message)
                )
        failures = [
            c
            for rs in self.sets
            for c in (rs.get("status") or {}).get("conditions") or []
            if c.get("type") == u.REPLICA_FAILURE
        ]
        if failures:
            first = failures[0]
            u.set_condition(
                status,
                u.new_condition(
                    u.REPLICA_FAILURE,
                    str(first.get("status", "True")),
                    str(first.get("reason", "")),
                    str(first.get("message", "")),
                ),
            )
        else:
            u.remove_condition(status, u.REPLICA_FAILURE)
        if status != (self.d.get("status") or {}):
            await self._write_status(status)
        if u.is_complete(self.d, status):
            return None
        left = u.seconds_to_deadline(self.d, self.d.get("status") or {})
        return None if left is None or left <= 0 else left + 0.5
