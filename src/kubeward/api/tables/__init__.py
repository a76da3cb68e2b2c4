"""Server-side Table output (``as=Table``): the columns kube-apiserver prints for each kind.

kubectl does not format ``get`` output itself: it asks the server for a ``meta.k8s.io/v1``
``Table`` and prints the cells it receives. This package builds those tables with the columns
and cell formats of Kubernetes' ``pkg/printers/internalversion/printers.go``, so that
``kubectl get``, ``get -o wide`` and ``get -w`` look as they do against a real cluster.

Modules: ``formatting`` (ages, ``<none>``, label selectors), ``columns`` (the value types),
``pods``, ``core`` and ``groups`` (the printers), ``registry`` (which printer prints which
kind) and ``table`` (the Table body, ``includeObject``, watch headers).
"""

from kubeward.api.tables.columns import (
    Cell,
    ColumnDefinition,
    KindKey,
    PrintedRow,
    RowCondition,
    TablePrinter,
)
from kubeward.api.tables.formatting import (
    format_created_at,
    format_label_selector,
    format_labels,
    human_duration,
    parse_timestamp,
    selector_string,
    translate_timestamp_since,
)
from kubeward.api.tables.registry import DEFAULT_PRINTER, PRINTERS, printer_for
from kubeward.api.tables.table import (
    INCLUDE_METADATA,
    INCLUDE_NONE,
    INCLUDE_OBJECT,
    TABLE_API_VERSION,
    TABLE_API_VERSIONS,
    build_table,
    include_object_policy,
)

__all__ = [
    "DEFAULT_PRINTER",
    "INCLUDE_METADATA",
    "INCLUDE_NONE",
    "INCLUDE_OBJECT",
    "PRINTERS",
    "TABLE_API_VERSION",
    "TABLE_API_VERSIONS",
    "Cell",
    "ColumnDefinition",
    "KindKey",
    "PrintedRow",
    "RowCondition",
    "TablePrinter",
    "build_table",
    "format_created_at",
    "format_label_selector",
    "format_labels",
    "human_duration",
    "include_object_policy",
    "parse_timestamp",
    "printer_for",
    "selector_string",
    "translate_timestamp_since",
]
