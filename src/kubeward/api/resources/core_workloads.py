"""core/v1 ReplicationControllers (with ``scale``) and PodTemplates.

Stored and validated; the replicationcontroller controller of the controller-manager is what
creates their pods.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources.workload_templates import default_pod_template
from kubeward.api.scheme import ResourceType, ScalePaths, Subresource
from kubeward.api.validation import replication as rv
from kubeward.errors import Cause

REPLICATION_CONTROLLERS = ResourceType(
    "",
    "v1",
    "ReplicationController",
    "replicationcontrollers",
    True,
    short_names=("rc",),
    categories=("all",),
    subresources=(
        Subresource("status", "ReplicationController", ("get", "patch", "update")),
        Subresource(
            "scale",
            "Scale",
            ("get", "patch", "update"),
            group="autoscaling",
            version="v1",
            scale=ScalePaths(selector_is_map=True),
        ),
    ),
)
POD_TEMPLATES = ResourceType("", "v1", "PodTemplate", "podtemplates", True)
TYPES = (REPLICATION_CONTROLLERS, POD_TEMPLATES)


class ReplicationControllerStrategy(Strategy):
    has_status = True
    selectable_fields = ("status.replicas",)

    def default(self, obj: JSONObject) -> None:
        rv.default_replication_controller(obj)
        default_pod_template((obj.get("spec") or {}).get("template"))
        obj.setdefault("status", {}).setdefault("replicas", 0)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return rv.validate_replication_controller(obj)


class PodTemplateStrategy(Strategy):
    generation_fields = ("template",)

    def default(self, obj: JSONObject) -> None:
        default_pod_template(obj.get("template"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        return rv.validate_pod_template(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    REPLICATION_CONTROLLERS: ReplicationControllerStrategy,
    POD_TEMPLATES: PodTemplateStrategy,
}
