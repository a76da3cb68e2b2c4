"""The cost of an expression: an estimate before it runs, and its cost on actual values.

cel-go charges every evaluation step and Kubernetes refuses a CRD rule whose *estimated*
worst-case cost is over a limit; the library kubeward evaluates with has no cost tracker, so
this module walks the checked tree (``ast.py``) with cel-go's model, simplified:

 1. An identifier, a field selection, an index, a ``has()`` test and a plain call cost 1;
    a literal costs 0; a list or map literal costs 1 more than its elements.
 2. ``&&``, ``||`` and ``?:`` cost their condition plus the dearer branch (the worst case).
 3. A comprehension (``all``, ``exists``, ``exists_one``, ``map``, ``filter``) costs its range,
    plus the range's size times the cost of one iteration (condition and step).
 4. Work proportional to a value's size costs 0.1 per element or character involved, at
    least 1: comparing and concatenating strings and lists, ``contains``, ``startsWith`` and
    ``endsWith`` (both strings' sizes), the extension libraries' traversals
    (``library/declarations.py``); ``matches`` costs that of its string times 0.25 per
    character of the expression.
 5. A ``string()`` conversion has no known size (cel-go's estimator bounds none), so
    concatenating one is dearer than any limit, as upstream finds it.
 6. Sizes come from a :class:`SizeSource`: for the estimate, the schema's ``maxLength``,
    ``maxItems`` and ``maxProperties`` (unbounded values are as large as a request may be);
    at run time, the sizes of the actual values, so the actual cost never exceeds the estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubeward.cel.ast import CheckedExpression, Node

#: The largest request body kube-apiserver accepts (3 MiB); an unbounded string is that long.
MAX_REQUEST_BYTES = 3 * 1024 * 1024

#: The size cel-go's estimator gives a value it cannot bound (the largest uint64).
UNKNOWN_SIZE = float(2**64 - 1)

Path = tuple[str, ...]
"""A value's place under a variable: field names, and ``*`` for any element or map value."""


class SizeSource(Protocol):
    def size(self, variable: str, path: Path) -> float | None:
        """The (largest) size of the value at ``path`` under ``variable``; None if unknown."""


@dataclass(frozen=True)
class _Cost:
    cost: float
    size: float
    path: tuple[str, Path] | None = None  # (variable, path) when the value is a known place


_LOGICAL = frozenset({"_&&_", "_||_"})
_PROPORTIONAL = frozenset({"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_+_", "@in"})
_SEARCHES = frozenset({"contains", "startsWith", "endsWith"})


class Estimator:
    """Rules 1 to 5 over one checked expression."""

    def __init__(
        self,
        checked: CheckedExpression,
        function_costs: Mapping[str, Callable[[Sequence[float]], float]],
    ) -> None:
        self.checked = checked
        self._function_costs = function_costs

    def cost(self, sizes: SizeSource) -> float:
        return self._walk(self.checked.root, sizes, {}).cost

    def _walk(self, node: Node, sizes: SizeSource, scope: dict[str, _Cost]) -> _Cost:
        kind = node.kind
        if kind == "const":
            value = node.constant
            return _Cost(0.0, float(len(value)) if isinstance(value, str | bytes) else 1.0)
        if kind == "ident":
            if node.name in scope:
                bound = scope[node.name]
                return _Cost(1.0, bound.size, bound.path)
            found = sizes.size(node.name, ())
            return _Cost(1.0, _size_or_unbounded(found), (node.name, ()))
        if kind == "select":
            assert node.target is not None
            operand = self._walk(node.target, sizes, scope)
            place = (operand.path[0], (*operand.path[1], node.name)) if operand.path else None
            found = sizes.size(*place) if place else None
            return _Cost(operand.cost + 1.0, _size_or_unbounded(found), place)
        if kind in ("list", "map"):
            parts = [self._walk(a, sizes, scope) for a in node.args]
            return _Cost(1.0 + sum(p.cost for p in parts), float(len(parts)))
        if kind == "comprehension":
            return self._comprehension(node, sizes, scope)
        return self._call(node, sizes, scope)

    def _comprehension(self, node: Node, sizes: SizeSource, scope: dict[str, _Cost]) -> _Cost:
        assert node.iter_range is not None and node.accu_init is not None
        over = self._walk(node.iter_range, sizes, scope)
        element = (over.path[0], (*over.path[1], "*")) if over.path else None
        found = sizes.size(*element) if element else None
        inner = dict(scope)
        inner[node.iter_var] = _Cost(1.0, _size_or_unbounded(found), element)
        init = self._walk(node.accu_init, sizes, inner)
        inner[node.accu_var] = _Cost(1.0, over.size)
        per_item = sum(
            self._walk(part, sizes, inner).cost
            for part in (node.loop_condition, node.loop_step)
            if part is not None
        )
        result = self._walk(node.result, sizes, inner).cost if node.result else 0.0
        return _Cost(over.cost + init.cost + over.size * per_item + result, over.size)

    def _call(self, node: Node, sizes: SizeSource, scope: dict[str, _Cost]) -> _Cost:
        operands = ([node.target] if node.target else []) + node.args
        parts = [self._walk(a, sizes, scope) for a in operands]
        name = node.name
        if name in _LOGICAL and len(parts) == 2:
            return _Cost(parts[0].cost + parts[1].cost, 1.0)
        if name == "_?_:_" and len(parts) == 3:
            dearer = max(parts[1], parts[2], key=lambda p: p.cost)
            return _Cost(parts[0].cost + dearer.cost, dearer.size, dearer.path)
        spent = sum(p.cost for p in parts)
        arg_sizes = [p.size for p in parts]
        overloads = self.checked.overloads.get(node.id, ())
        custom = [self._function_costs[o] for o in overloads if o in self._function_costs]
        if custom:
            call = max(c(arg_sizes) for c in custom)
        elif name == "matches" and len(arg_sizes) == 2:
            call = max(1.0, (0.1 * arg_sizes[0]) * max(1.0, 0.25 * arg_sizes[1]))
        elif name in _SEARCHES:
            call = max(1.0, 0.1 * sum(arg_sizes))
        elif name in _PROPORTIONAL and _sized(overloads):
            call = max(1.0, 0.1 * (sum(arg_sizes) if name == "_+_" else max(arg_sizes, default=0)))
        else:
            call = 1.0
        if name == "_[_]" and parts and parts[0].path:
            base = parts[0].path
            place = (base[0], (*base[1], "*"))
            return _Cost(spent + call, _size_or_unbounded(sizes.size(*place)), place)
        if name == "string":
            return _Cost(spent + call, UNKNOWN_SIZE)  # cel-go knows no bound of a conversion
        size = sum(arg_sizes) if name == "_+_" else max(arg_sizes, default=1.0)
        return _Cost(spent + call, size)


def _sized(overloads: tuple[str, ...]) -> bool:
    """Whether the call works on strings, bytes or lists (the scalar overloads cost 1)."""
    if not overloads:
        return True
    return any(
        w in o for o in overloads for w in ("string", "bytes", "list", "map", "equals", "in_")
    )


def _size_or_unbounded(found: float | None) -> float:
    return float(MAX_REQUEST_BYTES) if found is None else found


class ValueSizes:
    """Rule 5 at run time: the sizes of the values an activation holds."""

    def __init__(self, activation: Mapping[str, Any]) -> None:
        self._activation = activation

    def size(self, variable: str, path: Path) -> float | None:
        if variable not in self._activation:
            return None
        values = [self._activation[variable]]
        for step in path:
            nxt: list[Any] = []
            for value in values:
                if step == "*":
                    nxt.extend(
                        value
                        if isinstance(value, list)
                        else value.values()
                        if isinstance(value, dict)
                        else ()
                    )
                elif isinstance(value, dict) and step in value:
                    nxt.append(value[step])
            values = nxt
            if not values:
                return 0.0
        return float(
            max((len(v) if isinstance(v, str | bytes | list | dict) else 1) for v in values)
        )
