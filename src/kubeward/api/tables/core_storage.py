"""Tables of core/v1 PersistentVolume and PersistentVolumeClaim, as ``printers.go``.

Rules:
 1. ACCESS MODES abbreviates in upstream's fixed order: RWO, ROX, RWX, RWOP, comma-joined.
 2. STATUS is the phase, or ``Terminating`` once deletion has started.
 3. A volume's CLAIM is ``namespace/name`` of its ``claimRef``; its STORAGECLASS is the beta
    annotation if present, else ``storageClassName``.
 4. A claim shows CAPACITY and ACCESS MODES from its status only once it names a volume.
 5. VOLUMEATTRIBUTESCLASS and VOLUMEMODE read ``<unset>`` when absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import strings, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import translate_timestamp_since

UNSET = "<unset>"
_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def access_modes(modes: list[str]) -> str:
    """Rule 1."""
    return ",".join(short for mode, short in _MODES if mode in modes)


def _phase(obj: Mapping[str, Any]) -> str:
    if value_at(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return text(obj, "status", "phase")


def _or_unset(obj: Mapping[str, Any], *path: str) -> str:
    value = value_at(obj, *path)
    return str(value) if value is not None else UNSET


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


PV_COLUMNS = (
    NAME_COLUMN,
    column("Capacity", "The storage the volume offers."),
    column("Access Modes", "The ways the volume can be mounted."),
    column("Reclaim Policy", "What happens to the volume when its claim is released."),
    column("Status", "The phase of the volume."),
    column("Claim", "The claim bound to the volume."),
    column("StorageClass", "StorageClass of the pv"),
    column("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    column("Reason", "Why the volume is in its phase, when it failed."),
    AGE_COLUMN,
    column("VolumeMode", "Whether the volume is a filesystem or a raw block device.", priority=1),
)
PVC_COLUMNS = (
    NAME_COLUMN,
    column("Status", "The phase of the claim."),
    column("Volume", "The volume bound to the claim."),
    column("Capacity", "The storage the bound volume offers."),
    column("Access Modes", "The ways the bound volume can be mounted."),
    column("StorageClass", "StorageClass of the pvc"),
    column("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    column(
        "VolumeMode", "Whether the claim asks for a filesystem or a raw block device.", priority=1
    ),
)


def print_persistent_volume(volume: Mapping[str, Any], now: datetime) -> PrintedRow:
    claim = ""
    if isinstance(value_at(volume, "spec", "claimRef"), Mapping):
        claim = f"{text(volume, 'spec', 'claimRef', 'namespace')}/{text(volume, 'spec', 'claimRef', 'name')}"
    storage_class = text(volume, "metadata", "annotations", _BETA_CLASS) or text(
        volume, "spec", "storageClassName"
    )
    return PrintedRow(
        (
            text(volume, "metadata", "name"),
            text(volume, "spec", "capacity", "storage"),
            access_modes(strings(volume, "spec", "accessModes")),
            text(volume, "spec", "persistentVolumeReclaimPolicy"),
            _phase(volume),
            claim,
            storage_class,
            _or_unset(volume, "spec", "volumeAttributesClassName"),
            text(volume, "status", "reason"),
            _age(volume, now),
            _or_unset(volume, "spec", "volumeMode"),
        )
    )


def print_persistent_volume_claim(claim: Mapping[str, Any], now: datetime) -> PrintedRow:
    storage = modes = ""
    if text(claim, "spec", "volumeName"):
        modes = access_modes(strings(claim, "status", "accessModes"))
        storage = text(claim, "status", "capacity", "storage")
    storage_class = text(claim, "metadata", "annotations", _BETA_CLASS) or text(
        claim, "spec", "storageClassName"
    )
    return PrintedRow(
        (
            text(claim, "metadata", "name"),
            _phase(claim),
            text(claim, "spec", "volumeName"),
            storage,
            modes,
            storage_class,
            _or_unset(claim, "spec", "volumeAttributesClassName"),
            _age(claim, now),
            _or_unset(claim, "spec", "volumeMode"),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("", "PersistentVolume"): TablePrinter(PV_COLUMNS, print_persistent_volume),
    ("", "PersistentVolumeClaim"): TablePrinter(PVC_COLUMNS, print_persistent_volume_claim),
}
