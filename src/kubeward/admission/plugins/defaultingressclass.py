"""The ``DefaultIngressClass`` admission plugin: an Ingress that names no class gets the
default (``plugin/pkg/admission/network/defaultingressclass``).

Rules:

 1. Only networking.k8s.io Ingresses being created (not their subresources) are looked at.
 2. An Ingress with ``spec.ingressClassName`` or the ``kubernetes.io/ingress.class``
    annotation is left as it is.
 3. Otherwise ``spec.ingressClassName`` becomes the default IngressClass (annotation
    ``ingressclass.kubernetes.io/is-default-class: "true"``), the newest when several are
    (``classdefaults``); without a default the Ingress is left without one.
"""

from __future__ import annotations

from kubeward.admission.interfaces import CREATE, AdmissionRequest, ObjectReader
from kubeward.admission.plugins.classdefaults import cluster_objects, newest_default

PLUGIN_NAME = "DefaultIngressClass"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_ANNOTATIONS = ("ingressclass.kubernetes.io/is-default-class",)


class DefaultIngressClassPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation != CREATE or request.subresource:
            return
        if request.group != "networking.k8s.io" or request.resource != "ingresses":
            return
        ingress = request.object
        spec = ingress.setdefault("spec", {})
        annotations = (ingress.get("metadata") or {}).get("annotations") or {}
        if spec.get("ingressClassName") is not None or CLASS_ANNOTATION in annotations:
            return
        classes = await cluster_objects(reader, "ingressclasses.networking.k8s.io")
        default = newest_default(classes, DEFAULT_ANNOTATIONS)
        if default is not None:
            spec["ingressClassName"] = default["metadata"]["name"]
