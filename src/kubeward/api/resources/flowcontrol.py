"""flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration: API Priority and
Fairness configuration, stored and validated here and read by ``server.flowcontrol``."""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import flowcontrol as rules
from kubeward.errors import Cause

GROUP = "flowcontrol.apiserver.k8s.io"
_STATUS_VERBS = ("get", "patch", "update")

FLOW_SCHEMAS = ResourceType(
    GROUP,
    "v1",
    "FlowSchema",
    "flowschemas",
    False,
    subresources=(Subresource("status", "FlowSchema", _STATUS_VERBS, GROUP, "v1"),),
)
PRIORITY_LEVEL_CONFIGURATIONS = ResourceType(
    GROUP,
    "v1",
    "PriorityLevelConfiguration",
    "prioritylevelconfigurations",
    False,
    subresources=(Subresource("status", "PriorityLevelConfiguration", _STATUS_VERBS, GROUP, "v1"),),
)
TYPES = (FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS)


class FlowSchemaStrategy(Strategy):
    has_status = True

    def default(self, obj: JSONObject) -> None:
        rules.default_flow_schema(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return rules.validate_flow_schema_spec(obj.get("spec"))


class PriorityLevelConfigurationStrategy(Strategy):
    has_status = True

    def default(self, obj: JSONObject) -> None:
        rules.default_priority_level(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        name = str((obj.get("metadata") or {}).get("name") or "")
        return rules.validate_priority_level_spec(name, obj.get("spec"))


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    FLOW_SCHEMAS: FlowSchemaStrategy,
    PRIORITY_LEVEL_CONFIGURATIONS: PriorityLevelConfigurationStrategy,
}
