"""Which printer prints which kind: the one place that knows every table printer.

Rules:

1. Printers are keyed by (API group, kind), the group being ``""`` for core/v1.
2. A kind without a printer gets the default table of ``k8s.io/apiserver``'s
   ``DefaultTableConvertor``: ``Name`` and ``Created At`` (type ``date``, RFC 3339 in UTC).
   Kubernetes itself serves Role and ClusterRole this way.
3. Adding a kind is a printer function and one entry in a ``PRINTERS`` map of the module for
   its group; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from kubeward.api.tables import (
    admission_policies,
    cluster_kinds,
    core,
    core_storage,
    core_workloads,
    endpoints,
    flowcontrol,
    groups,
    pods,
    replicasets,
    workloads,
)
from kubeward.api.tables._access import text, value_at
from kubeward.api.tables.columns import (
    CREATION_TIMESTAMP_DESCRIPTION,
    NAME_COLUMN,
    ColumnDefinition,
    KindKey,
    PrintedRow,
    TablePrinter,
)
from kubeward.api.tables.formatting import format_created_at

DEFAULT_COLUMNS = (
    NAME_COLUMN,
    ColumnDefinition("Created At", "date", description=CREATION_TIMESTAMP_DESCRIPTION),
)


def print_default(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    del now  # "Created At" is absolute; no age to measure
    return PrintedRow(
        (
            text(obj, "metadata", "name"),
            format_created_at(value_at(obj, "metadata", "creationTimestamp")),
        )
    )


DEFAULT_PRINTER = TablePrinter(DEFAULT_COLUMNS, print_default)

PRINTERS: Mapping[KindKey, TablePrinter] = MappingProxyType(
    {
        ("", "Pod"): pods.POD_PRINTER,
        **core.PRINTERS,
        **core_storage.PRINTERS,
        **core_workloads.PRINTERS,
        **endpoints.PRINTERS,
        **groups.PRINTERS,
        **flowcontrol.PRINTERS,
        **replicasets.PRINTERS,
        **workloads.PRINTERS,
        **cluster_kinds.PRINTERS,
        **admission_policies.PRINTERS,
    }
)
"""Every kind-specific printer, keyed by (API group, kind)."""


def printer_for(kind_key: KindKey) -> TablePrinter:
    """The printer of ``kind_key``, or the default Name/Created At printer."""
    return PRINTERS.get(kind_key, DEFAULT_PRINTER)
