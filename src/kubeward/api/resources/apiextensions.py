"""apiextensions.k8s.io/v1 CustomResourceDefinition: the kind that adds kinds.

The definition is stored and validated here (``api.validation.apiextensions``); serving what it
defines is the CRD controller's (``server.crd_controller``), which accepts the names, marks the
definition Established and registers its kinds. What the strategy enforces:

 1. On create the status is cleared, then ``status.storedVersions`` holds the storage version,
    and the ``customresourcecleanup.apiextensions.k8s.io`` finalizer is set: deleting a
    definition first deletes every object of it.
 2. On update the storage version is added to ``status.storedVersions`` when it changes, so the
    versions objects may be stored in are never forgotten.
 3. ``status`` changes only through ``/status``.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType, Subresource
from kubeward.api.validation import apiextensions as v
from kubeward.errors import Cause

GROUP = "apiextensions.k8s.io"
KIND = "CustomResourceDefinition"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"

CUSTOM_RESOURCE_DEFINITIONS = ResourceType(
    GROUP,
    "v1",
    KIND,
    "customresourcedefinitions",
    False,
    verbs=ALL_VERBS,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    subresources=(Subresource("status", KIND, ("get", "patch", "update"), GROUP, "v1"),),
    keyed_by_group=True,  # the apiextensions server's keys: /registry/apiextensions.k8s.io/...
)
TYPES = (CUSTOM_RESOURCE_DEFINITIONS,)


def storage_version(crd: JSONObject) -> str:
    for version in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(version, dict) and version.get("storage") is True:
            return str(version.get("name", ""))
    return ""


class CustomResourceDefinitionStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        super().prepare_for_create(obj, scope)
        stored = storage_version(obj)
        obj["status"] = {"storedVersions": [stored] if stored else []}
        finalizers = obj.setdefault("metadata", {}).setdefault("finalizers", [])
        if isinstance(finalizers, list) and CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)

    def prepare_for_update(self, new: JSONObject, old: JSONObject) -> None:
        super().prepare_for_update(new, old)
        stored = storage_version(new)
        status = new.setdefault("status", {})
        versions = status.setdefault("storedVersions", [])
        if stored and isinstance(versions, list) and stored not in versions:
            versions.append(stored)

    def default(self, obj: JSONObject) -> None:
        v.default_crd(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_crd(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_crd_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    CUSTOM_RESOURCE_DEFINITIONS: CustomResourceDefinitionStrategy
}
