"""Which CEL library kubeward's one CEL engine wraps: conformance, speed and extensibility, measured.

The candidates on PyPI are ``cel-expr-python`` (Google's cel-cpp behind pybind11, with a type
checker), ``common-expression-language`` (module ``cel``: the Rust ``cel`` crate behind PyO3)
and ``cel-python`` (module ``celpy``: pure Python, lark parser). Each is asked the same
table of expressions that Kubernetes validation rules rely on (macros, ``has()``, string
functions, optional fields, int/uint/double semantics, timestamps and durations, and the
errors for overflow and a missing field), then timed on a typical rule
(``self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas``) over a small
object. A case passes when the value is the expected one, or when an error is expected and the
library raises or returns an error (a compile error counts as an error too).

Usage: ``python benchmarks/cel_libraries.py``. A library not installed is reported as such.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import time
from collections.abc import Callable
from typing import Any

ERROR = object()

# (expression, expected); ``self`` is bound to SELF in every case.
SELF: dict[str, Any] = {
    "replicas": 3,
    "minReplicas": 1,
    "maxReplicas": 5,
    "name": "web-frontend",
    "items": [1, 2, 3],
    "labels": {"app": "web"},
    "ratio": 0.5,
    "big": list(range(20_000)),
}
CASES: list[tuple[str, object]] = [
    ("self.items.all(x, x > 0)", True),
    ("self.items.exists(x, x == 2)", True),
    ("self.items.exists_one(x, x > 1)", False),
    ("self.items.map(x, x * 2)", [2, 4, 6]),
    ("self.items.filter(x, x % 2 == 1)", [1, 3]),
    ("self.items.map(x, x > 1, x * 10)", [20, 30]),
    ("has(self.labels)", True),
    ("has(self.missing)", False),
    ("has(self.labels.app)", True),
    ("'app' in self.labels", True),
    ("size(self.name)", 12),
    ("self.name.startsWith('web')", True),
    ("self.name.endsWith('end')", True),
    ("self.name.contains('front')", True),
    ("self.name.matches('^[a-z-]+$')", True),
    ("self.name + '-x'", "web-frontend-x"),
    ("self.?missing.orValue(7)", 7),
    ("self.?replicas.orValue(7)", 3),
    ("optional.none().hasValue()", False),
    ("self.replicas / 2", 1),
    ("self.replicas % 2", 1),
    ("3u + 4u", 7),
    ("int('42') + 1", 43),
    ("double(self.replicas) * self.ratio", 1.5),
    ("1 == 1.0", ERROR),  # no heterogeneous equality under the type checker (cel-go, k8s)
    ("9223372036854775807 + 1", ERROR),
    ("-9223372036854775808 - 1", ERROR),
    ("0u - 1u", ERROR),
    ("1 / 0", ERROR),
    ("self.missing == 1", ERROR),
    ("int('x')", ERROR),
    (
        "timestamp('2024-01-01T00:00:00Z') + duration('90m') > timestamp('2024-01-01T01:00:00Z')",
        True,
    ),
    ("duration('1h30m') == duration('90m')", True),
    ("timestamp('2024-03-05T10:00:00Z').getFullYear()", 2024),
    ("duration('2h').getMinutes()", 120),
    ("type(self.replicas) == int", True),
    ("[1, 2, 3][1]", 2),
    ("[1, 2][5]", ERROR),
    ("{'a': 1}['b']", ERROR),
    ("self.replicas > 1 ? 'many' : 'one'", "many"),
    ("false && (1 / 0 == 1)", False),
    # A list Kubernetes' cost limits allow (20,000 cheap iterations).
    ("self.big.all(x, x >= 0)", True),
    ("(1 / 0 == 1) || true", True),
    # Kubernetes' extension libraries (only where the library ships them).
    ("'hello'.charAt(1)", "e"),
    ("'Hello'.lowerAscii()", "hello"),
    ("'a,b,c'.split(',')", ["a", "b", "c"]),
    ("['a', 'b'].join('-')", "a-b"),
    ("'  x '.trim()", "x"),
    ("'hello'.indexOf('l')", 2),
    ("'hello'.replace('l', 'L')", "heLLo"),
    ("'hello'.substring(1, 3)", "el"),
]


def _cel_expr_python() -> tuple[Callable[[str], Any], Callable[[Any, dict[str, Any]], object]]:
    from cel_expr_python import cel  # type: ignore[import-not-found]
    from cel_expr_python.ext import ext_optional, ext_strings  # type: ignore[import-not-found]

    env = cel.NewEnv(
        variables={"self": cel.Type.DYN},
        extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()],
    )

    def run(expr: Any, data: dict[str, Any]) -> object:
        value = expr.eval(data=data)
        if value.type() == cel.Type.ERROR:
            return ERROR
        return value.plain_value()

    return env.compile, run


def _common_expression_language() -> tuple[
    Callable[[str], Any], Callable[[Any, dict[str, Any]], object]
]:
    import cel  # type: ignore[import-not-found]

    def run(program: Any, data: dict[str, Any]) -> object:
        return program.execute(data)

    return cel.compile, run


def _cel_python() -> tuple[Callable[[str], Any], Callable[[Any, dict[str, Any]], object]]:
    import celpy  # type: ignore[import-not-found]

    env = celpy.Environment()

    def compile_(source: str) -> Any:
        return env.program(env.compile(source))

    def run(program: Any, data: dict[str, Any]) -> object:
        result = program.evaluate({k: celpy.json_to_cel(v) for k, v in data.items()})
        if isinstance(result, celpy.CELEvalError):
            return ERROR
        if isinstance(result, celpy.celtypes.BoolType):
            return bool(result)
        return result

    return compile_, run


CANDIDATES = {
    "cel-expr-python": _cel_expr_python,
    "common-expression-language": _common_expression_language,
    "cel-python": _cel_python,
}


def _same(got: object, want: object) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, list):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    try:
        return bool(got == want)
    except Exception:
        return False


def conformance(
    compile_: Callable[[str], Any], run: Callable[[Any, dict[str, Any]], object]
) -> list[str]:
    """The expressions a library gets wrong."""
    wrong = []
    for source, want in CASES:
        try:
            got = run(compile_(source), {"self": SELF})
        except Exception:
            got = ERROR
        if not (got is want if want is ERROR else _same(got, want)):
            wrong.append(f"{source} -> {'error' if got is ERROR else repr(got)}")
    return wrong


def speed(compile_: Callable[[str], Any], run: Callable[[Any, dict[str, Any]], object]) -> float:
    program = compile_("self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas")
    data = {"self": {k: v for k, v in SELF.items() if k != "big"}}
    count, deadline = 0, time.perf_counter() + 1.0
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            run(program, data)
        count += 100
    return count / (time.perf_counter() - start)


def main() -> None:
    lam = lambda s: s["minReplicas"] <= s["replicas"] <= s["maxReplicas"]  # noqa: E731
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        for _ in range(1000):
            lam(SELF)
        count += 1000
    print(
        f"baseline: the same rule as a Python lambda: {count / (time.perf_counter() - start):,.0f}/s"
    )
    for name, load in CANDIDATES.items():
        try:
            version = importlib.metadata.version(name)
            compile_, run = load()
        except (ImportError, importlib.metadata.PackageNotFoundError):
            print(f"{name}: not installed")
            continue
        wrong = conformance(compile_, run)
        rate = speed(compile_, run)
        print(
            f"{name} {version}: {len(CASES) - len(wrong)}/{len(CASES)} cases right, "
            f"{rate:,.0f} evaluations/s of a typical rule"
        )
        for line in wrong:
            print(f"    wrong: {line}")
    print(f"(measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
