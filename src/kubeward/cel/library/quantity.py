"""Kubernetes' quantity library: ``quantity()``, ``isQuantity()``, comparison and arithmetic.

A quantity is parsed as ``resource.ParseQuantity`` parses it (a signed decimal number, then a
binary-SI suffix ``Ki``..``Ei``, a decimal-SI suffix ``n``, ``u``, ``m``, ``k``, ``M``..``E``,
or an exponent ``e3``) and held as its exact decimal value, so ``quantity('1k') ==
quantity('1000')`` as upstream compares them. A bad string is
``quantities must match the regular expression ...``.
"""

from __future__ import annotations

import decimal
import functools
import re
from typing import Any

from kubeward.cel.library import values
from kubeward.cel.library.declarations import Function, Overload
from kubeward.cel.types import BOOL, DOUBLE, INT, OPAQUE, STRING
from kubeward.errors import CELEvaluationError

_PATTERN = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_SUFFIX: dict[str, int | decimal.Decimal] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"), "m": decimal.Decimal("1e-3"),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_CONTEXT = decimal.Context(prec=60)
_INT64 = (-(2**63), 2**63 - 1)
_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> decimal.Decimal | None:
    match = _PATTERN.match(text.strip())
    if match is None:
        return None
    number = decimal.Decimal(match.group(1), _CONTEXT)
    suffix = match.group(2) or ""
    if suffix[:1] in ("e", "E"):
        return _CONTEXT.multiply(number, _CONTEXT.power(10, int(suffix[1:])))
    scale = _SUFFIX[suffix] if suffix else 1
    return _CONTEXT.multiply(
        number, scale if isinstance(scale, decimal.Decimal) else decimal.Decimal(scale)
    )


def _wrap(amount: decimal.Decimal) -> dict[str, str]:
    return values.wrap(values.QUANTITY, format(amount.normalize(_CONTEXT), "f"))


def _amount(value: Any) -> decimal.Decimal:
    return _decimal(values.unwrap(values.QUANTITY, value))


@functools.lru_cache(maxsize=1024)
def _decimal(canonical: str) -> decimal.Decimal:
    return decimal.Decimal(canonical, _CONTEXT)


@functools.lru_cache(maxsize=1024)
def _canonical(text: str) -> str | None:
    amount = parse(text)
    return None if amount is None else format(amount.normalize(_CONTEXT), "f")


def quantity(text: str) -> dict[str, str]:
    canonical = _canonical(text)
    if canonical is None:
        raise CELEvaluationError(f"quantities must match the regular expression '{_REGEX_TEXT}'")
    return values.wrap(values.QUANTITY, canonical)


def is_quantity(text: str) -> bool:
    return parse(text) is not None


def sign(value: Any) -> int:
    amount = _amount(value)
    return (amount > 0) - (amount < 0)


def compare_to(a: Any, b: Any) -> int:
    x, y = _amount(a), _amount(b)
    return (x > y) - (x < y)


def is_greater_than(a: Any, b: Any) -> bool:
    return compare_to(a, b) > 0


def is_less_than(a: Any, b: Any) -> bool:
    return compare_to(a, b) < 0


def _other(value: Any) -> decimal.Decimal:
    return decimal.Decimal(value) if isinstance(value, int) else _amount(value)


def add(a: Any, b: Any) -> dict[str, str]:
    return _wrap(_CONTEXT.add(_amount(a), _other(b)))


def sub(a: Any, b: Any) -> dict[str, str]:
    return _wrap(_CONTEXT.subtract(_amount(a), _other(b)))


def is_integer(value: Any) -> bool:
    amount = _amount(value)
    return amount == amount.to_integral_value() and _INT64[0] <= amount <= _INT64[1]


def as_integer(value: Any) -> int:
    if not is_integer(value):
        raise CELEvaluationError("cannot convert value to integer")
    return int(_amount(value))


def as_approximate_float(value: Any) -> float:
    return float(_amount(value))


def _member(
    name: str, params: tuple[Any, ...], result: Any, impl: Any, suffix: str = ""
) -> Overload:
    return Overload(f"quantity_{name}{suffix}", params, result, impl, member=True)


Q = OPAQUE
FUNCTIONS: tuple[Function, ...] = (
    Function("quantity", (Overload("string_to_quantity", (STRING,), Q, quantity),)),
    Function("isQuantity", (Overload("is_quantity_string", (STRING,), BOOL, is_quantity),)),
    Function("sign", (_member("sign", (Q,), INT, sign),)),
    Function("compareTo", (_member("compareTo", (Q, Q), INT, compare_to),)),
    Function("isGreaterThan", (_member("isGreaterThan", (Q, Q), BOOL, is_greater_than),)),
    Function("isLessThan", (_member("isLessThan", (Q, Q), BOOL, is_less_than),)),
    Function("add", (_member("add", (Q, Q), Q, add), _member("add", (Q, INT), Q, add, "_int"))),
    Function("sub", (_member("sub", (Q, Q), Q, sub), _member("sub", (Q, INT), Q, sub, "_int"))),
    Function("isInteger", (_member("isInteger", (Q,), BOOL, is_integer),)),
    Function("asInteger", (_member("asInteger", (Q,), INT, as_integer),)),
    Function(
        "asApproximateFloat", (_member("asApproximateFloat", (Q,), DOUBLE, as_approximate_float),)
    ),
)
