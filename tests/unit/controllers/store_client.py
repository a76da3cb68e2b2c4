"""A fake of kubeward's own client seam for the controllers that moved out of the API server:
:class:`~kubeward.client.api.APIClient`'s verbs straight over the server's stores (memory
backend), recording each write, so a controller's scenario reads as it did in-process."""

from __future__ import annotations

from typing import Any, cast

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources import build_scheme
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import Forbidden
from kubeward.storage.memory import MemoryBackend


async def memory_stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    return {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


class StoreClient:
    """The verbs controllers use; ``refuse`` names resources whose writes answer 403."""

    path = staticmethod(APIClient.path)

    def __init__(self, stores: dict[ResourceType, Store], *, refuse: tuple[str, ...] = ()) -> None:
        self.stores = stores
        self.refuse = refuse
        self.writes: list[tuple[str, str, str]] = []  # (verb, resource[/subresource], name)

    def as_client(self) -> APIClient:
        return cast(APIClient, self)

    def _write(self, verb: str, rt: ResourceType, name: str, subresource: str = "") -> None:
        resource = f"{rt.resource}/{subresource}" if subresource else rt.resource
        if rt.resource in self.refuse:
            raise Forbidden(f'{resource} "{name}" is forbidden: refused by the test')
        self.writes.append((verb, resource, name))

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> m.JSONObject:
        return await self.stores[rt].get(namespace, name)

    async def list(
        self, rt: ResourceType, namespace: str = "", params: dict[str, str] | None = None
    ) -> m.JSONObject:
        limit = int((params or {}).get("limit", "0"))
        return await self.stores[rt].list(namespace, ListOptions(limit=limit))

    async def create(self, rt: ResourceType, obj: m.JSONObject, namespace: str = "") -> Any:
        self._write("create", rt, m.name_of(obj))
        return await self.stores[rt].create(namespace, obj)

    async def update(
        self, rt: ResourceType, obj: m.JSONObject, *, namespace: str = "", subresource: str = ""
    ) -> Any:
        self._write("update", rt, m.name_of(obj), subresource)
        return await self.stores[rt].update(namespace, m.name_of(obj), obj, subresource=subresource)

    async def delete(
        self, rt: ResourceType, name: str, namespace: str = "", *, uid: str = "", **_: Any
    ) -> Any:
        self._write("delete", rt, name)
        return await self.stores[rt].delete(namespace, name, precondition_uid=uid)

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        """Only deletecollection: DELETE on a collection's path."""
        assert method == "DELETE", (method, path)
        for rt, store in self.stores.items():
            for namespace in self._namespaces_of(rt, path):
                self._write("deletecollection", rt, namespace)
                listed = await store.list(namespace, ListOptions())
                for item in listed["items"]:
                    if not m.metadata(item).get("deletionTimestamp"):
                        await store.delete(namespace, m.name_of(item))
                return {}
        raise AssertionError(f"no collection at {path}")

    def _namespaces_of(self, rt: ResourceType, path: str) -> list[str]:
        prefix = self.path(rt)
        if path == prefix:
            return [""]
        head, _, tail = prefix.rpartition("/")
        if rt.namespaced and path.startswith(f"{head}/namespaces/") and path.endswith(f"/{tail}"):
            namespace = path[len(f"{head}/namespaces/") : -len(f"/{tail}")]
            if "/" not in namespace:
                return [namespace]
        return []
