"""What one object counts against a quota, as upstream's quota evaluators count it.

Rules (``pkg/quota/v1/evaluator/core``, ``k8s.io/apiserver/pkg/quota/v1/generic``):
 1. Every object counts 1 in ``count/<resource>.<group>`` (``count/<resource>`` for core).
 2. Pods that are not Succeeded or Failed count ``pods`` and, for each container resource,
    ``requests.R`` (also plain ``cpu``/``memory``) and ``limits.R``: the sum over containers,
    or the largest init container when larger, plus overhead.
 3. Services count ``services``, ``services.nodeports`` (one per port of a NodePort or
    LoadBalancer Service) and ``services.loadbalancers``; ConfigMaps, Secrets,
    ReplicationControllers, ResourceQuotas and PersistentVolumeClaims count their own name;
    a claim also counts ``requests.storage`` and the same per storage class
    (``<class>.storageclass.storage.k8s.io/requests.storage`` and ``…/persistentvolumeclaims``).
 4. A quota's scopes select pods: ``Terminating`` (activeDeadlineSeconds set), ``NotTerminating``,
    ``BestEffort`` (no requests or limits at all), ``NotBestEffort``; a scoped quota counts
    nothing but pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from kubeward.api.quantity import quantity_or_zero

_COMPUTE = ("cpu", "memory", "ephemeral-storage")
_NAMED = {
    "configmaps",
    "secrets",
    "replicationcontrollers",
    "resourcequotas",
    "persistentvolumeclaims",
}


def _add(into: dict[str, Fraction], name: str, value: Fraction) -> None:
    into[name] = into.get(name, Fraction(0)) + value


def _container_totals(spec: Mapping[str, Any], kind: str) -> dict[str, Fraction]:
    total: dict[str, Fraction] = {}
    for container in spec.get("containers") or []:
        for name, value in ((container.get("resources") or {}).get(kind) or {}).items():
            _add(total, name, quantity_or_zero(value))
    for container in spec.get("initContainers") or []:
        for name, value in ((container.get("resources") or {}).get(kind) or {}).items():
            total[name] = max(total.get(name, Fraction(0)), quantity_or_zero(value))
    for name, value in (spec.get("overhead") or {}).items():
        _add(total, name, quantity_or_zero(value))
    return total


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_best_effort(pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            resources = container.get("resources") or {}
            if resources.get("requests") or resources.get("limits"):
                return False
    return True


def matches_scopes(quota: Mapping[str, Any], resource: str, obj: Mapping[str, Any]) -> bool:
    """Rule 4."""
    scopes = list((quota.get("spec") or {}).get("scopes") or [])
    if not scopes:
        return True
    if resource != "pods":
        return False
    spec = obj.get("spec") or {}
    for scope in scopes:
        if scope == "Terminating" and spec.get("activeDeadlineSeconds") is None:
            return False
        if scope == "NotTerminating" and spec.get("activeDeadlineSeconds") is not None:
            return False
        if scope == "BestEffort" and not is_best_effort(obj):
            return False
        if scope == "NotBestEffort" and is_best_effort(obj):
            return False
    return True


def quota_usage(group: str, resource: str, obj: Mapping[str, Any]) -> dict[str, Fraction]:
    """Rules 1-3: what ``obj`` counts."""
    usage: dict[str, Fraction] = {}
    one = Fraction(1)
    usage[f"count/{resource}" if not group else f"count/{resource}.{group}"] = one
    if group:
        return usage
    spec = obj.get("spec") or {}
    if resource == "pods":
        if is_terminal(obj):
            return {}
        usage["pods"] = one
        requests = _container_totals(spec, "requests")
        limits = _container_totals(spec, "limits")
        for name, value in requests.items():
            usage[f"requests.{name}"] = value
            if name in _COMPUTE:
                usage[name] = value
        for name, value in limits.items():
            usage[f"limits.{name}"] = value
    elif resource == "services":
        usage["services"] = one
        kind = spec.get("type", "ClusterIP")
        if kind in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = Fraction(len(spec.get("ports") or []))
        if kind == "LoadBalancer":
            usage["services.loadbalancers"] = one
    elif resource in _NAMED:
        usage[resource] = one
        if resource == "persistentvolumeclaims":
            storage = quantity_or_zero(
                ((spec.get("resources") or {}).get("requests") or {}).get("storage")
            )
            usage["requests.storage"] = storage
            storage_class = spec.get("storageClassName")
            if storage_class:
                prefix = f"{storage_class}.storageclass.storage.k8s.io/"
                usage[prefix + "requests.storage"] = storage
                usage[prefix + "persistentvolumeclaims"] = one
    return usage
