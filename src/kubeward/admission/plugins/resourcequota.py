"""The ``ResourceQuota`` admission plugin: a write that would exceed a namespace's quota is refused.

Rules (``plugin/pkg/admission/resourcequota`` and the quota evaluators of Kubernetes 1.32):
 1. It looks at creates of any namespaced kind, and at PersistentVolumeClaim updates (a larger
    request), in a namespace that has ResourceQuotas; subresources and dry runs never change usage.
 2. What the object counts (``admission.quota.usage``) is added to each matching quota's
    ``status.used`` (only for resources its ``spec.hard`` names). If any would pass its hard
    limit, the write is 403 ``exceeded quota: NAME, requested: R=V, used: R=V, limited: R=V``.
 3. A quota on a compute resource (``requests.cpu``, ``limits.memory``, …) needs every container
    of a pod to say it: otherwise 403 ``failed quota: NAME: must specify limits.cpu for: web;
    requests.cpu for: web``.
 4. When every quota allows it, their ``status.used`` is raised before the object is stored, as
    upstream's quota admission does; the resourcequota controller later recalculates usage
    (deletions give it back).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from kubeward.admission.interfaces import CREATE, UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.admission.quota.usage import matches_scopes, quota_usage
from kubeward.api.quantity import format_quantity, quantity_or_zero

PLUGIN_NAME = "ResourceQuota"
_CONTAINER_RESOURCES = {
    "requests.cpu": ("requests", "cpu"),
    "requests.memory": ("requests", "memory"),
    "cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}
_BINARY = {"memory", "requests.memory", "limits.memory", "requests.storage"}


def _show(name: str, value: Fraction) -> str:
    binary = name in _BINARY or name.endswith("storage") or "memory" in name
    return f"{name}={format_quantity(value, 'binary' if binary else 'decimal')}"


def missing_resources(quota: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
    """Rule 3: ``limits.cpu for: web`` entries, sorted."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    missing: dict[str, list[str]] = {}
    spec = pod.get("spec") or {}
    for name in hard:
        where = _CONTAINER_RESOURCES.get(name)
        if where is None:
            continue
        kind, resource = where
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            if resource not in ((container.get("resources") or {}).get(kind) or {}):
                missing.setdefault(f"{kind}.{resource}", []).append(str(container.get("name", "")))
    return [f"{name} for: {','.join(sorted(set(who)))}" for name, who in sorted(missing.items())]


class ResourceQuotaPlugin:
    name = PLUGIN_NAME

    @staticmethod
    def _concerns(request: AdmissionRequest) -> bool:
        """Rule 1."""
        if not request.namespace or request.subresource or request.dry_run:
            return False
        if request.operation == CREATE:
            return True
        return (
            request.operation == UPDATE
            and request.group == ""
            and request.resource == "persistentvolumeclaims"
        )

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if not self._concerns(request):
            return
        quotas = await reader.list("resourcequotas", request.namespace)
        if not quotas:
            return
        delta = quota_usage(request.group, request.resource, request.object)
        if request.operation == UPDATE and request.old_object is not None:
            before = quota_usage(request.group, request.resource, request.old_object)
            delta = {k: v - before.get(k, Fraction(0)) for k, v in delta.items()}
            delta = {k: v for k, v in delta.items() if v > 0}
        raised: list[tuple[str, dict[str, Fraction]]] = []
        for quota in sorted(quotas, key=lambda q: str((q.get("metadata") or {}).get("name", ""))):
            name = str((quota.get("metadata") or {}).get("name", ""))
            if not matches_scopes(quota, request.resource, request.object):
                continue
            if request.resource == "pods" and request.group == "":
                missing = missing_resources(quota, request.object)
                if missing:
                    raise forbidden(
                        request, f"failed quota: {name}: must specify {'; '.join(missing)}"
                    )
            hard = {
                k: quantity_or_zero(v)
                for k, v in ((quota.get("spec") or {}).get("hard") or {}).items()
            }
            used = {
                k: quantity_or_zero(v)
                for k, v in ((quota.get("status") or {}).get("used") or {}).items()
            }
            counted = {k: v for k, v in delta.items() if k in hard}
            if not counted:
                continue
            over = sorted(k for k, v in counted.items() if used.get(k, Fraction(0)) + v > hard[k])
            if over:
                raise forbidden(
                    request,
                    f"exceeded quota: {name}, "
                    f"requested: {','.join(_show(k, counted[k]) for k in over)}, "
                    f"used: {','.join(_show(k, used.get(k, Fraction(0))) for k in over)}, "
                    f"limited: {','.join(_show(k, hard[k]) for k in over)}",
                )
            raised.append((name, counted))
        writer = getattr(reader, "update_status", None)
        if writer is None:
            return
        for name, counted in raised:  # rule 4

            def add(
                quota: dict[str, Any], counted: dict[str, Fraction] = counted
            ) -> dict[str, Any]:
                status = quota.setdefault("status", {})
                used = status.setdefault("used", {})
                for key, value in counted.items():
                    total = quantity_or_zero(used.get(key)) + value
                    binary = key in _BINARY or key.endswith("storage") or "memory" in key
                    used[key] = format_quantity(total, "binary" if binary else "decimal")
                status.setdefault("hard", dict((quota.get("spec") or {}).get("hard") or {}))
                return quota

            await writer("resourcequotas", request.namespace, name, add)
