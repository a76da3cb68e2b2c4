"""core/v1 PersistentVolumes (cluster-scoped) and PersistentVolumeClaims.

Stored and validated; binding claims to volumes is the persistent-volume controller's, and the
in-use protection finalizers are the StorageObjectInUseProtection admission plugin's.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject, format_time, now
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import volumes as vv
from kubeward.errors import Cause

PERSISTENT_VOLUMES = ResourceType(
    "",
    "v1",
    "PersistentVolume",
    "persistentvolumes",
    False,
    short_names=("pv",),
    subresources=(Subresource("status", "PersistentVolume", ("get", "patch", "update")),),
)
PERSISTENT_VOLUME_CLAIMS = ResourceType(
    "",
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
    True,
    short_names=("pvc",),
    subresources=(Subresource("status", "PersistentVolumeClaim", ("get", "patch", "update")),),
)
TYPES = (PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS)


class _LegacyNameField(Strategy):
    """Volumes and claims also answer the field selector ``name`` (upstream's legacy label)."""

    selectable_fields = ("name",)

    def field_set(self, obj: JSONObject) -> dict[str, str]:
        fields = super().field_set(obj)
        fields["name"] = fields["metadata.name"]
        return fields


class PersistentVolumeStrategy(_LegacyNameField):
    has_status = True
    generation_fields = ()

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"phase": "Pending", "lastPhaseTransitionTime": format_time(now())}

    def prepare_for_status_update(self, new: JSONObject, old: JSONObject) -> JSONObject:
        """A phase change stamps ``lastPhaseTransitionTime``, as upstream's status strategy."""
        merged = super().prepare_for_status_update(new, old)
        status = merged.get("status")
        old_phase = (old.get("status") or {}).get("phase")
        if isinstance(status, dict) and status.get("phase") != old_phase:
            status["lastPhaseTransitionTime"] = format_time(now())
        return merged

    def default(self, obj: JSONObject) -> None:
        vv.default_persistent_volume(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return vv.validate_persistent_volume(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return vv.validate_persistent_volume_update(new, old)


class PersistentVolumeClaimStrategy(_LegacyNameField):
    has_status = True
    generation_fields = ()

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"phase": "Pending"}

    def default(self, obj: JSONObject) -> None:
        vv.default_persistent_volume_claim(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return vv.validate_persistent_volume_claim(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return vv.validate_persistent_volume_claim_update(new, old)

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        return [] if subresource == "status" else self.validate_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    PERSISTENT_VOLUMES: PersistentVolumeStrategy,
    PERSISTENT_VOLUME_CLAIMS: PersistentVolumeClaimStrategy,
}
