"""The ReplicaSet table, as Kubernetes' ``printers.go`` prints it.

Rules:

1. DESIRED is ``spec.replicas`` (1 when unset, as the server defaults it), CURRENT is
   ``status.replicas`` and READY ``status.readyReplicas`` (0 when unset); all are integers.
2. The wide columns are the template's container names and images, comma-joined, and the
   selector as a label query (``<invalid>`` when it is malformed), as for a Deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import integer, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import INVALID, selector_string, translate_timestamp_since
from kubeward.api.tables.groups import container_cells

REPLICA_SET_COLUMNS = (
    NAME_COLUMN,
    column(
        "Desired",
        "Replicas is the number of desired pods. This is a pointer to distinguish between "
        "explicit zero and unspecified. Defaults to 1.",
        type="integer",
    ),
    column(
        "Current",
        "Replicas is the most recently observed number of non-terminating pods.",
        type="integer",
    ),
    column(
        "Ready",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
        type="integer",
    ),
    AGE_COLUMN,
    column("Containers", "Names of each container in the template.", priority=1),
    column("Images", "Images referenced by each container in the template.", priority=1),
    column(
        "Selector",
        "Selector is a label query over pods that should match the replica count.",
        priority=1,
    ),
)


def print_replica_set(rs: Mapping[str, Any], now: datetime) -> PrintedRow:
    replicas = value_at(rs, "spec", "replicas")
    desired = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    names, images = container_cells(rs)
    selector = selector_string(value_at(rs, "spec", "selector"))
    return PrintedRow(
        (
            text(rs, "metadata", "name"),
            desired,
            integer(rs, "status", "replicas"),
            integer(rs, "status", "readyReplicas"),
            translate_timestamp_since(value_at(rs, "metadata", "creationTimestamp"), now),
            names,
            images,
            INVALID if selector is None else selector,
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("apps", "ReplicaSet"): TablePrinter(REPLICA_SET_COLUMNS, print_replica_set),
}
"""The printers of this module, keyed by (API group, kind)."""
