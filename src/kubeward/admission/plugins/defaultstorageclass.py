"""The ``DefaultStorageClass`` admission plugin: a claim that names no class gets the default
(``plugin/pkg/admission/storage/storageclass/setdefault``).

Rules:

 1. Only PersistentVolumeClaims being created (not their subresources) are looked at.
 2. A claim that has a class — ``spec.storageClassName`` set, even to ``""`` (which asks for
    no class), or the beta annotation ``volume.beta.kubernetes.io/storage-class`` — is left
    as it is.
 3. Otherwise ``spec.storageClassName`` becomes the default StorageClass (annotation
    ``storageclass.kubernetes.io/is-default-class: "true"``, or its beta form), the newest
    when several are (``classdefaults``); without a default the claim is left without one.
"""

from __future__ import annotations

from kubeward.admission.interfaces import CREATE, AdmissionRequest, ObjectReader
from kubeward.admission.plugins.classdefaults import cluster_objects, newest_default

PLUGIN_NAME = "DefaultStorageClass"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
DEFAULT_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


class DefaultStorageClassPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation != CREATE or request.subresource:
            return
        if request.group != "" or request.resource != "persistentvolumeclaims":
            return
        claim = request.object
        spec = claim.setdefault("spec", {})
        annotations = (claim.get("metadata") or {}).get("annotations") or {}
        if "storageClassName" in spec and spec["storageClassName"] is not None:
            return
        if BETA_CLASS_ANNOTATION in annotations:
            return
        classes = await cluster_objects(reader, "storageclasses.storage.k8s.io")
        default = newest_default(classes, DEFAULT_ANNOTATIONS)
        if default is not None:
            spec["storageClassName"] = default["metadata"]["name"]
