"""Typed, forgiving reads of nested JSON objects for the table printers.

The printers read objects as stored (plain ``dict`` trees decoded from JSON). Go's printers
read typed structs in which every absent field is its zero value; these helpers give Python
the same reading:

1. An absent field, or one of the wrong JSON type, reads as the zero value of the type asked
   for (``""``, ``0``, ``False``, an empty mapping or list), never as an exception: a table
   of a malformed object must still print.
2. ``bool`` is not an integer here (Python's ``True`` is an ``int``; JSON's is not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def value_at(obj: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` under ``obj``, or None when any step is absent or not an object."""
    current: Any = obj
    for step in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(step)
    return current


def text(obj: Mapping[str, Any], *path: str) -> str:
    found = value_at(obj, *path)
    return found if isinstance(found, str) else ""


def integer(obj: Mapping[str, Any], *path: str) -> int:
    found = value_at(obj, *path)
    return found if isinstance(found, int) and not isinstance(found, bool) else 0


def flag(obj: Mapping[str, Any], *path: str) -> bool:
    return value_at(obj, *path) is True


def mapping(obj: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    found = value_at(obj, *path)
    return found if isinstance(found, Mapping) else _EMPTY


def optional_mapping(obj: Mapping[str, Any], *path: str) -> Mapping[str, Any] | None:
    """The object at ``path``, or None when absent: Go's ``*Struct != nil`` test."""
    found = value_at(obj, *path)
    return found if isinstance(found, Mapping) else None


def items(obj: Mapping[str, Any], *path: str) -> list[Mapping[str, Any]]:
    """The objects of the list at ``path``; entries that are not objects are skipped."""
    found = value_at(obj, *path)
    if not isinstance(found, list):
        return []
    return [entry for entry in found if isinstance(entry, Mapping)]


def strings(obj: Mapping[str, Any], *path: str) -> list[str]:
    found = value_at(obj, *path)
    if not isinstance(found, list):
        return []
    return [entry for entry in found if isinstance(entry, str)]


def string_map(obj: Mapping[str, Any], *path: str) -> dict[str, str]:
    found = value_at(obj, *path)
    if not isinstance(found, Mapping):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


def count(obj: Mapping[str, Any], *path: str) -> int:
    """How many entries the list or map at ``path`` has (Go's ``len`` of a nil is 0)."""
    found = value_at(obj, *path)
    return len(found) if isinstance(found, list | Mapping) else 0
