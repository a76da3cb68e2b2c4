"""core/v1 Services and Endpoints.

A Service's addresses and node ports are not the strategy's: they are allocated in storage by
the store's hooks (``api.allocation.services``), which the server attaches to this kind's store
with the ``--service-cluster-ip-range`` and ``--service-node-port-range`` it runs with.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import endpoints as ev
from kubeward.api.validation import services as sv
from kubeward.api.validation.meta import check_dns1035_label
from kubeward.errors import Cause

SERVICES = ResourceType(
    "",
    "v1",
    "Service",
    "services",
    True,
    # No deletecollection, as upstream: each deletion must release its addresses and ports.
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    short_names=("svc",),
    categories=("all",),
    subresources=(Subresource("status", "Service", ("get", "patch", "update")),),
    returns_deleted_object=True,
)
ENDPOINTS = ResourceType("", "v1", "Endpoints", "endpoints", True, short_names=("ep",))
TYPES = (SERVICES, ENDPOINTS)


class ServiceStrategy(Strategy):
    name_check = staticmethod(check_dns1035_label)
    has_status = True
    generation_fields = ()
    selectable_fields = ("spec.clusterIP", "spec.type")

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"loadBalancer": {}}

    def prepare_for_update(self, new: JSONObject, old: JSONObject) -> None:
        super().prepare_for_update(new, old)
        sv.prepare_service_update(new, old)

    def default(self, obj: JSONObject) -> None:
        sv.default_service(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return sv.validate_service(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return sv.validate_service_update(new, old)

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        return ev.validate_load_balancer_status(new) if subresource == "status" else []


class EndpointsStrategy(Strategy):
    generation_fields = ()

    def default(self, obj: JSONObject) -> None:
        ev.default_endpoints(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return ev.validate_endpoints(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    SERVICES: ServiceStrategy,
    ENDPOINTS: EndpointsStrategy,
}
