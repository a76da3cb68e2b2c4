"""Resource quantities in validation: the parser of ``api.quantity``, None for a non-quantity.

Validation compares quantities exactly (a claim's storage must be greater than zero, a
LimitRange's minimum no greater than its maximum); JSON numbers count as quantities too.
"""

from __future__ import annotations

from fractions import Fraction

from kubeward.api.quantity import QUANTITY_PATTERN
from kubeward.api.quantity import parse_quantity as parse_text
from kubeward.errors import InputError

QUANTITY_MESSAGE = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"


def parse_quantity(value: object) -> Fraction | None:
    """The quantity's exact value, or None when it is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Fraction(value)
    if not isinstance(value, str):
        return None
    try:
        return parse_text(value)
    except InputError:
        return None
