"""An authorization webhook's ``matchConditions``: CEL deciding whether the webhook is asked.

Rules (``k8s.io/apiserver/pkg/authorization/cel``, kube-apiserver 1.32):
 1. Each condition is a CEL expression over ``request``, the ``spec`` of the
    SubjectAccessReview v1 the webhook would be sent (``request.user``, ``request.groups``,
    ``request.resourceAttributes.namespace``…; fields that are empty are absent, so
    ``has(request.resourceAttributes)`` tells a resource request from a non-resource one).
 2. Expressions are compiled once, when the configuration is loaded; one that does not
    compile, or whose type is not ``bool``, refuses the configuration (``compilation failed:
    …``, ``must evaluate to bool``). ``request`` is a dynamic map here, so a field the
    SubjectAccessReviewSpec does not have is found by walking the expression's selections
    (cel-go's ``undefined field 'x'``, as the typed object gives upstream).
 3. The conditions are evaluated in order: the first that is ``false`` skips the webhook (it
    has no opinion and is not called). An expression that cannot be evaluated is an error
    (``cel evaluation error: expression '…' resulted in error: …``), which the webhook answers
    with its ``failurePolicy``; the other conditions are still evaluated, and a ``false`` among
    them skips the webhook without error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeward.authz.aggregate import aggregate_messages
from kubeward.cel import PER_CALL_LIMIT, Environment, Program, types
from kubeward.errors import CELCompileError, CELError

_ENV = Environment({"request": types.map_of(types.STRING, types.DYN)})
BOOL_TYPES = ("bool", "dyn")

# SubjectAccessReviewSpec v1's fields; None ends the walk (a value, a list or a map of values).
_SELECTOR: dict[str, Any] = {"rawSelector": None, "requirements": None}
_SPEC: dict[str, Any] = {
    "user": None,
    "groups": None,
    "uid": None,
    "extra": None,
    "resourceAttributes": {
        "namespace": None,
        "verb": None,
        "group": None,
        "version": None,
        "resource": None,
        "subresource": None,
        "name": None,
        "fieldSelector": _SELECTOR,
        "labelSelector": _SELECTOR,
    },
    "nonResourceAttributes": {"path": None, "verb": None},
}


def _undefined(program: Program) -> CELCompileError | None:
    """Rule 2: the first selection of a field the spec does not have."""
    for selection in program.selections():
        if selection.variable != "request":
            continue
        fields: dict[str, Any] | None = _SPEC
        for name in selection.path:
            if fields is None:
                break
            if name not in fields:
                return program.error_at(selection.offset, f"undefined field '{name}'")
            fields = fields[name]
    return None


def compile_condition(expression: str) -> Program:
    """Rule 2: the compiled condition.

    Raises:
        CELCompileError: worded as kube-apiserver's validation words it.
    """
    try:
        program = _ENV.compile(expression)
    except CELCompileError as exc:
        raise CELCompileError(f"compilation failed: {exc}") from exc
    undefined = _undefined(program)
    if undefined is not None:
        raise CELCompileError(f"compilation failed: {undefined}")
    if program.result_type not in BOOL_TYPES:
        raise CELCompileError("must evaluate to bool")
    return program


class MatchConditions:
    """Rules 1-3 for one webhook."""

    def __init__(self, expressions: Sequence[str]) -> None:
        self.expressions = tuple(expressions)
        self._programs = [compile_condition(e) for e in self.expressions]

    def __bool__(self) -> bool:
        return bool(self._programs)

    def evaluate(self, request: Mapping[str, Any]) -> tuple[bool, str]:
        """Rule 3: (whether every condition holds, the evaluation error or "")."""
        errors: list[str] = []
        activation = {"request": dict(request)}
        for program in self._programs:
            try:
                value = program.evaluate(activation, cost_limit=PER_CALL_LIMIT)
            except CELError as exc:
                errors.append(
                    f"cel evaluation error: expression '{program.source}' resulted in error: {exc}"
                )
                continue
            if not isinstance(value, bool):
                errors.append(
                    f"cel evaluation error: expression '{program.source}' eval result type"
                    f" should be bool but got {type(value).__name__}"
                )
                continue
            if value is False:
                return False, ""
        if errors:
            return False, aggregate_messages(errors)
        return True, ""
