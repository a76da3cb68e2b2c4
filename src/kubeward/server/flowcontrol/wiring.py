"""Priority and fairness in the running server: seeding the configuration and following it.

Rules:
 1. At start, before the server accepts a request, the bootstrap objects are written: created
    when absent; one whose ``apf.kubernetes.io/autoupdate-spec`` annotation is ``"true"`` gets
    the bootstrap spec back if it differs (kube-apiserver's ``priority-and-fairness-config-producer``).
 2. The configuration is read from one list of each kind, then kept current by following their
    watches: every change is applied before the next request is classified. If a watch ends,
    both kinds are listed again.
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
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.flowcontrol import FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS
from kubeward.api.scheme import ResourceType
from kubeward.errors import AlreadyExists, Conflict, NotFound
from kubeward.server.flowcontrol import bootstrap
from kubeward.server.flowcontrol.controller import FlowControl
from kubeward.server.watch import Broadcasters, follow_until_one_ends

log = logging.getLogger("kubeward.apiserver.flowcontrol")

_KINDS = (FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS)
_RELIST_PAUSE_SECONDS = 1.0


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
        broadcasters: Broadcasters,
    ) -> None:
        self.flow_control = flow_control
        self.stores = stores
        self.broadcasters = broadcasters
        self._objects: dict[ResourceType, dict[str, dict[str, Any]]] = {rt: {} for rt in _KINDS}
        self._revisions: dict[ResourceType, int] = {}
        self._status_stale = asyncio.Event()

    async def prepare(self) -> None:
        await ensure_objects(
            self.stores[PRIORITY_LEVEL_CONFIGURATIONS], bootstrap.priority_levels(), update=True
        )
        await ensure_objects(self.stores[FLOW_SCHEMAS], bootstrap.flow_schemas(), update=True)
        await self._load()

    def tasks(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._keep_current(), name="flowcontrol-config"),
            asyncio.create_task(self._keep_status(), name="flowcontrol-status"),
        ]

    async def _load(self) -> None:
        for rt in _KINDS:
            listed = await self.stores[rt].list("", ListOptions())
            self._revisions[rt] = int(listed["metadata"]["resourceVersion"])
            self._objects[rt] = {m.name_of(item): item for item in listed["items"]}
        self._apply()

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

    async def _follow(self, rt: ResourceType, revision: int) -> None:
        broadcaster = self.broadcasters.for_store(self.stores[rt])
        mandatory = {
            FLOW_SCHEMAS: bootstrap.mandatory_flow_schemas(),
            PRIORITY_LEVEL_CONFIGURATIONS: bootstrap.mandatory_priority_levels(),
        }[rt]
        async for event in broadcaster.events(revision):
            name = m.name_of(event.object)
            if event.type == "DELETED":
                self._objects[rt].pop(name, None)
            elif event.type in ("ADDED", "MODIFIED"):
                self._objects[rt][name] = event.object
            else:
                continue
            self._apply()
            if event.type == "DELETED" and any(m.name_of(o) == name for o in mandatory):
                await ensure_objects(self.stores[rt], mandatory, update=False)

    async def _keep_current(self) -> None:
        while True:
            await follow_until_one_ends(
                (self._follow(rt, self._revisions[rt]) for rt in _KINDS), "priority and fairness"
            )
            await asyncio.sleep(_RELIST_PAUSE_SECONDS)
            try:
                await self._load()
            except Exception as exc:  # storage trouble: try again after the pause
                log.warning("priority and fairness relist failed: %s", exc)
