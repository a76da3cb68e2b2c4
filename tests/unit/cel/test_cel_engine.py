"""The CEL engine: the CEL semantics Kubernetes rules rely on, errors worded as cel-go's, and costs."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.cel import Environment, types
from kubeward.errors import CELCompileError, CELCostExceeded, CELEvaluationError

SELF: dict[str, Any] = {
    "replicas": 3,
    "name": "web-frontend",
    "items": [1, 2, 3],
    "labels": {"app": "web"},
    "ratio": 0.5,
}
ENV = Environment({"self": types.DYN})
ERROR = object()

CONFORMANCE = [
    ("self.items.all(x, x > 0)", True),
    ("self.items.exists(x, x == 2)", True),
    ("self.items.exists_one(x, x > 1)", False),
    ("self.items.map(x, x * 2)", [2, 4, 6]),
    ("self.items.map(x, x > 1, x * 10)", [20, 30]),
    ("self.items.filter(x, x % 2 == 1)", [1, 3]),
    ("has(self.labels)", True),
    ("has(self.missing)", False),
    ("'app' in self.labels", True),
    ("self.name.startsWith('web') && self.name.endsWith('end')", True),
    ("self.name.matches('^[a-z-]+$')", True),
    ("size(self.name)", 12),
    ("self.?missing.orValue(7)", 7),
    ("self.?replicas.orValue(7)", 3),
    ("self.replicas / 2", 1),
    ("3u + 4u", 7),
    ("double(self.replicas) * self.ratio", 1.5),
    ("timestamp('2024-01-01T00:00:00Z') + duration('90m') > timestamp('2024-01-01T01:00:00Z')", True),
    ("duration('1h30m') == duration('90m')", True),
    ("false && (1 / 0 == 1)", False),
    ("(1 / 0 == 1) || true", True),
    ("cel.bind(n, self.replicas, n * n)", 9),
]  # fmt: skip


@pytest.mark.parametrize(("source", "expected"), CONFORMANCE, ids=[c[0] for c in CONFORMANCE])
def test_cel_semantics(source: str, expected: Any) -> None:
    assert ENV.compile(source).evaluate({"self": SELF}) == expected


RUNTIME_ERRORS = [
    ("9223372036854775807 + 1", "integer overflow"),
    ("0u - 1u", "unsigned integer overflow"),
    ("1 / 0", "division by zero"),
    ("self.missing == 1", "no such key: missing"),
    ("self.items[7]", "index out of bounds: 7"),
]


@pytest.mark.parametrize(("source", "message"), RUNTIME_ERRORS, ids=[c[0] for c in RUNTIME_ERRORS])
def test_evaluation_errors_are_worded_as_cel_go(source: str, message: str) -> None:
    with pytest.raises(CELEvaluationError) as caught:
        ENV.compile(source).evaluate({"self": SELF})
    assert str(caught.value) == message


COMPILE_ERRORS = [
    ("nosuchvar", "ERROR: <input>:1:1: undeclared reference to 'nosuchvar' (in container '')\n | nosuchvar\n | ^"),
    ("1 + 'a'", "ERROR: <input>:1:3: found no matching overload for '_+_' applied to '(int, string)'\n | 1 + 'a'\n | ..^"),
    # cel-go points at column 4 (the call), cel-cpp at 5 (its argument).
    ("has(self)", "ERROR: <input>:1:5: invalid argument to has() macro\n | has(self)\n | ....^"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message"), COMPILE_ERRORS, ids=[c[0] for c in COMPILE_ERRORS])
def test_compile_errors_are_worded_as_cel_go(source: str, message: str) -> None:
    with pytest.raises(CELCompileError) as caught:
        ENV.compile(source)
    assert str(caught.value) == message


def test_declared_types_are_checked() -> None:
    env = Environment({"n": types.INT, "names": types.list_of(types.STRING)})
    assert env.compile("names.all(s, size(s) < n)").result_type == "bool"
    with pytest.raises(CELCompileError, match="no matching overload"):
        env.compile("n + 'x'")


def test_an_optional_variable_is_none_when_absent() -> None:
    env = Environment({"self": types.INT, "oldSelf": types.INT}, optional_variables=["oldSelf"])
    program = env.compile("oldSelf.orValue(0) <= self // a comment to the end of the line")
    assert program.evaluate({"self": 1}) is True
    assert program.evaluate({"self": 1, "oldSelf": 2}) is False


class Sizes:
    def __init__(self, sizes: dict[tuple[str, ...], float]) -> None:
        self.sizes = sizes

    def size(self, variable: str, path: tuple[str, ...]) -> float | None:
        return self.sizes.get(path)


def test_cost_grows_with_the_sizes_the_schema_allows() -> None:
    rule = "self.tags.all(t, self.tags.exists(u, t == u))"
    small = ENV.compile(rule, sizes=Sizes({("tags",): 10, ("tags", "*"): 5})).estimated_cost
    large = ENV.compile(rule, sizes=Sizes({("tags",): 1000, ("tags", "*"): 5})).estimated_cost
    assert 0 < small < large
    assert large / small > 1000  # quadratic in the list's size


def test_scalar_comparisons_cost_one_step() -> None:
    assert ENV.compile("self.a > 1", sizes=Sizes({("a",): 1})).estimated_cost == 3


def test_the_runtime_limit_refuses_an_expensive_activation_only() -> None:
    program = ENV.compile("self.tags.all(t, self.tags.exists(u, t == u))")
    assert program.evaluate({"self": {"tags": ["a", "b"]}}, cost_limit=1000) is True
    with pytest.raises(CELCostExceeded, match="operation cancelled: actual cost limit exceeded"):
        program.evaluate({"self": {"tags": [str(i) for i in range(200)]}}, cost_limit=1000)


def test_the_librarys_iteration_budget_is_an_evaluation_error() -> None:
    """cel-expr-python stops an evaluation after 10,000 comprehension iterations (not settable)."""
    program = ENV.compile("self.all(x, x >= 0)")
    assert program.evaluate({"self": list(range(9_999))}) is True
    with pytest.raises(CELEvaluationError, match="Iteration budget exceeded"):
        program.evaluate({"self": list(range(10_000))})
