"""core/v1 LimitRanges and ResourceQuotas.

Stored and validated here; they are enforced by the LimitRanger and ResourceQuota admission
plugins, and a quota's ``status`` (hard and used) is kept by the resourcequota controller
through the ``status`` subresource.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import quota as qv
from kubeward.errors import Cause

LIMIT_RANGES = ResourceType("", "v1", "LimitRange", "limitranges", True, short_names=("limits",))
RESOURCE_QUOTAS = ResourceType(
    "",
    "v1",
    "ResourceQuota",
    "resourcequotas",
    True,
    short_names=("quota",),
    subresources=(Subresource("status", "ResourceQuota", ("get", "patch", "update")),),
)
TYPES = (LIMIT_RANGES, RESOURCE_QUOTAS)


class LimitRangeStrategy(Strategy):
    generation_fields = ()

    def default(self, obj: JSONObject) -> None:
        qv.default_limit_range(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return qv.validate_limit_range(obj)


class ResourceQuotaStrategy(Strategy):
    has_status = True
    generation_fields = ()

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj.pop("status", None)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return qv.validate_resource_quota(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    LIMIT_RANGES: LimitRangeStrategy,
    RESOURCE_QUOTAS: ResourceQuotaStrategy,
}
