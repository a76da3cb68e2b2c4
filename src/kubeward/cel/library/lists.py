"""Kubernetes' lists library: ``isSorted``, ``sum``, ``min``, ``max``, ``indexOf``, ``lastIndexOf``.

Elements must be of one comparable kind (numbers, strings, durations, timestamps); a list
that mixes kinds is cel-go's ``no such overload``. ``min``/``max`` of an empty list are errors,
``sum`` of an empty list is 0, as upstream.
"""

from __future__ import annotations

import itertools
from typing import Any

from kubeward.cel.library.declarations import Function, Overload, traversal_cost
from kubeward.cel.types import ANY_LIST, BOOL, DYN, INT
from kubeward.errors import CELEvaluationError


def _comparable(items: list[Any]) -> list[Any]:
    kinds = {
        bool if isinstance(i, bool) else (float if isinstance(i, int | float) else type(i))
        for i in items
    }
    if len(kinds) > 1 or kinds & {bool, dict, list, type(None)}:
        raise CELEvaluationError("no such overload")
    return items


def is_sorted(items: list[Any]) -> bool:
    values = _comparable(items)
    return all(a <= b for a, b in itertools.pairwise(values))


def sum_of(items: list[Any]) -> Any:
    values = _comparable(items)
    if not values:
        return 0
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def min_of(items: list[Any]) -> Any:
    values = _comparable(items)
    if not values:
        raise CELEvaluationError("min called on empty list")
    return min(values)


def max_of(items: list[Any]) -> Any:
    values = _comparable(items)
    if not values:
        raise CELEvaluationError("max called on empty list")
    return max(values)


def index_of(items: list[Any], value: Any) -> int:
    for i, item in enumerate(items):
        if item == value and type(item) is type(value):
            return i
    return -1


def last_index_of(items: list[Any], value: Any) -> int:
    for i in range(len(items) - 1, -1, -1):
        if items[i] == value and type(items[i]) is type(value):
            return i
    return -1


def _on_list(oid: str, result: Any, impl: Any) -> Overload:
    return Overload(oid, (ANY_LIST,), result, impl, member=True, cost=traversal_cost)


FUNCTIONS: tuple[Function, ...] = (
    Function("isSorted", (_on_list("list_is_sorted", BOOL, is_sorted),)),
    Function("sum", (_on_list("list_sum", DYN, sum_of),)),
    Function("min", (_on_list("list_min", DYN, min_of),)),
    Function("max", (_on_list("list_max", DYN, max_of),)),
    Function(
        "indexOf",
        (Overload("list_index_of", (ANY_LIST, DYN), INT, index_of, True, traversal_cost),),
    ),
    Function(
        "lastIndexOf",
        (
            Overload(
                "list_last_index_of", (ANY_LIST, DYN), INT, last_index_of, True, traversal_cost
            ),
        ),
    ),
)
