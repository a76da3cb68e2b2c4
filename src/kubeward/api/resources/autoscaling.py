"""autoscaling/v2 horizontalpodautoscalers (``api.validation.autoscaling``).

Only v2 is served. Upstream also serves autoscaling/v1 over the same storage, converting
``targetCPUUtilizationPercentage`` to and from v2 metrics (other metrics ride in an
annotation); the generic store has no per-version conversion yet, so v1 is left out rather
than served with a second, diverging copy.
"""

from __future__ import annotations

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
TYPES = (HORIZONTAL_POD_AUTOSCALERS,)


class HorizontalPodAutoscalerStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"desiredReplicas": 0}  # not omitempty in Go

    def default(self, obj: JSONObject) -> None:
        v.default_hpa(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_hpa(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    HORIZONTAL_POD_AUTOSCALERS: HorizontalPodAutoscalerStrategy,
}
