"""apps/v1 statefulsets, daemonsets and controllerrevisions: stored, defaulted and validated
(``api.validation.apps``); the statefulset and daemonset controllers
(``controllers.statefulset``, ``controllers.daemonset``) run them and keep their revisions.

They sit beside ``apps.py`` (Deployments) so that the group's kinds can grow without one
module holding them all; a StatefulSet offers ``/scale`` as a Deployment does.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources.workload_templates import default_pod_template
from kubeward.api.scheme import ResourceType, ScalePaths, Subresource
from kubeward.api.validation import apps as v
from kubeward.errors import Cause

_ALL = ("all",)
STATEFULSETS = ResourceType(
    "apps",
    "v1",
    "StatefulSet",
    "statefulsets",
    True,
    short_names=("sts",),
    categories=_ALL,
    subresources=(
        Subresource("status", "StatefulSet", ("get", "patch", "update")),
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
DAEMONSETS = ResourceType(
    "apps",
    "v1",
    "DaemonSet",
    "daemonsets",
    True,
    short_names=("ds",),
    categories=_ALL,
    subresources=(Subresource("status", "DaemonSet", ("get", "patch", "update")),),
)
CONTROLLER_REVISIONS = ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True)
TYPES = (STATEFULSETS, DAEMONSETS, CONTROLLER_REVISIONS)


def _default_template(obj: JSONObject) -> None:
    spec: Any = obj.get("spec")
    if isinstance(spec, dict):
        default_pod_template(spec.get("template"))


class StatefulSetStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"availableReplicas": 0, "replicas": 0}  # Go's zero status

    def default(self, obj: JSONObject) -> None:
        v.default_statefulset(obj)
        _default_template(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_statefulset(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_statefulset_update(new, old)


# The v1 form of the internal ``spec.templateGeneration``: 1 on create, +1 per template change.
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def _template_generation(obj: JSONObject) -> int:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        return int(annotations.get(TEMPLATE_GENERATION) or 0)
    except (TypeError, ValueError):
        return 0


def _set_template_generation(obj: JSONObject, generation: int) -> None:
    meta = obj.setdefault("metadata", {})
    annotations = meta.get("annotations") or {}
    meta["annotations"] = {**annotations, TEMPLATE_GENERATION: str(generation)}


class DaemonSetStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {  # Go's zero status: these counts are not omitempty
            "currentNumberScheduled": 0,
            "desiredNumberScheduled": 0,
            "numberMisscheduled": 0,
            "numberReady": 0,
        }
        _set_template_generation(obj, 1)

    def prepare_for_update(self, new: JSONObject, old: JSONObject) -> None:
        """A new template bumps the template generation (``daemonset/strategy.go``)."""
        super().prepare_for_update(new, old)
        generation = _template_generation(old)
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            generation += 1
        _set_template_generation(new, generation)

    def default(self, obj: JSONObject) -> None:
        v.default_daemonset(obj)
        _default_template(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_daemonset(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_daemonset_update(new, old)


class ControllerRevisionStrategy(Strategy):
    generation_fields = ("data", "revision")

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_controller_revision(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_controller_revision_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    STATEFULSETS: StatefulSetStrategy,
    DAEMONSETS: DaemonSetStrategy,
    CONTROLLER_REVISIONS: ControllerRevisionStrategy,
}
