"""Kubernetes resource quantities (``100m``, ``1.5Gi``, ``2e3``), read exactly.

Rules (``k8s.io/apimachinery/pkg/api/resource``):
 1. A quantity is a signed decimal number followed by a suffix: a binary one (``Ki Mi Gi Ti Pi
    Ei``, powers of 1024), a decimal one (``n u m`` and none, ``k M G T P E``), or a decimal
    exponent (``e3``, ``E-2``).
 2. Values are exact fractions, so ``0.1`` + ``0.2`` CPUs is ``300m``; comparisons never round.
 3. Anything else is refused with upstream's message: ``quantities must match the regular
    expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'``.
 4. :func:`canonical` writes a quantity as ``Quantity.String()`` does, in the format its text
    was written in: binary (``1536Mi``, the largest suffix that keeps the number whole), decimal
    SI (``500m``, ``2k``) or a decimal exponent (``1e3``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from kubeward.errors import InputError

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_EXPONENT = re.compile(r"^[eE]([-+]?[0-9]+)$")


def parse_quantity(text: str) -> Fraction:
    """The exact value of ``text`` (rules 1 and 3).

    Raises:
        InputError: ``text`` is not a quantity.
    """
    match = re.match(QUANTITY_PATTERN, text.strip()) if isinstance(text, str) else None
    if match is None or not _NUMBER.match(match.group(1)):
        raise InputError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    number, suffix = Fraction(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * Fraction(2) ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * Fraction(10) ** _DECIMAL[suffix]
    exponent = _EXPONENT.match(suffix)
    if exponent is None:
        raise InputError("unable to parse quantity's suffix")
    return number * Fraction(10) ** int(exponent.group(1))


def quantity_or_zero(value: object) -> Fraction:
    """A quantity from an object field: an int or a quantity string; anything else is 0."""
    if isinstance(value, bool):
        return Fraction(0)
    if isinstance(value, int | float):
        return Fraction(value)
    if isinstance(value, str):
        try:
            return parse_quantity(value)
        except InputError:
            return Fraction(0)
    return Fraction(0)


def milli_value(value: Fraction) -> int:
    """The value in thousandths, rounded up, as ``Quantity.MilliValue``."""
    return math.ceil(value * 1000)


_DECIMAL_SUFFIXES = sorted(((e, s) for s, e in _DECIMAL.items()), reverse=True)
_BINARY_SUFFIXES = sorted(((e, s) for s, e in _BINARY.items()), reverse=True)


def format_quantity(value: Fraction, form: str = "decimal") -> str:
    """``value`` as ``Quantity.String()`` writes it in ``form`` (binary, decimal, exponent)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "0"
    if form == "binary" and value.denominator == 1:
        whole = int(value)
        for exponent, suffix in _BINARY_SUFFIXES:
            unit = 2**exponent
            if whole >= unit and whole % unit == 0:
                return f"{sign}{whole // unit}{suffix}"
        return f"{sign}{whole}"
    for exponent, suffix in (
        _DECIMAL_SUFFIXES
        if form != "exponent"
        else [(e, f"e{e}" if e else "") for e in range(18, -10, -3)]
    ):
        scaled = value / Fraction(10) ** exponent
        if scaled.denominator == 1:
            return f"{sign}{scaled.numerator}{suffix}"
    return f"{sign}{math.ceil(value * 10**9)}n"


def canonical(text: str | int | float) -> str:
    """Rule 4 for a quantity as written (InputError when it is not one)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return format_quantity(Fraction(text))
    match = re.match(QUANTITY_PATTERN, str(text).strip())
    value = parse_quantity(str(text))
    suffix = match.group(2) if match else ""
    form = "binary" if suffix in _BINARY else "exponent" if suffix[:1] in ("e", "E") else "decimal"
    return format_quantity(value, form)
