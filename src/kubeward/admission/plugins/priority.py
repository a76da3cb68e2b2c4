"""The ``Priority`` admission plugin: a pod's priority comes from its PriorityClass
(``plugin/pkg/admission/priority``, Kubernetes 1.32).

Rules:

 1. A pod being created without ``spec.priorityClassName`` gets the default PriorityClass
    (``globalDefault: true``; the one of lowest value should several be, as after a race):
    its name, value and ``preemptionPolicy``. Without a default its priority is 0 and its
    class stays empty.
 2. A pod naming a class gets that class's value and ``preemptionPolicy``; a class that does
    not exist is refused (403): ``no PriorityClass with name X was found``. Kubernetes 1.32
    lets the two system classes be used in any namespace (their use outside kube-system is
    limited by ResourceQuota's ``limitedResources`` when the cluster asks for it, not here).
 3. A pod that already carries a ``priority`` (or ``preemptionPolicy``) different from the
    computed one is refused (403) with upstream's messages.
 4. On a pod update a missing ``priority`` or ``preemptionPolicy`` is carried over from the
    old pod (validation then refuses any change of them).
 5. A PriorityClass created (or changed) with ``globalDefault: true`` while another one is
    the default is refused (403): ``PriorityClass X is already marked as default. Only one
    default can exist``.
"""

from __future__ import annotations

from typing import Any

from kubeward.admission.interfaces import CREATE, UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.admission.plugins.classdefaults import cluster_objects

PLUGIN_NAME = "Priority"
PRIORITY_CLASSES = "priorityclasses.scheduling.k8s.io"


async def default_class(reader: ObjectReader, *, fresh: bool = False) -> dict[str, Any] | None:
    """Rule 1: the global default class, the lowest value first; ``fresh`` reads storage
    rather than the informer (rule 5 must see a default created a moment ago)."""
    classes = (
        await reader.list(PRIORITY_CLASSES, "")
        if fresh
        else await cluster_objects(reader, PRIORITY_CLASSES)
    )
    defaults = [c for c in classes if c.get("globalDefault")]
    if not defaults:
        return None
    return min(defaults, key=lambda c: int(c.get("value") or 0))


class PriorityPlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not request.is_pod():
            return
        spec = request.object.setdefault("spec", {})
        if request.operation == UPDATE and request.old_object is not None:
            old_spec = request.old_object.get("spec") or {}
            for field in ("priority", "preemptionPolicy"):
                if spec.get(field) is None and old_spec.get(field) is not None:
                    spec[field] = old_spec[field]
            return
        if request.operation != CREATE:
            return
        name = str(spec.get("priorityClassName") or "")
        if not name:
            found = await default_class(reader)
            if found is not None:
                spec["priorityClassName"] = found["metadata"]["name"]
        else:
            found = await reader.get(PRIORITY_CLASSES, "", name)
            if found is None:
                raise forbidden(request, f"no PriorityClass with name {name} was found")
        priority = int(found.get("value") or 0) if found is not None else 0
        given = spec.get("priority")
        if given is not None and given != priority:
            raise forbidden(
                request,
                f"the integer value of priority ({given}) must not be provided in pod spec; "
                f"priority admission controller computed {priority} from the given "
                "PriorityClass name",
            )
        spec["priority"] = priority
        policy = found.get("preemptionPolicy") if found is not None else None
        if policy is not None:
            given_policy = spec.get("preemptionPolicy")
            if given_policy is not None and given_policy != policy:
                raise forbidden(
                    request,
                    f"the string value of PreemptionPolicy ({given_policy}) must not be "
                    f"provided in pod spec; priority admission controller computed {policy} "
                    "from the given PriorityClass name",
                )
            spec["preemptionPolicy"] = policy

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.subresource or request.group != "scheduling.k8s.io":
            return
        if request.resource != "priorityclasses" or request.operation not in (CREATE, UPDATE):
            return
        if not request.object.get("globalDefault"):
            return
        current = await default_class(reader, fresh=True)
        if current is None:
            return
        current_name = current["metadata"]["name"]
        if request.operation == CREATE or current_name != request.name:
            raise forbidden(
                request,
                f"PriorityClass {current_name} is already marked as default. "
                "Only one default can exist",
            )
