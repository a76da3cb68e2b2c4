"""Tables of the networking, storage and scheduling kinds, as Kubernetes' ``printers.go``.

Rules, per kind:

1. Ingress (networking.k8s.io): CLASS is ``spec.ingressClassName`` (``<none>``); HOSTS the
   rules' hosts comma-joined, ``*`` when no rule names one; ADDRESS the load balancer's IPs
   and hostnames comma-joined; PORTS ``80``, or ``80, 443`` when the Ingress has TLS.
2. IngressClass: CONTROLLER; PARAMETERS ``<kind>.<apiGroup>/<name>`` (the group only when
   given), ``<none>`` without parameters.
3. StorageClass (storage.k8s.io): NAME gains `` (default)`` when the
   ``storageclass.kubernetes.io/is-default-class`` (or the beta) annotation is ``true``;
   PROVISIONER, RECLAIMPOLICY (Delete when unset), VOLUMEBINDINGMODE (Immediate when unset),
   ALLOWVOLUMEEXPANSION (``false`` when unset).
4. CSIDriver: ATTACHREQUIRED, PODINFOONMOUNT, STORAGECAPACITY, REQUIRESREPUBLISH as booleans,
   TOKENREQUESTS the audiences comma-joined (``<unset>``), MODES the lifecycle modes
   comma-joined.
5. CSINode: DRIVERS is how many drivers the node has.
6. VolumeAttachment: ATTACHER, PV (``spec.source.persistentVolumeName``), NODE, ATTACHED.
7. PriorityClass (scheduling.k8s.io): VALUE, GLOBAL-DEFAULT (``true``/``false``), AGE,
   PREEMPTIONPOLICY.
8. Event (events.k8s.io): the core Event's table, printed from the core form of the event
   (upstream prints both views with the one printer of the internal type).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.events_v1 import to_core
from kubeward.api.tables import core
from kubeward.api.tables._access import count, flag, items, strings, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import NONE, translate_timestamp_since

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def _bool(value: object) -> bool:
    """A Go ``*bool`` cell: false when unset (kubectl prints ``true``/``false``)."""
    return value is True


# --- Ingress -------------------------------------------------------------------------------

INGRESS_COLUMNS = (
    NAME_COLUMN,
    column("Class", "The name of the IngressClass resource that should be used for this Ingress."),
    column("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
    column("Address", "Address is a list containing ingress points for the load-balancer"),
    column("Ports", "Ports of TLS configurations that open"),
    AGE_COLUMN,
)


def print_ingress(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    class_name = value_at(obj, "spec", "ingressClassName")
    hosts = [text(rule, "host") for rule in items(obj, "spec", "rules") if text(rule, "host")]
    addresses = []
    for entry in items(obj, "status", "loadBalancer", "ingress"):
        if text(entry, "ip"):
            addresses.append(text(entry, "ip"))
        elif text(entry, "hostname"):
            addresses.append(text(entry, "hostname"))
    return PrintedRow(
        (
            _name(obj),
            class_name if isinstance(class_name, str) else NONE,
            ",".join(hosts) or "*",
            ",".join(addresses),
            "80, 443" if items(obj, "spec", "tls") else "80",
            _age(obj, now),
        )
    )


INGRESS_CLASS_COLUMNS = (
    NAME_COLUMN,
    column("Controller", "Controller that is responsible for handling this class"),
    column("Parameters", "A reference to a resource with additional parameters"),
    AGE_COLUMN,
)


def print_ingress_class(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    parameters = value_at(obj, "spec", "parameters")
    shown = NONE
    if isinstance(parameters, Mapping):
        shown = text(parameters, "kind")
        if isinstance(parameters.get("apiGroup"), str):
            shown += "." + text(parameters, "apiGroup")
        shown += "/" + text(parameters, "name")
    return PrintedRow((_name(obj), text(obj, "spec", "controller"), shown, _age(obj, now)))


# --- storage.k8s.io ---------------------------------------------------------------------------

STORAGE_CLASS_COLUMNS = (
    NAME_COLUMN,
    column("Provisioner", "Indicates the type of the provisioner."),
    column("ReclaimPolicy", "Indicates the type of the reclaim policy."),
    column("VolumeBindingMode", "Indicates when volume binding and dynamic provisioning occur."),
    column("AllowVolumeExpansion", "Indicates whether the storage class allows volume expand."),
    AGE_COLUMN,
)


def is_default_class(obj: Mapping[str, Any]) -> bool:
    annotations = value_at(obj, "metadata", "annotations")
    if not isinstance(annotations, Mapping):
        return False
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def print_storage_class(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    name = _name(obj) + (" (default)" if is_default_class(obj) else "")
    return PrintedRow(
        (
            name,
            text(obj, "provisioner"),
            text(obj, "reclaimPolicy") or "Delete",
            text(obj, "volumeBindingMode") or "Immediate",
            _bool(value_at(obj, "allowVolumeExpansion")),
            _age(obj, now),
        )
    )


CSI_DRIVER_COLUMNS = (
    NAME_COLUMN,
    column(
        "AttachRequired",
        "Indicates this CSI volume driver requires an attach operation.",
        type="boolean",
    ),
    column(
        "PodInfoOnMount",
        "Indicates this CSI volume driver requires additional pod information.",
        type="boolean",
    ),
    column(
        "StorageCapacity",
        "Indicates this CSI volume driver publishes storage capacity.",
        type="boolean",
    ),
    column(
        "TokenRequests", "Indicates the audiences of the service account tokens the driver gets."
    ),
    column(
        "RequiresRepublish",
        "Indicates this CSI volume driver requires repeated calls to NodePublishVolume.",
        type="boolean",
    ),
    column("Modes", "Indicates volume lifecycle modes supported by this CSI driver."),
    AGE_COLUMN,
)


def print_csi_driver(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    requests = items(obj, "spec", "tokenRequests")
    tokens = ",".join(text(r, "audience") for r in requests) if requests else "<unset>"
    return PrintedRow(
        (
            _name(obj),
            _bool(value_at(obj, "spec", "attachRequired")),
            _bool(value_at(obj, "spec", "podInfoOnMount")),
            _bool(value_at(obj, "spec", "storageCapacity")),
            tokens,
            _bool(value_at(obj, "spec", "requiresRepublish")),
            ",".join(strings(obj, "spec", "volumeLifecycleModes")),
            _age(obj, now),
        )
    )


CSI_NODE_COLUMNS = (
    NAME_COLUMN,
    column(
        "Drivers",
        "Drivers indicates the number of CSI drivers registered on the node",
        type="integer",
    ),
    AGE_COLUMN,
)


def print_csi_node(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow((_name(obj), count(obj, "spec", "drivers"), _age(obj, now)))


VOLUME_ATTACHMENT_COLUMNS = (
    NAME_COLUMN,
    column(
        "Attacher",
        "Attacher indicates the name of the volume driver that must handle this request.",
    ),
    column("PV", "Name of the persistent volume that is being attached."),
    column("Node", "The node that the volume should be attached to."),
    column("Attached", "Indicates the volume is successfully attached.", type="boolean"),
    AGE_COLUMN,
)


def print_volume_attachment(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow(
        (
            _name(obj),
            text(obj, "spec", "attacher"),
            text(obj, "spec", "source", "persistentVolumeName"),
            text(obj, "spec", "nodeName"),
            flag(obj, "status", "attached"),
            _age(obj, now),
        )
    )


# --- PriorityClass -----------------------------------------------------------------------------

PRIORITY_CLASS_COLUMNS = (
    NAME_COLUMN,
    column("Value", "The value of this priority class.", type="integer"),
    column("Global-Default", "Whether this priority class is the default one.", type="boolean"),
    AGE_COLUMN,
    column("PreemptionPolicy", "Whether pods of this class may preempt lower-priority pods."),
)


def print_priority_class(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    value = value_at(obj, "value")
    return PrintedRow(
        (
            _name(obj),
            value if isinstance(value, int) and not isinstance(value, bool) else 0,
            _bool(value_at(obj, "globalDefault")),
            _age(obj, now),
            text(obj, "preemptionPolicy"),
        )
    )


_CORE_EVENT = core.PRINTERS[("", "Event")]


def print_event_v1(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    return _CORE_EVENT.print_row(to_core(dict(obj)), now)


PRINTERS: dict[KindKey, TablePrinter] = {
    ("events.k8s.io", "Event"): TablePrinter(_CORE_EVENT.columns, print_event_v1),
    ("networking.k8s.io", "Ingress"): TablePrinter(INGRESS_COLUMNS, print_ingress),
    ("networking.k8s.io", "IngressClass"): TablePrinter(INGRESS_CLASS_COLUMNS, print_ingress_class),
    ("storage.k8s.io", "StorageClass"): TablePrinter(STORAGE_CLASS_COLUMNS, print_storage_class),
    ("storage.k8s.io", "CSIDriver"): TablePrinter(CSI_DRIVER_COLUMNS, print_csi_driver),
    ("storage.k8s.io", "CSINode"): TablePrinter(CSI_NODE_COLUMNS, print_csi_node),
    ("storage.k8s.io", "VolumeAttachment"): TablePrinter(
        VOLUME_ATTACHMENT_COLUMNS, print_volume_attachment
    ),
    ("scheduling.k8s.io", "PriorityClass"): TablePrinter(
        PRIORITY_CLASS_COLUMNS, print_priority_class
    ),
}
"""The printers of this module, keyed by (API group, kind)."""
