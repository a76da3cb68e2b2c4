"""Priority and fairness in the running server: seeding the configuration and following it.

Rules:
 1. At start, before the server accepts a request, the bootstrap objects are written: created
    when absent; one whose ``apf.kubernetes.io/autoupdate-spec`` annotation is ``"true"`` gets
    the bootstrap spec back if it differs (kube-apiserver's ``priority-and-fairness-config-producer``).
 2. The configuration is fed by one shared informer per kind (``controllers.informer``),
    started after rule 1's writes: ``prepare`` returns once both have listed, and each watch
    event is applied as the informer delivers it (a relist after 410 Gone reports what
    vanished as deleted).
 3. A deleted mandatory object (``exempt``, ``catch-all``) is written again, as upstream.
 4. Each FlowSchema's ``Dangling`` status condition says whether its priority level exists
    (``False``/``Found`` or ``True``/``NotFound``), written through ``/status`` when it changes.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.registry.store import Store
from kubeward.api.resources.flowcontrol import FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS
from kubeward.api.scheme import ResourceType
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import AlreadyExists, Conflict, NotFound
from kubeward.server.flowcontrol import bootstrap
from kubeward.server.flowcontrol.controller import FlowControl

log = logging.getLogger("kubeward.apiserver.flowcontrol")

_KINDS = (FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS)


async def ensure_objects(store: Store, desired: list[dict[str, Any]], *, update: bool) -> int:
    """Rules 1 and 3: create what is missing (and, with ``update``, reset auto-updated specs)."""
    written = 0
    for obj in desired:
        name = m.name_of(obj)
        try:
            existing = await store.get("", name)
        except NotFound:
            try:
                await store.create("", {**obj, "metadata": dict(obj["metadata"])})
                written += 1
            except AlreadyExists:
                pass
            continue
        annotations = m.metadata(existing).get("annotations") or {}
        if not update or annotations.get(bootstrap.AUTOUPDATE_ANNOTATION) != "true":
            continue
        if existing.get("spec") == obj["spec"]:
            continue
        try:
            await store.update("", name, {**existing, "spec": obj["spec"]})
            written += 1
        except (Conflict, NotFound):
            continue
    return written


def dangling_condition(schema: dict[str, Any], levels: dict[str, Any]) -> dict[str, Any]:
    """Rule 4, worded as upstream's configuration controller words it."""
    level = str(
        ((schema.get("spec") or {}).get("priorityLevelConfiguration") or {}).get("name") or ""
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if level in levels:
        return {
            "type": "Dangling",
            "status": "False",
            "lastTransitionTime": now,
            "reason": "Found",
            "message": f'This FlowSchema references the PriorityLevelConfiguration object named "{level}" and it exists',
        }
    return {
        "type": "Dangling",
        "status": "True",
        "lastTransitionTime": now,
        "reason": "NotFound",
        "message": f'This FlowSchema references the PriorityLevelConfiguration object named "{level}" but there is no such object',
    }


class FlowControlWiring:
    def __init__(
        self,
        flow_control: FlowControl,
        stores: dict[ResourceType, Store],
        informers: InformerFactory,
    ) -> None:
        self.flow_control = flow_control
        self.stores = stores
        self.informers = informers
        self._objects: dict[ResourceType, dict[str, dict[str, Any]]] = {rt: {} for rt in _KINDS}
        self._status_stale = asyncio.Event()
        self._mandatory_deleted = asyncio.Event()

    async def prepare(self) -> None:
        """Rules 1 and 2: the bootstrap objects written, then the configuration listed."""
        await ensure_objects(
            self.stores[PRIORITY_LEVEL_CONFIGURATIONS], bootstrap.priority_levels(), update=True
        )
        await ensure_objects(self.stores[FLOW_SCHEMAS], bootstrap.flow_schemas(), update=True)
        # Asked for only now, so that their first list sees the writes above.
        for rt in _KINDS:
            self._follow(rt)
        self.informers.start()
        await self.informers.wait_for_sync(_KINDS)

    def tasks(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._keep_mandatory(), name="flowcontrol-mandatory"),
            asyncio.create_task(self._keep_status(), name="flowcontrol-status"),
        ]

    def _follow(self, rt: ResourceType) -> None:
        """Rule 2 (and 3: a deleted mandatory object is noted for :meth:`_keep_mandatory`)."""
        objects = self._objects[rt]
        mandatory = {
            m.name_of(o)
            for o in {
                FLOW_SCHEMAS: bootstrap.mandatory_flow_schemas(),
                PRIORITY_LEVEL_CONFIGURATIONS: bootstrap.mandatory_priority_levels(),
            }[rt]
        }

        def changed(obj: m.JSONObject) -> None:
            objects[m.name_of(obj)] = obj
            self._apply()

        def updated(old: m.JSONObject, new: m.JSONObject) -> None:
            if old is not new:  # a resync replays the same object: nothing to reconfigure
                changed(new)

        def deleted(obj: m.JSONObject) -> None:
            name = m.name_of(obj)
            objects.pop(name, None)
            self._apply()
            if name in mandatory:
                self._mandatory_deleted.set()

        self.informers.informer(rt).add_event_handler(
            on_add=changed, on_update=updated, on_delete=deleted
        )

    async def _keep_mandatory(self) -> None:
        """Rule 3."""
        while True:
            await self._mandatory_deleted.wait()
            self._mandatory_deleted.clear()
            try:
                await ensure_objects(
                    self.stores[PRIORITY_LEVEL_CONFIGURATIONS],
                    bootstrap.mandatory_priority_levels(),
                    update=False,
                )
                await ensure_objects(
                    self.stores[FLOW_SCHEMAS], bootstrap.mandatory_flow_schemas(), update=False
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # storage trouble: the next deletion retries
                log.warning("priority and fairness: mandatory objects not restored: %s", exc)

    def _apply(self) -> None:
        self.flow_control.configure(
            self._objects[FLOW_SCHEMAS].values(),
            self._objects[PRIORITY_LEVEL_CONFIGURATIONS].values(),
        )
        self._status_stale.set()

    def _stale_schemas(self) -> list[tuple[str, dict[str, Any]]]:
        """Rule 4: the schemas whose Dangling condition is not what it should be."""
        levels = self._objects[PRIORITY_LEVEL_CONFIGURATIONS]
        stale = []
        for name, schema in self._objects[FLOW_SCHEMAS].items():
            wanted = dangling_condition(schema, levels)
            conditions = (schema.get("status") or {}).get("conditions") or []
            current = next(
                (c for c in conditions if isinstance(c, dict) and c.get("type") == "Dangling"),
                None,
            )
            if current is None or any(
                current.get(k) != wanted[k] for k in ("status", "reason", "message")
            ):
                stale.append((name, wanted))
        return stale

    async def _keep_status(self) -> None:
        store = self.stores[FLOW_SCHEMAS]
        while True:
            await self._status_stale.wait()
            self._status_stale.clear()
            for name, condition in self._stale_schemas():

                def set_condition(
                    obj: m.JSONObject, condition: dict[str, Any] = condition
                ) -> m.JSONObject:
                    status = obj.setdefault("status", {})
                    kept = [
                        c for c in status.get("conditions") or [] if c.get("type") != "Dangling"
                    ]
                    status["conditions"] = [*kept, condition]
                    return obj

                try:
                    await store.guaranteed_update("", name, set_condition, subresource="status")
                except asyncio.CancelledError:
                    raise
                except (
                    Exception
                ) as exc:  # gone meanwhile, or storage trouble: the next change retries
                    log.debug("FlowSchema %s status not written: %s", name, exc)
