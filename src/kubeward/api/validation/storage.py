"""Validation and defaulting of storage.k8s.io/v1 StorageClass, CSIDriver, CSINode and
VolumeAttachment, as ``pkg/apis/storage/v1/defaults.go`` and ``pkg/apis/storage/validation``.

Defaulting:

 1. StorageClass: ``reclaimPolicy`` Delete, ``volumeBindingMode`` Immediate.
 2. CSIDriver: ``attachRequired`` true, ``podInfoOnMount`` false, ``storageCapacity`` false,
    ``requiresRepublish`` false, ``fsGroupPolicy`` ReadWriteOnceWithFSType,
    ``volumeLifecycleModes`` [Persistent].

Validation:

 1. StorageClass: ``provisioner`` required, a qualified name (checked lower-cased); at most
    512 parameters with non-empty keys; ``reclaimPolicy`` Delete or Retain;
    ``volumeBindingMode`` Immediate or WaitForFirstConsumer; on update ``parameters``,
    ``provisioner``, ``reclaimPolicy`` are forbidden to change and ``volumeBindingMode`` is
    immutable.
 2. CSIDriver: ``fsGroupPolicy`` and ``volumeLifecycleModes`` from their closed sets;
    ``attachRequired``, ``podInfoOnMount`` and ``volumeLifecycleModes`` immutable.
 3. CSINode: every driver has a name (unique) and a ``nodeID``; ``allocatable.count`` is not
    negative.
 4. VolumeAttachment: ``attacher`` and ``nodeName`` required; ``source`` names exactly one of
    ``persistentVolumeName`` and ``inlineVolumeSpec``; the spec is immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import check_dns1123_subdomain, check_qualified_name
from kubeward.api.validation.workload import nonnegative, spec_of
from kubeward.errors import Cause

RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
FS_GROUP_POLICIES = ("File", "None", "ReadWriteOnceWithFSType")
LIFECYCLE_MODES = ("Ephemeral", "Persistent")
MAX_PARAMETERS = 512
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def default_storage_class(obj: dict[str, Any]) -> None:
    if not obj.get("reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if not obj.get("volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


def validate_storage_class(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    provisioner = obj.get("provisioner")
    if not provisioner:
        causes.append(field.required("provisioner", str(provisioner or "")))
    elif isinstance(provisioner, str):
        causes.extend(
            field.invalid("provisioner", provisioner.lower(), msg)
            for msg in check_qualified_name(provisioner.lower())
        )
    parameters = obj.get("parameters") or {}
    if isinstance(parameters, Mapping):
        if len(parameters) > MAX_PARAMETERS:
            causes.append(field.too_long("parameters", MAX_PARAMETERS))
        for key in parameters:
            if not key:
                causes.append(field.invalid("parameters", key, "field can not be empty."))
    policy = obj.get("reclaimPolicy")
    if policy and policy not in RECLAIM_POLICIES:
        causes.append(field.not_supported("reclaimPolicy", policy, RECLAIM_POLICIES))
    mode = obj.get("volumeBindingMode")
    if not mode:
        causes.append(field.required("volumeBindingMode"))
    elif mode not in BINDING_MODES:
        causes.append(field.not_supported("volumeBindingMode", mode, BINDING_MODES))
    return causes


def validate_storage_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    if (new.get("parameters") or {}) != (old.get("parameters") or {}):
        causes.append(field.forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        causes.append(field.forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        causes.append(field.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
        causes.append(
            field.invalid("volumeBindingMode", new.get("volumeBindingMode"), "field is immutable")
        )
    return causes


def default_csi_driver(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("attachRequired", True)
    spec.setdefault("podInfoOnMount", False)
    spec.setdefault("storageCapacity", False)
    spec.setdefault("requiresRepublish", False)
    spec.setdefault("fsGroupPolicy", "ReadWriteOnceWithFSType")
    if not spec.get("volumeLifecycleModes"):
        spec["volumeLifecycleModes"] = ["Persistent"]


def validate_csi_driver(obj: Mapping[str, Any]) -> list[Cause]:
    spec = spec_of(obj)
    causes: list[Cause] = []
    for key in ("attachRequired", "podInfoOnMount"):
        if spec.get(key) is None:
            causes.append(field.required(f"spec.{key}"))
    policy = spec.get("fsGroupPolicy")
    if policy is not None and policy not in FS_GROUP_POLICIES:
        causes.append(field.not_supported("spec.fsGroupPolicy", policy, FS_GROUP_POLICIES))
    for i, mode in enumerate(spec.get("volumeLifecycleModes") or []):
        if mode not in LIFECYCLE_MODES:
            causes.append(
                field.not_supported(f"spec.volumeLifecycleModes[{i}]", mode, LIFECYCLE_MODES)
            )
    return causes


def validate_csi_driver_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    new_spec, old_spec = spec_of(new), spec_of(old)
    causes: list[Cause] = []
    for key in ("attachRequired", "podInfoOnMount", "volumeLifecycleModes"):
        if new_spec.get(key) != old_spec.get(key):
            causes.append(field.invalid(f"spec.{key}", new_spec.get(key), "field is immutable"))
    return causes


def validate_csi_node(obj: Mapping[str, Any]) -> list[Cause]:
    drivers = spec_of(obj).get("drivers")
    causes: list[Cause] = []
    if drivers is None:
        return [field.required("spec.drivers")]
    seen: set[str] = set()
    for i, driver in enumerate(drivers if isinstance(drivers, list) else []):
        at = f"spec.drivers[{i}]"
        if not isinstance(driver, Mapping):
            causes.append(field.invalid(at, driver, "must be an object"))
            continue
        name = str(driver.get("name") or "")
        if not name:
            causes.append(field.required(f"{at}.name"))
        elif name in seen:
            causes.append(field.duplicate(f"{at}.name", name))
        seen.add(name)
        if not driver.get("nodeID"):
            causes.append(field.required(f"{at}.nodeID"))
        allocatable = driver.get("allocatable")
        if isinstance(allocatable, Mapping):
            causes.extend(nonnegative(allocatable, "count", f"{at}.allocatable"))
    return causes


def validate_volume_attachment(obj: Mapping[str, Any]) -> list[Cause]:
    spec = spec_of(obj)
    causes: list[Cause] = []
    attacher = spec.get("attacher")
    if not attacher:
        causes.append(field.required("spec.attacher"))
    elif isinstance(attacher, str):
        causes.extend(
            field.invalid("spec.attacher", attacher, msg)
            for msg in check_dns1123_subdomain(attacher.lower())
        )
    if not spec.get("nodeName"):
        causes.append(field.required("spec.nodeName"))
    source = spec.get("source") or {}
    has_pv = bool(isinstance(source, Mapping) and source.get("persistentVolumeName"))
    has_inline = bool(isinstance(source, Mapping) and source.get("inlineVolumeSpec"))
    if has_pv == has_inline:
        causes.append(
            Cause(
                "FieldValueRequired",
                "Required value: must specify exactly one of inlineVolumeSpec and "
                "persistentVolumeName",
                "spec.source",
            )
        )
    return causes


def validate_volume_attachment_update(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[Cause]:
    if new.get("spec") != old.get("spec"):
        return [field.invalid("spec", new.get("spec"), "field is immutable")]
    return []
