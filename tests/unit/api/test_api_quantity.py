"""Resource quantities read exactly, with upstream's refusal."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kubeward.api.quantity import milli_value, parse_quantity
from kubeward.errors import InputError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("100m", Fraction(1, 10)),
        ("1.5", Fraction(3, 2)),
        ("1Ki", 1024),
        ("128Mi", 128 * 2**20),
        ("1Gi", 2**30),
        ("2k", 2000),
        ("1M", 10**6),
        ("5e3", 5000),
        ("1E-3", Fraction(1, 1000)),
        ("500u", Fraction(5, 10000)),
        ("-1", -1),
        (".5", Fraction(1, 2)),
    ],
)
def test_quantities(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1Qi", "1.2.3", "1 Gi", "Gi"])
def test_bad_quantities(text: str) -> None:
    with pytest.raises(InputError, match=r"quantities must match the regular expression|suffix"):
        parse_quantity(text)


def test_milli_value_rounds_up() -> None:
    assert milli_value(parse_quantity("0.0001")) == 1
    assert milli_value(parse_quantity("1.5")) == 1500
