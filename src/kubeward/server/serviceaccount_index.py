"""The objects service-account tokens depend on, kept current in memory from storage.

The service-account authenticator is synchronous and runs on every request, so it cannot read
storage; instead it reads this index, which the server keeps equal to storage as
kube-apiserver's informers keep its listers. Rules:

 1. Four kinds are indexed — serviceaccounts, secrets, pods and nodes — and only what the
    token checks read: name, uid, deletionTimestamp, and a Secret's ``type`` and ``data.token``.
 2. The index is filled from one list of each kind before the server serves, then kept current
    by following each kind's watch from that list's revision. When a watch ends, all kinds are
    listed again and the index replaced (deletions missed meanwhile are forgotten).
 3. A deletion reaches the index when the watch delivers it (a few milliseconds after the
    write): that is how quickly deleting a pod revokes its tokens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import NODES, PODS, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.server.watch import Broadcasters, follow_until_one_ends

log = logging.getLogger("kubeward.apiserver.serviceaccounts")

INDEXED_TYPES = (SERVICEACCOUNTS, SECRETS, PODS, NODES)
_RELIST_PAUSE_SECONDS = 1.0


def _summary(obj: m.JSONObject) -> dict[str, Any]:
    meta = m.metadata(obj)
    kept: dict[str, Any] = {
        "metadata": {
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "deletionTimestamp": meta.get("deletionTimestamp"),
        }
    }
    if obj.get("type") == "kubernetes.io/service-account-token":
        kept["type"] = obj["type"]
        kept["data"] = {"token": (obj.get("data") or {}).get("token", "")}
    return kept


class ObjectIndex:
    """An :class:`kubeward.authn.serviceaccount.ObjectLookup` fed by storage (see the rules)."""

    def __init__(self, stores: dict[ResourceType, Store]) -> None:
        self._stores = stores
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            rt.resource: {} for rt in INDEXED_TYPES
        }
        self._revisions: dict[ResourceType, int] = {}

    def get(self, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def apply(self, rt: ResourceType, event_type: str, obj: m.JSONObject) -> None:
        key = (m.namespace_of(obj), m.name_of(obj))
        table = self._objects[rt.resource]
        if event_type == "DELETED":
            table.pop(key, None)
        else:
            table[key] = _summary(obj)

    async def load(self) -> None:
        """Rule 2: replace the index with a fresh list of every kind."""
        for rt in INDEXED_TYPES:
            listed = await self._stores[rt].list("", ListOptions())
            self._revisions[rt] = int(listed["metadata"]["resourceVersion"])
            self._objects[rt.resource] = {
                (m.namespace_of(item), m.name_of(item)): _summary(item) for item in listed["items"]
            }

    def task(self, broadcasters: Broadcasters) -> asyncio.Task[None]:
        """Follow storage (rule 2) through the server's watch broadcasters."""
        return asyncio.create_task(self._keep_current(broadcasters), name="serviceaccount-index")

    async def _follow(self, broadcasters: Broadcasters, rt: ResourceType, revision: int) -> None:
        broadcaster = broadcasters.for_store(self._stores[rt])
        async for event in broadcaster.events(revision):
            self.apply(rt, event.type, event.object)

    async def _keep_current(self, broadcasters: Broadcasters) -> None:
        while True:
            await follow_until_one_ends(
                (self._follow(broadcasters, rt, self._revisions[rt]) for rt in INDEXED_TYPES),
                "service-account index",
            )
            await asyncio.sleep(_RELIST_PAUSE_SECONDS)
            try:
                await self.load()
            except Exception as exc:  # storage trouble: try again after the pause
                log.warning("service-account index relist failed: %s", exc)
