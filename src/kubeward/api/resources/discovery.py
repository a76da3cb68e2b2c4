"""discovery.k8s.io/v1 EndpointSlice: stored and validated; the endpointslice controller (in the
controller-manager) is what writes them for Services."""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import endpoints as ev
from kubeward.errors import Cause

ENDPOINT_SLICES = ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True)
TYPES = (ENDPOINT_SLICES,)


class EndpointSliceStrategy(Strategy):
    # Any change to what a slice lists is a new generation, as upstream's strategy counts it.
    generation_fields = ("addressType", "endpoints", "ports")

    def default(self, obj: JSONObject) -> None:
        for port in obj.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("name", "")

    def validate(self, obj: JSONObject) -> list[Cause]:
        return ev.validate_endpoint_slice(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return ev.validate_endpoint_slice_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {ENDPOINT_SLICES: EndpointSliceStrategy}
