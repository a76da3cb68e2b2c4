"""Kubernetes' regex library: ``find`` and ``findAll`` on strings.

``'abc 123'.find('[0-9]+')`` is the first match or ``''``; ``findAll(re)`` every match and
``findAll(re, n)`` at most ``n`` (a negative ``n`` means all). An invalid pattern is an
evaluation error naming it. Python's ``re`` stands in for RE2; the two agree on the syntax
validation rules use (no backreferences or lookaround, which RE2 refuses and ``re`` accepts).
"""

from __future__ import annotations

import functools
import re

from kubeward.cel.library.declarations import Function, Overload, regex_cost
from kubeward.cel.types import INT, STRING, list_of
from kubeward.errors import CELEvaluationError


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CELEvaluationError(f"error parsing regexp: {exc}: `{pattern}`") from exc


def find(text: str, pattern: str) -> str:
    match = _compiled(pattern).search(text)
    return match.group(0) if match else ""


def find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    if limit == 0:
        return []
    found = [m.group(0) for m in _compiled(pattern).finditer(text)]
    return found if limit < 0 else found[:limit]


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "find",
        (Overload("string_find_string", (STRING, STRING), STRING, find, True, regex_cost),),
    ),
    Function(
        "findAll",
        (
            Overload(
                "string_find_all_string",
                (STRING, STRING),
                list_of(STRING),
                find_all,
                True,
                regex_cost,
            ),
            Overload(
                "string_find_all_string_int",
                (STRING, STRING, INT),
                list_of(STRING),
                find_all,
                True,
                regex_cost,
            ),
        ),
    ),
)
