"""The objects service-account tokens depend on, kept current in memory from storage.

The service-account authenticator is synchronous and runs on every request, so it cannot read
storage; instead it reads this index, which the server keeps equal to storage as
kube-apiserver's informers keep its listers. Rules:

 1. Four kinds are indexed — serviceaccounts, secrets, pods and nodes — and only what the
    token checks read: name, uid, deletionTimestamp, and a Secret's ``type`` and ``data.token``.
 2. The index is fed by one shared informer per kind (``controllers.informer``) over the
    server's own store. The server waits for their first lists before it serves; after that
    each watch event, and each relist after 410 Gone, updates the index.
 3. A deletion reaches the index when the watch delivers it (a few milliseconds after the
    write): that is how quickly deleting a pod revokes its tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import NODES, PODS, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.controllers.factory import InformerFactory

INDEXED_TYPES = (SERVICEACCOUNTS, SECRETS, PODS, NODES)


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
    """An :class:`kubeward.authn.serviceaccount.ObjectLookup` fed by informers (see the rules)."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            rt.resource: {} for rt in INDEXED_TYPES
        }
        self._informers: InformerFactory | None = None

    def get(self, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def apply(self, rt: ResourceType, event_type: str, obj: m.JSONObject) -> None:
        key = (m.namespace_of(obj), m.name_of(obj))
        table = self._objects[rt.resource]
        if event_type == "DELETED":
            table.pop(key, None)
        else:
            table[key] = _summary(obj)

    def follow(self, informers: InformerFactory) -> None:
        """Rule 2: add this index's handlers to the four kinds' informers."""
        self._informers = informers
        for rt in INDEXED_TYPES:
            self._feed_from(informers, rt)

    def _feed_from(self, informers: InformerFactory, rt: ResourceType) -> None:
        informers.informer(rt).add_event_handler(
            on_add=lambda obj: self.apply(rt, "ADDED", obj),
            on_update=lambda _old, new: self.apply(rt, "MODIFIED", new),
            on_delete=lambda obj: self.apply(rt, "DELETED", obj),
        )

    async def wait_for_sync(self) -> None:
        """Rule 2: start the informers (if not yet) and wait for their first lists."""
        if self._informers is None:
            raise RuntimeError("ObjectIndex.follow() was not called")
        self._informers.start()
        await self._informers.wait_for_sync(INDEXED_TYPES)
