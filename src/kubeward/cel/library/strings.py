"""The string library Kubernetes enables (cel-go's ``ext.Strings``), implemented here.

Kubernetes' lists library adds ``indexOf``/``lastIndexOf`` to lists, and the checker wants every
overload of a name declared at once, so the string functions are declared here rather than
taken from the evaluating library's own extension. Indexes count code points, as CEL's do.
Errors are worded as cel-go's (``index out of range: 7``).
"""

from __future__ import annotations

from typing import Any

from kubeward.cel.library.declarations import Function, Overload, search_cost, traversal_cost
from kubeward.cel.types import ANY_LIST, INT, STRING, list_of
from kubeward.errors import CELEvaluationError


def _check(index: int, size: int) -> None:
    if index < 0 or index > size:
        raise CELEvaluationError(f"index out of range: {index}")


def char_at(text: str, index: int) -> str:
    _check(index, len(text))
    return text[index] if index < len(text) else ""


def index_of(text: str, sub: str, start: int = 0) -> int:
    _check(start, len(text))
    return text.find(sub, start)


def last_index_of(text: str, sub: str, start: int | None = None) -> int:
    if start is None:
        return text.rfind(sub)
    _check(start, len(text))
    return text.rfind(sub, 0, start + len(sub))


def lower_ascii(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def upper_ascii(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


def replace(text: str, old: str, new: str, limit: int = -1) -> str:
    return text.replace(old, new, limit)


def split(text: str, sep: str, limit: int = -1) -> list[str]:
    if limit == 0:
        return []
    if sep == "":
        parts = list(text)
        if limit > 0 and len(parts) > limit:
            parts = [*parts[: limit - 1], "".join(parts[limit - 1 :])]
        return parts
    return text.split(sep, limit - 1 if limit > 0 else -1)


def substring(text: str, start: int, end: int | None = None) -> str:
    stop = len(text) if end is None else end
    _check(start, len(text))
    _check(stop, len(text))
    if stop < start:
        raise CELEvaluationError(f"invalid substring range. start: {start}, end: {stop}")
    return text[start:stop]


def trim(text: str) -> str:
    return text.strip()


def join(items: list[Any], sep: str = "") -> str:
    if not all(isinstance(i, str) for i in items):
        raise CELEvaluationError("no such overload")
    return sep.join(items)


def reverse(text: str) -> str:
    return text[::-1]


def format_string(template: str, args: list[Any]) -> str:
    """``'%s has %d items'.format([name, n])``: %s %d %f %e %b %o %x %X and %%."""
    out: list[str] = []
    i = 0
    arg = 0
    while i < len(template):
        c = template[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        i += 1
        precision: int | None = None
        if i < len(template) and template[i] == ".":
            j = i + 1
            while j < len(template) and template[j].isdigit():
                j += 1
            precision = int(template[i + 1 : j] or "0")
            i = j
        if i >= len(template):
            raise CELEvaluationError("unexpected end of format string")
        verb = template[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if arg >= len(args):
            raise CELEvaluationError(f"index {arg} out of range")
        out.append(_format_one(verb, args[arg], precision))
        arg += 1
    return "".join(out)


def _format_one(verb: str, value: Any, precision: int | None) -> str:
    if verb == "s":
        return _as_string(value)
    if verb == "d" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if verb in "fe" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.{6 if precision is None else precision}{verb}}"
    if verb in "boxX" and isinstance(value, int) and not isinstance(value, bool):
        return format(value, verb)
    if verb in "xX" and isinstance(value, str):
        text = value.encode().hex()
        return text.upper() if verb == "X" else text
    raise CELEvaluationError(f'error during formatting: unrecognized formatting clause "{verb}"')


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_as_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_as_string(k)}: {_as_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def _member(
    name: str, oid: str, params: tuple[Any, ...], result: Any, impl: Any, cost: Any = traversal_cost
) -> Overload:
    return Overload(oid, params, result, impl, member=True, cost=cost)


S, LS = STRING, list_of(STRING)
FUNCTIONS: tuple[Function, ...] = (
    Function("charAt", (_member("charAt", "string_char_at_int", (S, INT), S, char_at),)),
    Function(
        "indexOf",
        (
            _member("indexOf", "string_index_of_string", (S, S), INT, index_of, search_cost),
            _member(
                "indexOf", "string_index_of_string_int", (S, S, INT), INT, index_of, search_cost
            ),
        ),
    ),
    Function(
        "lastIndexOf",
        (
            _member(
                "lastIndexOf",
                "string_last_index_of_string",
                (S, S),
                INT,
                last_index_of,
                search_cost,
            ),
            _member(
                "lastIndexOf",
                "string_last_index_of_string_int",
                (S, S, INT),
                INT,
                last_index_of,
                search_cost,
            ),
        ),
    ),
    Function("lowerAscii", (_member("lowerAscii", "string_lower_ascii", (S,), S, lower_ascii),)),
    Function("upperAscii", (_member("upperAscii", "string_upper_ascii", (S,), S, upper_ascii),)),
    Function(
        "replace",
        (
            _member("replace", "string_replace_string_string", (S, S, S), S, replace, search_cost),
            _member(
                "replace",
                "string_replace_string_string_int",
                (S, S, S, INT),
                S,
                replace,
                search_cost,
            ),
        ),
    ),
    Function(
        "split",
        (
            _member("split", "string_split_string", (S, S), LS, split),
            _member("split", "string_split_string_int", (S, S, INT), LS, split),
        ),
    ),
    Function(
        "substring",
        (
            _member("substring", "string_substring_int", (S, INT), S, substring),
            _member("substring", "string_substring_int_int", (S, INT, INT), S, substring),
        ),
    ),
    Function("trim", (_member("trim", "string_trim", (S,), S, trim),)),
    Function(
        "join",
        (
            _member("join", "list_join", (ANY_LIST,), S, join),
            _member("join", "list_join_string", (ANY_LIST, S), S, join),
        ),
    ),
    Function("reverse", (_member("reverse", "string_reverse", (S,), S, reverse),)),
    Function("format", (_member("format", "string_format_list", (S, ANY_LIST), S, format_string),)),
)
