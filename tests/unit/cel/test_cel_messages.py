"""Declared struct types (``Environment(messages=...)``): built and type-checked by expressions,
returned as maps with ``"@type"``."""

from __future__ import annotations

import pytest

from kubeward import cel
from kubeward.cel import types
from kubeward.errors import CELCompileError

POINT = types.Message("Point", (("x", types.INT), ("label", types.STRING), ("extra", types.DYN)))
ENV = cel.Environment({"n": types.INT}, messages=(POINT,))


def test_a_message_is_built_and_returned_as_a_map() -> None:
    program = ENV.compile("[Point{x: n, label: 'a', extra: {'k': [1, 'two']}}]")
    assert program.result_type == "list<point>"
    assert program.evaluate({"n": 3}) == [
        {"@type": "Point", "x": "3", "label": "a", "extra": {"k": [1.0, "two"]}}
    ]


def test_unset_fields_are_absent() -> None:
    assert ENV.compile("Point{}").evaluate({"n": 0}) == {"@type": "Point"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Point{x: 'a'}", "expected type of field 'x' is 'int' but provided type is 'string'"),
        ("Point{y: 1}", "undefined field 'y'"),
    ],
)
def test_fields_are_type_checked(source: str, message: str) -> None:
    with pytest.raises(CELCompileError, match=message):
        ENV.compile(source)
