"""policy/v1 poddisruptionbudgets: stored and validated (``api.validation.policy``).

A PDB starts with a zeroed status, as upstream's strategy gives it; the disruption controller
(``controllers.disruption``) computes it and the pod ``eviction`` subresource
(``server.endpoints.eviction``) reads and decrements it.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import policy as v
from kubeward.errors import Cause

PODDISRUPTIONBUDGETS = ResourceType(
    "policy",
    "v1",
    "PodDisruptionBudget",
    "poddisruptionbudgets",
    True,
    short_names=("pdb",),
    subresources=(Subresource("status", "PodDisruptionBudget", ("get", "patch", "update")),),
)
TYPES = (PODDISRUPTIONBUDGETS,)


class PodDisruptionBudgetStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = v.empty_status()

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_pdb(obj)

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        if subresource == "status":
            return v.validate_pdb_status(new)
        return []


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    PODDISRUPTIONBUDGETS: PodDisruptionBudgetStrategy,
}
