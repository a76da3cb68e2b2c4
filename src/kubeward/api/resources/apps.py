"""apps/v1 deployments and replicasets (run by ``controllers.deployment`` and
``controllers.replicaset``) and coordination.k8s.io/v1 leases.

Validation follows ``pkg/apis/apps/validation``: a selector is required, non-empty, matches the
template's labels and is immutable in apps/v1; replica counts are non-negative.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources.workload_templates import default_pod_template
from kubeward.api.scheme import ResourceType, ScalePaths, Subresource
from kubeward.api.selectors import LabelSelector
from kubeward.api.validation import field
from kubeward.api.validation.core import validate_pod_spec
from kubeward.api.validation.meta import validate_label_selector, validate_labels
from kubeward.errors import BadRequest, Cause

DEPLOYMENTS = ResourceType(
    "apps",
    "v1",
    "Deployment",
    "deployments",
    True,
    short_names=("deploy",),
    categories=("all",),
    subresources=(
        Subresource("status", "Deployment", ("get", "patch", "update")),
        Subresource(
            "scale",
            "Scale",
            ("get", "patch", "update"),
            group="autoscaling",
            version="v1",
            scale=ScalePaths(),
        ),
    ),
)
REPLICA_SETS = ResourceType(
    "apps",
    "v1",
    "ReplicaSet",
    "replicasets",
    True,
    short_names=("rs",),
    categories=("all",),
    subresources=(
        Subresource("status", "ReplicaSet", ("get", "patch", "update")),
        Subresource(
            "scale",
            "Scale",
            ("get", "patch", "update"),
            group="autoscaling",
            version="v1",
            scale=ScalePaths(),
        ),
    ),
)
LEASES = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)
TYPES = (DEPLOYMENTS, REPLICA_SETS, LEASES)


def _non_negative(spec: JSONObject, name: str, default: int) -> list[Cause]:
    value = spec.get(name, default)
    if not isinstance(value, int) or value < 0:
        return [field.invalid(f"spec.{name}", value, "must be greater than or equal to 0")]
    return []


def validate_workload_spec(spec: JSONObject) -> list[Cause]:
    """Replicas, selector and template, as ``ValidateDeploymentSpec``/``ValidateReplicaSetSpec``."""
    causes = _non_negative(spec, "replicas", 1) + _non_negative(spec, "minReadySeconds", 0)
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector:
        causes.append(field.required("spec.selector"))
    else:
        causes.extend(validate_label_selector(selector, "spec.selector"))
        try:
            compiled = LabelSelector.from_dict(selector)
        except BadRequest:
            compiled = None
        if compiled is not None and compiled.empty:
            causes.append(
                field.invalid("spec.selector", selector, "empty selector is invalid for deployment")
            )
        elif compiled is not None and not compiled.matches(labels):
            causes.append(
                field.invalid(
                    "spec.template.metadata.labels",
                    labels,
                    "`selector` does not match template `labels`",
                )
            )
    causes.extend(validate_labels(labels, "spec.template.metadata.labels"))
    causes.extend(validate_pod_spec(template.get("spec"), "spec.template.spec"))
    policy = (template.get("spec") or {}).get("restartPolicy", "Always")
    if policy != "Always":
        causes.append(field.not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    return causes


def _immutable_selector(new: JSONObject, old: JSONObject) -> list[Cause]:
    if (new.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
        return [
            field.invalid(
                "spec.selector", (new.get("spec") or {}).get("selector"), "field is immutable"
            )
        ]
    return []


class DeploymentStrategy(Strategy):
    has_status = True

    def default(self, obj: JSONObject) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        default_pod_template(spec.get("template"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [field.required("spec")]
        return validate_workload_spec(spec)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return _immutable_selector(new, old)


class ReplicaSetStrategy(Strategy):
    has_status = True

    def default(self, obj: JSONObject) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        default_pod_template(spec.get("template"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [field.required("spec")]
        return validate_workload_spec(spec)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return _immutable_selector(new, old)


class LeaseStrategy(Strategy):
    pass


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    DEPLOYMENTS: DeploymentStrategy,
    REPLICA_SETS: ReplicaSetStrategy,
    LEASES: LeaseStrategy,
}
