"""Fakes of kubeward's own seams for the workload controllers' unit tests: a static informer
source and a recording APIClient."""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from typing import Any, cast

from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import Listed, SourceEvent
from kubeward.errors import Forbidden

_uids = itertools.count(1)


class StaticSource:
    """Lists the given objects; its watch never yields."""

    def __init__(self, rt: ResourceType, items: list[dict[str, Any]]) -> None:
        self.rt = rt
        self.items = items

    @property
    def resource_type(self) -> ResourceType:
        return self.rt

    async def list(self) -> Listed:
        return Listed(copy.deepcopy(self.items), "1")

    async def watch(self, resource_version: str) -> AsyncIterator[SourceEvent]:
        return
        yield  # pragma: no cover


async def seeded(rt: ResourceType, items: list[dict[str, Any]]) -> Informer:
    """An informer that has listed ``items`` (its first list, as after a sync)."""
    informer = Informer(StaticSource(rt, items), resync=0)
    await informer._list()
    return informer


class RecordingClient:
    """Records every write; ``refuse`` makes creates of that resource fail with 403."""

    def __init__(self, refuse: str = "") -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.generated: list[str] = []
        self.refuse = refuse

    def as_client(self) -> APIClient:
        return cast(APIClient, self)

    async def create(self, rt: ResourceType, obj: dict[str, Any], namespace: str = "") -> Any:
        if rt.resource == "events":  # recorded apart: they are the controllers' side channel
            self.events.append(obj)
            return obj
        if rt.resource == self.refuse:
            raise Forbidden(f'{rt.resource} is forbidden: User "x" cannot create resource')
        self.calls.append(("create", rt.resource, obj))
        created = copy.deepcopy(obj)
        created["metadata"].setdefault("uid", f"uid-{next(_uids)}")
        # generated names are unique, as the server makes them: web-x, web-x1, web-x2, ...
        generated = created["metadata"].get("generateName", "") + "x"
        if generated in self.generated:
            generated += str(len(self.generated))
        if "name" not in created["metadata"]:
            self.generated.append(generated)
        created["metadata"].setdefault("name", generated)
        return created

    async def update(
        self, rt: ResourceType, obj: dict[str, Any], *, namespace: str = "", subresource: str = ""
    ) -> Any:
        self.calls.append(("update" + (f"/{subresource}" if subresource else ""), rt.resource, obj))
        return copy.deepcopy(obj)

    async def patch(
        self, rt: ResourceType, name: str, patch: Any, *, namespace: str = "", **_: Any
    ) -> Any:
        self.calls.append(("patch", f"{rt.resource}/{name}", patch))
        return {}

    async def delete(self, rt: ResourceType, name: str, namespace: str = "", **options: Any) -> Any:
        self.calls.append(("delete", f"{rt.resource}/{name}", options))
        return {}

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> Any:
        from kubeward.errors import NotFound

        raise NotFound(f'{rt.resource} "{name}" not found')

    def of(self, verb: str) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] == verb]
