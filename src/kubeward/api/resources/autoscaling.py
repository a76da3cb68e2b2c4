"""autoscaling/v2 and autoscaling/v1 horizontalpodautoscalers (``api.validation.autoscaling``).

Both versions serve one stored object: the v2 form is stored, and the v1 view is converted in
and out (``api.autoscaling_v1``), so ``kubectl autoscale`` (which writes v1) and ``kubectl get
hpa`` (which reads v2) see the same HPA. A v1 write is validated in its v2 form, as upstream
validates the internal type; v2 is the preferred version.
"""

from __future__ import annotations

from kubeward.api.autoscaling_v1 import to_v1, to_v2
from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import autoscaling as v
from kubeward.errors import Cause

HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    True,
    short_names=("hpa",),
    categories=("all",),
    subresources=(Subresource("status", "HorizontalPodAutoscaler", ("get", "patch", "update")),),
)
HORIZONTAL_POD_AUTOSCALERS_V1 = ResourceType(
    "autoscaling",
    "v1",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    True,
    short_names=("hpa",),
    categories=("all",),
    subresources=(Subresource("status", "HorizontalPodAutoscaler", ("get", "patch", "update")),),
)
TYPES = (HORIZONTAL_POD_AUTOSCALERS, HORIZONTAL_POD_AUTOSCALERS_V1)


class HorizontalPodAutoscalerStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"desiredReplicas": 0}  # not omitempty in Go

    def default(self, obj: JSONObject) -> None:
        v.default_hpa(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_hpa(obj)


class HorizontalPodAutoscalerV1Strategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"currentReplicas": 0, "desiredReplicas": 0}  # not omitempty in v1

    def default(self, obj: JSONObject) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("minReplicas", 1)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_hpa(to_v2(obj))

    def to_storage(self, obj: JSONObject) -> JSONObject:
        return to_v2(obj)

    def from_storage(self, obj: JSONObject) -> JSONObject:
        return to_v1(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    HORIZONTAL_POD_AUTOSCALERS: HorizontalPodAutoscalerStrategy,
    HORIZONTAL_POD_AUTOSCALERS_V1: HorizontalPodAutoscalerV1Strategy,
}
