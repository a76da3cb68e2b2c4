"""Validation and defaulting of core/v1 PersistentVolume and PersistentVolumeClaim, as
``pkg/apis/core/validation`` (``ValidatePersistentVolume``, ``ValidatePersistentVolumeClaim``
and their updates) words it.

Rules:
 1. Access modes: at least one, each ReadOnlyMany, ReadWriteMany, ReadWriteOnce or
    ReadWriteOncePod; ReadWriteOncePod stands alone.
 2. A volume's ``capacity`` holds ``storage`` and nothing else, a positive quantity.
 3. A volume names exactly one volume source (``hostPath``, ``nfs``, ``local``, ``csi`` …);
    ``hostPath.path`` is required; the reclaim policy is Delete, Recycle or Retain (default
    Retain); ``volumeMode`` is Block or Filesystem (default Filesystem).
 4. A claim requests ``resources.requests.storage`` greater than zero; its spec may change after
    creation only in ``resources.requests`` (and ``volumeAttributesClassName``), and only while
    it is bound.
 5. Both start in phase ``Pending``.
"""

from __future__ import annotations

import copy
from typing import Any

from kubeward.api.validation import field as f
from kubeward.api.validation.quantity import QUANTITY_MESSAGE, parse_quantity
from kubeward.errors import Cause

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
VOLUME_MODES = ("Block", "Filesystem")
VOLUME_SOURCES = (
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "iscsi",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def check_quantity(value: Any, at: str, *, positive: bool = False) -> list[Cause]:
    """A well-formed quantity, not negative (or, with ``positive``, greater than zero)."""
    parsed = parse_quantity(value)
    if parsed is None:
        return [f.invalid(at, value, QUANTITY_MESSAGE)]
    if positive and parsed <= 0:
        return [f.invalid(at, value, "must be greater than zero")]
    if parsed < 0:
        return [f.invalid(at, value, "must be greater than or equal to 0")]
    return []


def _access_modes(spec: dict[str, Any]) -> list[Cause]:
    modes = spec.get("accessModes")
    if not isinstance(modes, list) or not modes:
        return [f.required("spec.accessModes", "at least 1 access mode is required")]
    causes = [
        f.not_supported("spec.accessModes", mode, ACCESS_MODES)
        for mode in modes
        if mode not in ACCESS_MODES
    ]
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        causes.append(
            f.forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes")
        )
    return causes


def _volume_mode(spec: dict[str, Any]) -> list[Cause]:
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        return [f.not_supported("spec.volumeMode", mode, VOLUME_MODES)]
    return []


def default_persistent_volume(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def default_persistent_volume_claim(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def validate_persistent_volume(obj: dict[str, Any]) -> list[Cause]:
    """Rules 1–3."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [f.required("spec")]
    causes = _access_modes(spec)
    capacity = spec.get("capacity")
    if not isinstance(capacity, dict) or not capacity:
        causes.append(f.required("spec.capacity"))
    else:
        if "storage" not in capacity or len(capacity) > 1:
            causes.append(f.not_supported("spec.capacity", capacity, ("storage",)))
        for name, value in capacity.items():
            causes.extend(check_quantity(value, f"spec.capacity[{name}]", positive=True))
    sources = [s for s in VOLUME_SOURCES if spec.get(s) is not None]
    if not sources:
        causes.append(f.required("spec", "must specify a volume type"))
    for extra in sources[1:]:
        causes.append(f.forbidden(f"spec.{extra}", "may not specify more than 1 volume type"))
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict) and not host_path.get("path"):
        causes.append(f.required("spec.hostPath.path"))
    local = spec.get("local")
    if isinstance(local, dict) and not local.get("path"):
        causes.append(f.required("spec.local.path"))
    nfs = spec.get("nfs")
    if isinstance(nfs, dict):
        if not nfs.get("server"):
            causes.append(f.required("spec.nfs.server"))
        if not nfs.get("path"):
            causes.append(f.required("spec.nfs.path"))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy is not None and policy not in RECLAIM_POLICIES:
        causes.append(
            f.not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES)
        )
    causes.extend(_volume_mode(spec))
    return causes


def validate_persistent_volume_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    spec, old_spec = _spec(new), _spec(old)
    causes: list[Cause] = []
    for source in VOLUME_SOURCES:
        if old_spec.get(source) is not None and spec.get(source) != old_spec.get(source):
            causes.append(
                f.forbidden(
                    "spec.persistentvolumesource", "spec.persistentvolumesource is forbidden."
                )
            )
            break
    if old_spec.get("volumeMode") != spec.get("volumeMode"):
        causes.append(f.invalid("spec.volumeMode", spec.get("volumeMode"), "field is immutable"))
    return causes


def storage_request(spec: dict[str, Any]) -> Any:
    resources = spec.get("resources")
    requests = resources.get("requests") if isinstance(resources, dict) else None
    return requests.get("storage") if isinstance(requests, dict) else None


def validate_persistent_volume_claim(obj: dict[str, Any]) -> list[Cause]:
    """Rules 1 and 4 (create)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [f.required("spec")]
    causes = _access_modes(spec)
    storage = storage_request(spec)
    if storage is None:
        causes.append(f.required("spec.resources[storage]"))
    else:
        causes.extend(check_quantity(storage, "spec.resources[storage]", positive=True))
    resources = spec.get("resources") if isinstance(spec.get("resources"), dict) else {}
    for part in ("requests", "limits"):
        values = (resources or {}).get(part)
        if isinstance(values, dict):
            for name, value in values.items():
                if part == "requests" and name == "storage":
                    continue
                causes.extend(check_quantity(value, f"spec.resources.{part}[{name}]"))
    causes.extend(_volume_mode(spec))
    return causes


def validate_persistent_volume_claim_update(
    new: dict[str, Any], old: dict[str, Any]
) -> list[Cause]:
    """Rule 4 (update)."""
    spec, old_spec = copy.deepcopy(_spec(new)), copy.deepcopy(_spec(old))
    bound = (old.get("status") or {}).get("phase") == "Bound"
    if not old_spec.get("volumeName") and spec.get("volumeName"):
        old_spec["volumeName"] = spec["volumeName"]  # binding a claim names its volume
    if bound:
        for mutable in ("resources", "volumeAttributesClassName"):
            spec.pop(mutable, None)
            old_spec.pop(mutable, None)
    if spec != old_spec:
        return [
            f.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and "
                "volumeAttributesClassName for bound claims",
            )
        ]
    new_storage = parse_quantity(storage_request(_spec(new)))
    old_storage = parse_quantity(storage_request(_spec(old)))
    if bound and new_storage is not None and old_storage is not None and new_storage < old_storage:
        return [
            f.forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        ]
    return []
