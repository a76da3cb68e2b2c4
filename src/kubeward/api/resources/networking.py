"""networking.k8s.io/v1 NetworkPolicy (``kubeward netpol`` evaluates them), Ingress and
IngressClass (``api.validation.ingress``): stored and validated."""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import field, ingress
from kubeward.api.validation.networking import default_network_policy, validate_network_policy_spec
from kubeward.errors import Cause

NETWORK_POLICIES = ResourceType(
    "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, short_names=("netpol",)
)
INGRESSES = ResourceType(
    "networking.k8s.io",
    "v1",
    "Ingress",
    "ingresses",
    True,
    short_names=("ing",),
    subresources=(Subresource("status", "Ingress", ("get", "patch", "update")),),
)
INGRESS_CLASSES = ResourceType("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False)
TYPES = (NETWORK_POLICIES, INGRESSES, INGRESS_CLASSES)


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


class IngressStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"loadBalancer": {}}

    def validate(self, obj: JSONObject) -> list[Cause]:
        return ingress.validate_ingress(obj)


class IngressClassStrategy(Strategy):
    def validate(self, obj: JSONObject) -> list[Cause]:
        return ingress.validate_ingress_class(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return ingress.validate_ingress_class_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    NETWORK_POLICIES: NetworkPolicyStrategy,
    INGRESSES: IngressStrategy,
    INGRESS_CLASSES: IngressClassStrategy,
}
