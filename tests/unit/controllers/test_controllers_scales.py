"""Reading a controller's scale through discovery and its ``scale`` subresource."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from kubeward.client.api import APIClient
from kubeward.controllers.scales import ScaleReader
from kubeward.errors import NotFound

DISCOVERY = {
    "resources": [
        {"name": "widgets", "kind": "Widget", "namespaced": True},
        {"name": "widgets/scale", "kind": "Scale", "namespaced": True},
        {"name": "gadgets", "kind": "Gadget", "namespaced": True},
    ]
}


class FakeClient:
    path = staticmethod(APIClient.path)

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def request(self, method: str, path: str, **_: Any) -> Any:
        self.asked.append(path)
        if path == "/apis/example.com/v1":
            return DISCOVERY
        if path == "/apis/example.com/v1/namespaces/ns/widgets/w/scale":
            return {"kind": "Scale", "metadata": {"uid": "uid-w"}, "spec": {"replicas": 4}}
        raise NotFound(f"{path} not found")


def ref(kind: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": kind, "name": name, "uid": uid}


def test_a_kind_with_a_scale_subresource_is_read_and_the_mapping_remembered() -> None:
    fake = FakeClient()
    reader = ScaleReader(cast(APIClient, fake))

    async def go() -> list[Any]:
        return [
            await reader.scale(ref("Widget", "w", "uid-w"), "ns"),
            await reader.scale(ref("Widget", "w", "other-uid"), "ns"),
            await reader.scale(ref("Widget", "gone", "uid-g"), "ns"),
            await reader.scale(ref("Gadget", "g", "uid-g"), "ns"),
        ]

    assert asyncio.run(go()) == [("uid-w", 4), None, None, None]
    assert fake.asked.count("/apis/example.com/v1") == 2  # once per kind
