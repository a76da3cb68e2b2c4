"""The values a table printer is made of: column definitions, printed rows, printers.

A printer is the Python counterpart of one ``TableHandler`` registration in Kubernetes'
``pkg/printers/internalversion/printers.go``: a fixed list of ``metav1.TableColumnDefinition``
and a function that turns one object into that many cells. Rules:

1. A column's ``name`` is spelled as Kubernetes spells it (``Nominated Node``, ``Port(s)``);
   kubectl upper-cases it for the header.
2. Columns with ``priority`` above 0 are sent always; kubectl shows them only with ``-o wide``.
3. Every cell is a ``str`` or an ``int``, so that a table is JSON as it stands.
4. A row may carry ``conditions``; the only one Kubernetes defines is ``Completed`` (pods that
   succeeded or failed), which clients may print less prominently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Cell = str | int | float | bool | None
"""One table cell: the built-in printers use strings and integers; custom resources' printer
columns also give numbers, booleans and ``null`` for a path that is absent."""

KindKey = tuple[str, str]
"""(API group, kind) a printer prints: ``("", "Pod")``, ``("apps", "Deployment")``."""

# Descriptions of ObjectMeta fields, as ``metav1.ObjectMeta{}.SwaggerDoc()`` gives them; every
# table's Name and Age (or Created At) column carries one of these.
NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_TIMESTAMP_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class ColumnDefinition:
    """``metav1.TableColumnDefinition``: one column of a server-side table."""

    name: str
    type: str
    format: str = ""
    description: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        # Every field is sent, empty or not: none of them is omitempty in Kubernetes.
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME_COLUMN = ColumnDefinition("Name", "string", format="name", description=NAME_DESCRIPTION)
AGE_COLUMN = ColumnDefinition("Age", "string", description=CREATION_TIMESTAMP_DESCRIPTION)


def column(
    name: str, description: str, *, type: str = "string", priority: int = 0
) -> ColumnDefinition:
    """A column other than Name, in the order the definitions read in Kubernetes."""
    return ColumnDefinition(name, type, description=description, priority=priority)


@dataclass(frozen=True)
class RowCondition:
    """``metav1.TableRowCondition``."""

    type: str
    status: str
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class PrintedRow:
    """The cells of one object, one per column of its printer, and any row conditions."""

    cells: tuple[Cell, ...]
    conditions: tuple[RowCondition, ...] = ()


RowFunction = Callable[[Mapping[str, Any], datetime], PrintedRow]
"""Prints one object as of ``now`` (ages are measured against it)."""


@dataclass(frozen=True)
class TablePrinter:
    """The columns of one kind and the function that fills them."""

    columns: tuple[ColumnDefinition, ...]
    print_row: RowFunction
