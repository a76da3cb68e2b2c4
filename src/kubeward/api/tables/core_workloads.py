"""Tables of core/v1 ReplicationController, PodTemplate and ResourceQuota, as ``printers.go``.

Rules:
 1. ReplicationController: DESIRED ``spec.replicas``, CURRENT ``status.replicas``, READY
    ``status.readyReplicas``; wide: containers, images and the selector (``a=b``, ``<none>``).
 2. PodTemplate: containers, images and the template's labels.
 3. ResourceQuota: for each resource of ``spec.hard`` in name order, ``name: used/hard`` from the
    status (``0`` when not reported yet); ``limits.*`` resources go to LIMIT, the rest to REQUEST.
 4. LimitRange has no printer: Kubernetes serves it with the default Name/Created At table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import integer, items, mapping, string_map, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import format_labels, translate_timestamp_since


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def _containers(template: Mapping[str, Any]) -> tuple[str, str]:
    containers = items(template, "spec", "containers")
    return ",".join(text(c, "name") for c in containers), ",".join(
        text(c, "image") for c in containers
    )


RC_COLUMNS = (
    NAME_COLUMN,
    column("Desired", "The number of pods wanted.", type="integer"),
    column("Current", "The number of pods that exist.", type="integer"),
    column("Ready", "The number of pods that are ready.", type="integer"),
    AGE_COLUMN,
    column("Containers", "Names of each container in the template.", priority=1),
    column("Images", "Images referenced by each container in the template.", priority=1),
    column("Selector", "The labels of the pods the controller counts.", priority=1),
)
POD_TEMPLATE_COLUMNS = (
    NAME_COLUMN,
    column("Containers", "Names of each container in the template."),
    column("Images", "Images referenced by each container in the template."),
    column("Pod Labels", "The labels of the template's pods."),
)
QUOTA_COLUMNS = (
    NAME_COLUMN,
    AGE_COLUMN,
    column("Request", "Used and hard amounts of the requests the quota limits."),
    column("Limit", "Used and hard amounts of the limits.* resources the quota limits."),
)


def print_replication_controller(rc: Mapping[str, Any], now: datetime) -> PrintedRow:
    names, images = _containers(mapping(rc, "spec", "template"))
    replicas = value_at(rc, "spec", "replicas")
    return PrintedRow(
        (
            text(rc, "metadata", "name"),
            replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1,
            integer(rc, "status", "replicas"),
            integer(rc, "status", "readyReplicas"),
            _age(rc, now),
            names,
            images,
            format_labels(string_map(rc, "spec", "selector")),
        )
    )


def print_pod_template(template: Mapping[str, Any], now: datetime) -> PrintedRow:
    del now
    names, images = _containers(mapping(template, "template"))
    return PrintedRow(
        (
            text(template, "metadata", "name"),
            names,
            images,
            format_labels(string_map(template, "template", "metadata", "labels")),
        )
    )


def print_resource_quota(quota: Mapping[str, Any], now: datetime) -> PrintedRow:
    requests: list[str] = []
    limits: list[str] = []
    used, hard = mapping(quota, "status", "used"), mapping(quota, "status", "hard")
    for name in sorted(mapping(quota, "spec", "hard")):
        cell = f"{name}: {used.get(name, '0')}/{hard.get(name, '0')}"
        pieces = name.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(cell)
    return PrintedRow(
        (text(quota, "metadata", "name"), _age(quota, now), ", ".join(requests), ", ".join(limits))
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("", "ReplicationController"): TablePrinter(RC_COLUMNS, print_replication_controller),
    ("", "PodTemplate"): TablePrinter(POD_TEMPLATE_COLUMNS, print_pod_template),
    ("", "ResourceQuota"): TablePrinter(QUOTA_COLUMNS, print_resource_quota),
}
