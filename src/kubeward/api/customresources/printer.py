"""Table printers for custom resources, from a CRD version's ``additionalPrinterColumns``.

As the apiextensions-apiserver's table convertor: the ``Name`` column first, then each printer
column in order (``type``, ``format``, ``description`` and ``priority`` as given). A version with
no printer columns gets ``Age`` (``.metadata.creationTimestamp``, type ``date``), which kubectl
shows as an age. A cell is the value the column's JSON path finds, or ``null`` when it finds
none; strings, numbers and booleans are sent as they are, anything else as compact JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kubeward.api.tables.columns import (
    CREATION_TIMESTAMP_DESCRIPTION,
    NAME_COLUMN,
    Cell,
    ColumnDefinition,
    PrintedRow,
    TablePrinter,
)

_STEP = re.compile(r"\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']+)'\]")
_DEFAULT_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": CREATION_TIMESTAMP_DESCRIPTION,
    },
)


def json_path_steps(path: str) -> list[str | int]:
    """``.status.conditions[0]['type']`` → ``["status", "conditions", 0, "type"]``."""
    steps: list[str | int] = []
    for match in _STEP.finditer(path):
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted))
    return steps


def value_at_path(obj: Any, steps: Sequence[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(obj, list) or step >= len(obj):
                return None
        elif not isinstance(obj, dict) or step not in obj:
            return None
        obj = obj[step]
    return obj


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def printer_for_columns(columns: Sequence[Mapping[str, Any]] | None) -> TablePrinter:
    """The table printer of a CRD version with these ``additionalPrinterColumns``."""
    given = tuple(columns or ()) or _DEFAULT_COLUMNS
    definitions = (
        NAME_COLUMN,
        *(
            ColumnDefinition(
                str(c.get("name", "")),
                str(c.get("type", "string")),
                format=str(c.get("format", "")),
                description=str(c.get("description", "")),
                priority=int(c.get("priority", 0) or 0),
            )
            for c in given
        ),
    )
    paths = [json_path_steps(str(c.get("jsonPath", ""))) for c in given]

    def print_row(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
        del now  # dates are sent as they are; kubectl shows them as ages
        name = str((obj.get("metadata") or {}).get("name", ""))
        return PrintedRow((name, *(_cell(value_at_path(obj, steps)) for steps in paths)))

    return TablePrinter(definitions, print_row)
