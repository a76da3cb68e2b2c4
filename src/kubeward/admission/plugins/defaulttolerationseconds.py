"""The ``DefaultTolerationSeconds`` admission plugin: pods leave a failed node after five minutes.

Rules (``plugin/pkg/admission/defaulttolerationseconds``): a pod being created gets the
tolerations ``node.kubernetes.io/not-ready:NoExecute`` and ``node.kubernetes.io/unreachable:
NoExecute`` (operator Exists, ``tolerationSeconds: 300``) unless it already tolerates that taint
with the NoExecute effect (or every effect), so the node lifecycle controller evicts it from a
dead node after 300 s rather than at once.
"""

from __future__ import annotations

from typing import Any

from kubeward.admission.interfaces import CREATE, AdmissionRequest, ObjectReader

PLUGIN_NAME = "DefaultTolerationSeconds"
DEFAULT_SECONDS = 300
TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _tolerates(tolerations: list[Any], key: str) -> bool:
    for toleration in tolerations:
        if not isinstance(toleration, dict):
            continue
        effect = toleration.get("effect") or ""
        if effect not in ("", "NoExecute"):
            continue
        if toleration.get("key") == key or (
            not toleration.get("key") and toleration.get("operator") == "Exists"
        ):
            return True
    return False


class DefaultTolerationSecondsPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation != CREATE or not request.is_pod():
            return
        spec = request.object.setdefault("spec", {})
        tolerations = spec.get("tolerations")
        if not isinstance(tolerations, list):
            tolerations = []
        for key in TAINTS:
            if not _tolerates(tolerations, key):
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": DEFAULT_SECONDS,
                    }
                )
        spec["tolerations"] = tolerations
