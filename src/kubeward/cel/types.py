"""CEL types as kubeward declares them, independent of the library that evaluates them.

Variables and extension functions are declared with these values; ``engine.py`` alone turns
them into the library's own type objects. Kubernetes' opaque types (``Quantity``, ``URL``,
``IP``, ``CIDR``) are carried as one-entry maps keyed by a marker (``library/values.py``), so
their declared type is ``map(string, string)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CELType:
    """A CEL type: a primitive name, or ``list``/``map`` with its parameters."""

    name: str
    params: tuple[CELType, ...] = ()

    def __str__(self) -> str:
        if self.params:
            return f"{self.name}({', '.join(str(p) for p in self.params)})"
        return self.name


BOOL = CELType("bool")
INT = CELType("int")
UINT = CELType("uint")
DOUBLE = CELType("double")
STRING = CELType("string")
BYTES = CELType("bytes")
NULL = CELType("null_type")
DURATION = CELType("google.protobuf.Duration")
TIMESTAMP = CELType("google.protobuf.Timestamp")
DYN = CELType("dyn")


def list_of(element: CELType) -> CELType:
    return CELType("list", (element,))


def map_of(key: CELType, value: CELType) -> CELType:
    return CELType("map", (key, value))


ANY_LIST = list_of(DYN)
ANY_MAP = map_of(DYN, DYN)
OPAQUE = map_of(STRING, STRING)
"""The declared type of Quantity, URL, IP and CIDR values."""

#: The concrete kinds a ``dyn`` parameter can hold at run time (one overload each).
CONCRETE = (BOOL, INT, UINT, DOUBLE, STRING, BYTES, NULL, DURATION, TIMESTAMP, ANY_LIST, ANY_MAP)


@dataclass(frozen=True)
class Message:
    """A struct type expressions can build (``Name{field: value}``) and the checker types: its
    name (no package) and its fields, each a primitive or ``dyn`` (any JSON value)."""

    name: str
    fields: tuple[tuple[str, CELType], ...]
