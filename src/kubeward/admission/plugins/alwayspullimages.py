"""The ``AlwaysPullImages`` admission plugin (off by default, as upstream).

Rules (``plugin/pkg/admission/alwayspullimages``): on pod create, and on updates that change
images, every container (init, regular and ephemeral) gets ``imagePullPolicy: Always``, so a
pod cannot use an image another tenant pulled onto the node without its own pull credentials;
the validating side refuses a pod that still says otherwise (403, the field named as upstream:
``spec.containers[0].imagePullPolicy: Unsupported value: "IfNotPresent": supported values:
"Always"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubeward.admission.interfaces import CREATE, UPDATE, AdmissionRequest, ObjectReader, forbidden

PLUGIN_NAME = "AlwaysPullImages"
_KINDS = ("initContainers", "containers", "ephemeralContainers")


def _containers(pod: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = pod.get("spec") or {}
    for kind in _KINDS:
        for index, container in enumerate(spec.get(kind) or []):
            if isinstance(container, dict):
                yield f"spec.{kind}[{index}]", container


def _images(pod: dict[str, Any] | None) -> list[str]:
    return [str(c.get("image", "")) for _, c in _containers(pod or {})]


class AlwaysPullImagesPlugin:
    name = PLUGIN_NAME

    def _concerns(self, request: AdmissionRequest) -> bool:
        if request.group != "" or request.resource != "pods":
            return False
        if request.subresource not in ("", "ephemeralcontainers"):
            return False
        if request.operation == CREATE:
            return True
        return request.operation == UPDATE and _images(request.object) != _images(
            request.old_object
        )

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not self._concerns(request):
            return
        for _, container in _containers(request.object):
            container["imagePullPolicy"] = "Always"

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not self._concerns(request):
            return
        for path, container in _containers(request.object):
            policy = container.get("imagePullPolicy")
            if policy != "Always":
                raise forbidden(
                    request,
                    f'{path}.imagePullPolicy: Unsupported value: "{policy}": supported values: "Always"',
                )
