"""The ``LimitRanger`` admission plugin: a namespace's LimitRanges default and bound resources.

Rules (``plugin/pkg/admission/limitranger``, Kubernetes 1.32):
 1. It looks at pods being created (not updated: a pod's containers cannot change) and at
    PersistentVolumeClaims being created or updated, never at subresources or at objects being
    deleted, in the light of every LimitRange of the namespace.
 2. Mutating: each container and init container without a request (limit) for a resource the
    ``Container`` limit's ``defaultRequest`` (``default``) names gets it, and the pod is
    annotated ``kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request for
    container web; …``.
 3. Validating, per ``Container`` limit and container: ``min`` needs a request at least that
    large (and a limit, when given, too); ``max`` needs a limit no larger (and a request, when
    given, too); ``maxLimitRequestRatio`` bounds limit / request. A ``Pod`` limit applies the
    same to the pod's total. A ``PersistentVolumeClaim`` limit bounds ``requests.storage``.
 4. A violation is 403 ``pods "web" is forbidden: <reasons>``, worded as upstream (``maximum cpu
    usage per Container is 500m, but limit is 1``), several joined as ``[a, b]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubeward.admission.interfaces import CREATE, UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.api.quantity import canonical, quantity_or_zero

PLUGIN_NAME = "LimitRanger"
ANNOTATION = "kubernetes.io/limit-ranger"
Resources = Mapping[str, Any]


def _aggregate(errors: list[str]) -> str:
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _show(value: Any) -> str:
    try:
        return canonical(value)
    except Exception:
        return str(value)


def min_constraint(
    kind: str, name: str, enforced: Any, requests: Resources, limits: Resources
) -> str | None:
    bound = quantity_or_zero(enforced)
    if name not in requests:
        return f"minimum {name} usage per {kind} is {_show(enforced)}.  No request is specified"
    if quantity_or_zero(requests[name]) < bound:
        return f"minimum {name} usage per {kind} is {_show(enforced)}, but request is {_show(requests[name])}"
    if name in limits and quantity_or_zero(limits[name]) < bound:
        return f"minimum {name} usage per {kind} is {_show(enforced)}, but limit is {_show(limits[name])}"
    return None


def max_constraint(
    kind: str, name: str, enforced: Any, requests: Resources, limits: Resources
) -> str | None:
    bound = quantity_or_zero(enforced)
    if name not in limits:
        return f"maximum {name} usage per {kind} is {_show(enforced)}.  No limit is specified"
    if quantity_or_zero(limits[name]) > bound:
        return f"maximum {name} usage per {kind} is {_show(enforced)}, but limit is {_show(limits[name])}"
    if name in requests and quantity_or_zero(requests[name]) > bound:
        return f"maximum {name} usage per {kind} is {_show(enforced)}, but request is {_show(requests[name])}"
    return None


def max_request_constraint(kind: str, name: str, enforced: Any, requests: Resources) -> str | None:
    if name not in requests:
        return f"maximum {name} usage per {kind} is {_show(enforced)}.  No request is specified"
    if quantity_or_zero(requests[name]) > quantity_or_zero(enforced):
        return f"maximum {name} usage per {kind} is {_show(enforced)}, but request is {_show(requests[name])}"
    return None


def ratio_constraint(
    kind: str, name: str, enforced: Any, requests: Resources, limits: Resources
) -> str | None:
    request = quantity_or_zero(requests.get(name, 0))
    limit = quantity_or_zero(limits.get(name, 0))
    if request == 0:
        return f"{name} max limit to request ratio per {kind} is {_show(enforced)}, but no request is specified or request is 0"
    if limit == 0:
        return f"{name} max limit to request ratio per {kind} is {_show(enforced)}, but no limit is specified or limit is 0"
    ratio = limit / request
    if ratio > quantity_or_zero(enforced):
        return f"{name} max limit to request ratio per {kind} is {_show(enforced)}, but provided ratio is {float(ratio):f}"
    return None


def _resources(container: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = container.get("resources") or {}
    return dict(resources.get("requests") or {}), dict(resources.get("limits") or {})


def check(kind: str, limit: Mapping[str, Any], requests: Resources, limits: Resources) -> list[str]:
    """Rule 3 for one limit item and one set of requests and limits."""
    errors: list[str] = []
    for name, value in (limit.get("min") or {}).items():
        errors.extend(e for e in [min_constraint(kind, name, value, requests, limits)] if e)
    for name, value in (limit.get("max") or {}).items():
        errors.extend(e for e in [max_constraint(kind, name, value, requests, limits)] if e)
    for name, value in (limit.get("maxLimitRequestRatio") or {}).items():
        errors.extend(e for e in [ratio_constraint(kind, name, value, requests, limits)] if e)
    return errors


def _total(items: Iterable[Mapping[str, Any]]) -> dict[str, Fraction]:
    """The sum of each resource named by every item (a resource missing from one is left out)."""
    items = list(items)
    if not items:
        return {}
    names = set.intersection(*(set(i) for i in items))
    return {n: sum((quantity_or_zero(i[n]) for i in items), Fraction(0)) for n in names}


def pod_errors(limit_range: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    init = [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    errors: list[str] = []
    for limit in (limit_range.get("spec") or {}).get("limits") or []:
        if limit.get("type") == "Container":
            for container in [*init, *containers]:
                errors.extend(check("Container", limit, *_resources(container)))
        elif limit.get("type") == "Pod":
            requests = _total(_resources(c)[0] for c in containers)
            limits = _total(_resources(c)[1] for c in containers)
            for container in init:  # an init container runs alone: the pod needs its share
                for target, source in zip((requests, limits), _resources(container), strict=True):
                    for name, value in source.items():
                        if name in target:
                            target[name] = max(target[name], quantity_or_zero(value))
            errors.extend(check("Pod", limit, requests, limits))
    return errors


def claim_errors(limit_range: Mapping[str, Any], claim: Mapping[str, Any]) -> list[str]:
    requests = dict(((claim.get("spec") or {}).get("resources") or {}).get("requests") or {})
    errors: list[str] = []
    for limit in (limit_range.get("spec") or {}).get("limits") or []:
        if limit.get("type") != "PersistentVolumeClaim":
            continue
        for name, value in (limit.get("min") or {}).items():
            errors.extend(
                e for e in [min_constraint("PersistentVolumeClaim", name, value, requests, {})] if e
            )
        for name, value in (limit.get("max") or {}).items():
            errors.extend(
                e
                for e in [max_request_constraint("PersistentVolumeClaim", name, value, requests)]
                if e
            )
    return errors


def apply_defaults(limit_range: Mapping[str, Any], pod: dict[str, Any]) -> list[str]:
    """Rule 2: the defaults set, as the annotation lists them."""
    default_requests: dict[str, Any] = {}
    default_limits: dict[str, Any] = {}
    for limit in (limit_range.get("spec") or {}).get("limits") or []:
        if limit.get("type") == "Container":
            default_requests.update(limit.get("defaultRequest") or {})
            default_limits.update(limit.get("default") or {})
    notes: list[str] = []
    spec = pod.get("spec") or {}
    for key, what in (("containers", "container"), ("initContainers", "init container")):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            resources = container.setdefault("resources", {})
            requests = resources.setdefault("requests", {})
            limits = resources.setdefault("limits", {})
            set_requests = sorted(n for n in default_requests if n not in requests)
            set_limits = sorted(n for n in default_limits if n not in limits)
            for name in set_requests:
                requests[name] = default_requests[name]
            for name in set_limits:
                limits[name] = default_limits[name]
            if not requests:
                resources.pop("requests")
            if not limits:
                resources.pop("limits")
            if set_requests:
                notes.append(
                    f"{', '.join(set_requests)} request for {what} {container.get('name')}"
                )
            if set_limits:
                notes.append(f"{', '.join(set_limits)} limit for {what} {container.get('name')}")
    return notes


class LimitRangerPlugin:
    name = PLUGIN_NAME

    @staticmethod
    def _concerns(request: AdmissionRequest) -> bool:
        """Rule 1."""
        if request.group != "" or request.subresource:
            return False
        if request.old_object and (request.old_object.get("metadata") or {}).get(
            "deletionTimestamp"
        ):
            return False
        if request.resource == "pods":
            return request.operation == CREATE
        return request.resource == "persistentvolumeclaims" and request.operation in (
            CREATE,
            UPDATE,
        )

    @staticmethod
    async def _ranges(request: AdmissionRequest, reader: ObjectReader) -> list[dict[str, Any]]:
        return await reader.list("limitranges", request.namespace)

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not self._concerns(request) or request.resource != "pods":
            return
        notes: list[str] = []
        for limit_range in await self._ranges(request, reader):
            notes.extend(apply_defaults(limit_range, request.object))
        if notes:
            annotations = request.object.setdefault("metadata", {}).setdefault("annotations", {})
            annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not self._concerns(request):
            return
        for limit_range in await self._ranges(request, reader):
            if request.resource == "pods":
                errors = pod_errors(limit_range, request.object)
            else:
                errors = claim_errors(limit_range, request.object)
            if errors:
                raise forbidden(request, _aggregate(errors))
