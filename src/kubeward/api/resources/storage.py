"""storage.k8s.io/v1 storageclasses, csidrivers, csinodes and volumeattachments
(``api.validation.storage``). All four are cluster-scoped.

The ``storageclass.kubernetes.io/is-default-class`` annotation is only stored here; the
DefaultStorageClass admission plugin reads it, and the table marks the class ``(default)``.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Subresource
from kubeward.api.validation import storage as v
from kubeward.errors import Cause

STORAGE_GROUP = "storage.k8s.io"
STORAGE_CLASSES = ResourceType(
    STORAGE_GROUP, "v1", "StorageClass", "storageclasses", False, short_names=("sc",)
)
CSI_DRIVERS = ResourceType(STORAGE_GROUP, "v1", "CSIDriver", "csidrivers", False)
CSI_NODES = ResourceType(STORAGE_GROUP, "v1", "CSINode", "csinodes", False)
VOLUME_ATTACHMENTS = ResourceType(
    STORAGE_GROUP,
    "v1",
    "VolumeAttachment",
    "volumeattachments",
    False,
    subresources=(Subresource("status", "VolumeAttachment", ("get", "patch", "update")),),
)
TYPES = (STORAGE_CLASSES, CSI_DRIVERS, CSI_NODES, VOLUME_ATTACHMENTS)


class StorageClassStrategy(Strategy):
    generation_fields = ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode")

    def default(self, obj: JSONObject) -> None:
        v.default_storage_class(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_storage_class(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_storage_class_update(new, old)


class CSIDriverStrategy(Strategy):
    def default(self, obj: JSONObject) -> None:
        v.default_csi_driver(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_csi_driver(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_csi_driver_update(new, old)


class CSINodeStrategy(Strategy):
    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_csi_node(obj)


class VolumeAttachmentStrategy(Strategy):
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj["status"] = {"attached": False}

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_volume_attachment(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_volume_attachment_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    STORAGE_CLASSES: StorageClassStrategy,
    CSI_DRIVERS: CSIDriverStrategy,
    CSI_NODES: CSINodeStrategy,
    VOLUME_ATTACHMENTS: VolumeAttachmentStrategy,
}
