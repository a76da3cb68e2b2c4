"""networking.k8s.io/v1 NetworkPolicy: stored and validated; ``kubeward netpol`` evaluates them."""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import field
from kubeward.api.validation.networking import default_network_policy, validate_network_policy_spec
from kubeward.errors import Cause

NETWORK_POLICIES = ResourceType(
    "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, short_names=("netpol",)
)
TYPES = (NETWORK_POLICIES,)


class NetworkPolicyStrategy(Strategy):
    def default(self, obj: JSONObject) -> None:
        defaulted = default_network_policy(obj)
        obj.clear()
        obj.update(defaulted)

    def validate(self, obj: JSONObject) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [field.invalid("spec", spec, "must be an object")]
        return validate_network_policy_spec(spec, "spec")


STRATEGIES: dict[ResourceType, type[Strategy]] = {NETWORK_POLICIES: NetworkPolicyStrategy}
