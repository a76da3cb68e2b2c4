"""Kubernetes resource quantities (``resource.Quantity``): ``500m``, ``1Gi``, ``2e3``.

Parsed to an exact :class:`~decimal.Decimal` so that validation can compare them (a claim's
storage must be greater than zero, a LimitRange's minimum no greater than its maximum). The
grammar is apimachinery's: a signed decimal number followed by a binary suffix (``Ki`` …
``Ei``), a decimal SI suffix (``n``, ``u``, ``m``, ``k``, ``M``, ``G``, ``T``, ``P``, ``E``)
or a decimal exponent (``e3``, ``E-2``). A number alone is also accepted (JSON integers).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
QUANTITY_MESSAGE = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"
_QUANTITY = re.compile(QUANTITY_PATTERN)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: object) -> Decimal | None:
    """The quantity's exact value, or None when it is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if match is None:
        return None
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return base * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return base * (Decimal(10) ** _DECIMAL[suffix])
    exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exponent is None:
        return None
    return base * (Decimal(10) ** int(exponent.group(1)))
