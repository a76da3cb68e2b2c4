"""One policy evaluated for one write and one parameter: what each expression decided.

Rules (``validating/validator.go`` and ``webhook/matchconditions`` of k8s.io/apiserver 1.32):
 1. ``variables`` are evaluated in order, each seeing the ones before it as ``variables.NAME``;
    a variable that fails is absent, so an expression reading it fails.
 2. ``matchConditions``: any one false and the policy does not apply (no decision); errors with
    none false follow ``failurePolicy`` (Fail: one error decision; Ignore: does not apply).
 3. Each validation is a decision: true admits; false denies with, in order of preference, the
    ``messageExpression``'s trimmed one-line string, the ``message``, or ``failed expression:
    EXPR``, and the validation's ``reason`` (Invalid by default); an error is ``expression 'EXPR'
    resulted in error: ...``, a denial under ``failurePolicy: Fail`` and nothing under Ignore.
 4. Each audit annotation's ``valueExpression`` gives a trimmed string (published when not
    empty) or null (skipped); another type or an error is, under Fail, a denial whatever the
    binding's actions (``forced``); errors of rules 2 and 3 go to the actions like failures.
 5. Every expression runs with upstream's per-call cost limit. The actual cost is computed
    only when the expression's worst case, with every value as large as the whole write's
    JSON (the ``bound``: no string, list or map in it is longer), could be over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubeward import cel
from kubeward.api.validation.policy_cel import ANY, BOOL, COMPILER, STRING, STRING_OR_NULL
from kubeward.errors import CELError

MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes


@dataclass(frozen=True)
class Denial:
    """A failed validation (or an evaluation error under Fail): what the refusal says.

    ``forced``: an audit annotation's error, which denies whatever the binding's actions are."""

    message: str
    reason: str = ""
    index: int = 0
    error: bool = False
    forced: bool = False


@dataclass
class Outcome:
    """What the policy decided for one parameter."""

    applies: bool = True
    denials: list[Denial] = field(default_factory=list)
    annotations: list[tuple[str, str]] = field(default_factory=list)


class _Uniform:
    """Every value at most ``bound`` long (rule 5)."""

    def __init__(self, bound: float) -> None:
        self.bound = bound

    def size(self, variable: str, path: cel.Path) -> float | None:
        return self.bound


_WITHIN: dict[tuple[Any, ...], bool] = {}


def largest(value: Any) -> int:
    """A bound on the length of every string, list and map (and map key) in ``value``: its
    JSON encoding's length, which no part of it can exceed (rule 5)."""
    try:
        return len(orjson.dumps(value, default=str))
    except (TypeError, orjson.JSONEncodeError):
        return cel.MAX_REQUEST_BYTES


class _Bound:
    """Rule 5's bound over the values seen so far, computed only when an expression needs it."""

    def __init__(self, values: Any) -> None:
        self._pending: list[Any] = [values]
        self._value = 1

    def add(self, value: Any) -> None:
        self._pending.append(value)

    def get(self) -> int:
        while self._pending:
            self._value = max(self._value, largest(self._pending.pop()))
        return self._value


def _bucket(bound: int) -> int:
    return 1 << max(bound, 1).bit_length()  # the next power of two: few estimates per program


def _run(
    source: str, returns: tuple[str, ...], activation: cel.Activation, bound: _Bound
) -> tuple[Any, str]:
    """The expression's value and ``""``, or ``None`` and the error's text."""
    compiled = COMPILER.compile(source, returns)
    program = compiled.program
    if program is None:
        return None, f"expression '{source}' resulted in error: {compiled.error}"
    return run_program(program, (source, returns), activation, bound)


def run_program(
    program: cel.Program, key: tuple[Any, ...], activation: cel.Activation, bound: _Bound
) -> tuple[Any, str]:
    """A compiled program's value and ``""``, or ``None`` and the error's text (rule 5);
    ``key`` names the program in the cache of cost estimates."""
    limit: float | None = cel.PER_CALL_LIMIT
    if program.estimated_cost > cel.PER_CALL_LIMIT:
        bucket = _bucket(bound.get())
        within = _WITHIN.get((*key, bucket))
        if within is None:
            if len(_WITHIN) > 8192:
                _WITHIN.clear()
            within = program.estimate(_Uniform(float(bucket))) <= cel.PER_CALL_LIMIT
            _WITHIN[(*key, bucket)] = within
        if within:
            limit = None
    try:
        return program.evaluate(activation, cost_limit=limit), ""
    except CELError as exc:
        return None, f"expression '{program.source}' resulted in error: {exc}"


@dataclass
class Prepared:
    """Rules 1 and 2, shared by every kind of policy: the activation with ``variables`` and
    what the match conditions decided (``errors``: their evaluation errors when none was
    false; ``applies`` False when one was false)."""

    activation: cel.Activation
    bound: _Bound
    applies: bool = True
    errors: list[str] = field(default_factory=list)

    def run(self, program: cel.Program, source: str) -> tuple[Any, str]:
        """One more compiled expression of the policy (``source`` as written), with rule 5's
        limit; an error names ``source``."""
        value, error = run_program(program, ("mutation", source), self.activation, self.bound)
        if error:
            error = error.replace(f"'{program.source}'", f"'{source}'", 1)
        return value, error


def prepare(
    spec: Mapping[str, Any], values: dict[str, Any], *, conditions: bool = True
) -> Prepared:
    """Rules 1 and 2 for ``spec`` with ``values`` (all but ``variables``); only rule 1 when
    ``conditions`` is False."""
    variables: dict[str, Any] = {}
    activation = cel.Activation({**values, "variables": variables})
    bound = _Bound(values)
    for variable in spec.get("variables") or []:
        value, error = _run(str(variable.get("expression", "")), ANY, activation, bound)
        if error:
            continue
        variables[str(variable.get("name"))] = value
        bound.add(value)
        activation = cel.Activation({**values, "variables": variables})
    prepared = Prepared(activation, bound)
    for condition in spec.get("matchConditions") or [] if conditions else []:
        value, error = _run(str(condition.get("expression", "")), BOOL, activation, bound)
        if error:
            prepared.errors.append(error)
        elif value is False:
            return Prepared(activation, bound, applies=False)
    return prepared


def evaluate(spec: Mapping[str, Any], values: dict[str, Any]) -> Outcome:
    """Rules 1-5 for ``spec`` (a policy's spec) with ``values`` (all but ``variables``)."""
    fail = spec.get("failurePolicy", "Fail") != "Ignore"
    prepared = prepare(spec, values)
    if not prepared.applies:
        return Outcome(applies=False)
    activation, bound, errors = prepared.activation, prepared.bound, prepared.errors
    if errors:
        if not fail:
            return Outcome(applies=False)
        text = errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"
        return Outcome(denials=[Denial(text, error=True)])
    outcome = Outcome()
    for index, validation in enumerate(spec.get("validations") or []):
        expression = str(validation.get("expression", ""))
        value, error = _run(expression, BOOL, activation, bound)
        if error:
            if fail:
                outcome.denials.append(Denial(error, index=index, error=True))
            continue
        if value is not True:
            message = (
                _message(validation, activation, bound)
                or f"failed expression: {expression.strip()}"
            )
            reason = str(validation.get("reason") or "Invalid")
            outcome.denials.append(Denial(message, reason, index))
    for annotation in spec.get("auditAnnotations") or []:
        source = str(annotation.get("valueExpression", ""))
        value, error = _run(source, STRING_OR_NULL, activation, bound)
        if error:
            if fail:
                outcome.denials.append(Denial(error, error=True, forced=True))
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            if fail:
                outcome.denials.append(
                    Denial(
                        f"valueExpression '{source}' resulted in unsupported return type: "
                        f"{type(value).__name__}. Return type must be either string or null.",
                        error=True,
                        forced=True,
                    )
                )
            continue
        if value.strip():
            outcome.annotations.append((str(annotation.get("key")), value.strip()[: 10 * 1024]))
    return outcome


def _message(validation: Mapping[str, Any], activation: cel.Activation, bound: _Bound) -> str:
    """Rule 3's message: the messageExpression's, else the message (may be empty)."""
    source = validation.get("messageExpression")
    if source:
        value, _error = _run(str(source), STRING, activation, bound)
        if isinstance(value, str):
            value = value.strip()
            if value and "\n" not in value and len(value.encode()) <= MAX_MESSAGE_BYTES:
                return value
    return str(validation.get("message") or "").strip()
