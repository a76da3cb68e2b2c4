"""The ``PersistentVolumeClaimResize`` admission plugin: a claim grows only when its class
allows it (``plugin/pkg/admission/storage/persistentvolume/resize``).

Rules:

 1. Only updates of PersistentVolumeClaims (not their subresources) that raise
    ``spec.resources.requests.storage`` are looked at; shrinking is validation's to refuse
    (``field can not be less than previous value``).
 2. A claim that is not Bound is refused: ``Only bound persistent volume claims can be
    expanded``.
 3. The claim's class (the beta annotation ``volume.beta.kubernetes.io/storage-class``
    first, then ``spec.storageClassName``) must be set, unchanged, and a StorageClass with
    ``allowVolumeExpansion: true``; otherwise: ``only dynamically provisioned pvc can be
    resized and the storageclass that provisions the pvc must support resize``. Both
    refusals are 403 Forbidden.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from kubeward.admission.interfaces import UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.api.validation.quantity import parse_quantity

PLUGIN_NAME = "PersistentVolumeClaimResize"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
NOT_BOUND = "Only bound persistent volume claims can be expanded"
NOT_EXPANDABLE = (
    "only dynamically provisioned pvc can be resized and "
    "the storageclass that provisions the pvc must support resize"
)


def _storage(claim: dict[str, Any]) -> Fraction | None:
    """The requested storage (an absent one is Go's zero quantity)."""
    requests = ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
    return parse_quantity(requests.get("storage", 0))


def claim_class(claim: dict[str, Any]) -> str:
    """Rule 3 (``GetPersistentVolumeClaimClass``)."""
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    if BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[BETA_CLASS_ANNOTATION])
    return str((claim.get("spec") or {}).get("storageClassName") or "")


class PersistentVolumeClaimResizePlugin:
    name = PLUGIN_NAME

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation != UPDATE or request.subresource or request.old_object is None:
            return
        if request.group != "" or request.resource != "persistentvolumeclaims":
            return
        old, new = request.old_object, request.object
        old_size, new_size = _storage(old), _storage(new)
        if old_size is None or new_size is None or new_size <= old_size:
            return
        if (old.get("status") or {}).get("phase") != "Bound":
            raise forbidden(request, NOT_BOUND)
        name, old_name = claim_class(new), claim_class(old)
        if not name or name != old_name:
            raise forbidden(request, NOT_EXPANDABLE)
        storage_class = await reader.get("storageclasses.storage.k8s.io", "", name)
        if storage_class is None or storage_class.get("allowVolumeExpansion") is not True:
            raise forbidden(request, NOT_EXPANDABLE)
