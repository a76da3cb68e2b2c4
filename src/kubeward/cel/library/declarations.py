"""How an extension function is declared: a name and its overloads, each typed and implemented.

An implementation receives plain Python values (``int``, ``str``, ``list``, ``dict`` ...) and
returns one; it raises :class:`~kubeward.errors.CELEvaluationError` for a CEL error (the
engine turns any other exception into one too). Rules:

 1. Overload ids are unique across every library (the checker refuses duplicates).
 2. A ``dyn`` parameter is expanded by the engine into one overload per concrete kind, because
    the runtime dispatches on concrete kinds only.
 3. ``cost`` is the call's cost given the sizes of its arguments (receiver first); the default
    is 1, as cel-go charges a plain call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeward.cel.types import CELType


def _unit_cost(sizes: Sequence[float]) -> float:
    return 1.0


@dataclass(frozen=True)
class Overload:
    id: str
    params: tuple[CELType, ...]
    result: CELType
    impl: Callable[..., Any]
    member: bool = False
    cost: Callable[[Sequence[float]], float] = field(default=_unit_cost)


@dataclass(frozen=True)
class Function:
    name: str
    overloads: tuple[Overload, ...]


def traversal_cost(sizes: Sequence[float]) -> float:
    """cel-go's cost of walking the receiver once: 0.1 per element or character, at least 1."""
    return max(1.0, 0.1 * (sizes[0] if sizes else 0.0))


def search_cost(sizes: Sequence[float]) -> float:
    """Searching one string in another (``indexOf``, ``replace``): 0.1 per character of both."""
    return max(1.0, 0.1 * sum(sizes[:2]))


def regex_cost(sizes: Sequence[float]) -> float:
    """A regular expression over a string: cel-go's 0.1 per character of the string times
    0.25 per character of the expression."""
    text = sizes[0] if sizes else 0.0
    pattern = sizes[1] if len(sizes) > 1 else 1.0
    return max(1.0, (0.1 * text) * max(1.0, 0.25 * pattern))
