"""The ``StorageObjectInUseProtection`` admission plugin: claims and volumes in use stay.

Rules (``plugin/pkg/admission/storage/storageobjectinuseprotection``): a PersistentVolumeClaim
is created with the ``kubernetes.io/pvc-protection`` finalizer and a PersistentVolume with
``kubernetes.io/pv-protection``, so deleting one in use only marks it; the protection
controllers remove the finalizer once nothing uses it.
"""

from __future__ import annotations

from kubeward.admission.interfaces import CREATE, AdmissionRequest, ObjectReader

PLUGIN_NAME = "StorageObjectInUseProtection"
FINALIZERS = {
    "persistentvolumeclaims": "kubernetes.io/pvc-protection",
    "persistentvolumes": "kubernetes.io/pv-protection",
}


class StorageObjectInUseProtectionPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        finalizer = FINALIZERS.get(request.resource) if request.group == "" else None
        if request.operation != CREATE or finalizer is None or request.subresource:
            return
        meta = request.object.setdefault("metadata", {})
        finalizers = meta.get("finalizers")
        if not isinstance(finalizers, list):
            finalizers = []
        if finalizer not in finalizers:
            finalizers.append(finalizer)
        meta["finalizers"] = finalizers
