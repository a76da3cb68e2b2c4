"""The scale of any controller that has a ``scale`` subresource, as client-go's scale client
reads it through a REST mapper (the disruption controller's ``getScaleController``).

Rules:

 1. An owner reference's ``apiVersion`` and ``kind`` are mapped to a resource through the
    API server's discovery document of that group version: the resource of that kind (not a
    subresource) that also serves ``<resource>/scale``. Mappings are remembered; a kind
    without one (or a group version that cannot be read) is no controller this finder knows.
 2. The ``autoscaling/v1`` Scale is read with the caller's client (``get`` on ``*/scale``);
    a missing object, or one whose uid is not the reference's, is no controller either.
    Other failures propagate, so the caller retries.
"""

from __future__ import annotations

from typing import Any

from kubeward.api import meta as m
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError, NotFound


class ScaleReader:
    def __init__(self, client: APIClient) -> None:
        self.client = client
        self._mappings: dict[tuple[str, str], ResourceType | None] = {}

    async def mapping(self, api_version: str, kind: str) -> ResourceType | None:
        """Rule 1."""
        key = (api_version, kind)
        if key in self._mappings:
            return self._mappings[key]
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        try:
            document: dict[str, Any] = await self.client.request("GET", path)
        except KubewardError:
            return None  # not remembered: the group may be served later
        names = {str(e.get("name") or "") for e in document.get("resources") or []}
        found = None
        for entry in document.get("resources") or []:
            name = str(entry.get("name") or "")
            if entry.get("kind") == kind and "/" not in name and f"{name}/scale" in names:
                found = ResourceType(group, version, kind, name, bool(entry.get("namespaced")))
                break
        self._mappings[key] = found
        return found

    async def scale(self, ref: m.JSONObject, namespace: str) -> tuple[str, int] | None:
        """Rule 2: (uid, spec.replicas) of the referenced controller, or None."""
        rt = await self.mapping(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""))
        if rt is None:
            return None
        path = self.client.path(rt, namespace, str(ref.get("name") or ""), "scale")
        try:
            scale: dict[str, Any] = await self.client.request("GET", path)
        except NotFound:
            return None
        uid = str(m.metadata(scale).get("uid") or "")
        if uid != ref.get("uid"):
            return None
        return uid, int((scale.get("spec") or {}).get("replicas") or 0)
