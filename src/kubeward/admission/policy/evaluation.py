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
    empty) or null (skipped); another type or an error is an error under Fail.
 5. Every expression runs with upstream's per-call cost limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeward import cel
from kubeward.api.validation.policy_cel import ANY, BOOL, COMPILER, STRING, STRING_OR_NULL
from kubeward.errors import CELError

MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes


@dataclass(frozen=True)
class Denial:
    """A failed validation (or an evaluation error under Fail): what the refusal says."""

    message: str
    reason: str = ""
    index: int = 0
    error: bool = False


@dataclass
class Outcome:
    """What the policy decided for one parameter."""

    applies: bool = True
    denials: list[Denial] = field(default_factory=list)
    annotations: list[tuple[str, str]] = field(default_factory=list)


def _run(source: str, returns: tuple[str, ...], activation: cel.Activation) -> tuple[Any, str]:
    """The expression's value and ``""``, or ``None`` and the error's text."""
    compiled = COMPILER.compile(source, returns)
    if compiled.program is None:
        return None, f"expression '{source}' resulted in error: {compiled.error}"
    try:
        return compiled.program.evaluate(activation, cost_limit=cel.PER_CALL_LIMIT), ""
    except CELError as exc:
        return None, f"expression '{source}' resulted in error: {exc}"


def evaluate(spec: Mapping[str, Any], values: dict[str, Any]) -> Outcome:
    """Rules 1-5 for ``spec`` (a policy's spec) with ``values`` (all but ``variables``)."""
    fail = spec.get("failurePolicy", "Fail") != "Ignore"
    variables: dict[str, Any] = {}
    activation = cel.Activation({**values, "variables": variables})
    for variable in spec.get("variables") or []:
        value, error = _run(str(variable.get("expression", "")), ANY, activation)
        if error:
            continue
        variables[str(variable.get("name"))] = value
        activation = cel.Activation({**values, "variables": variables})
    errors: list[str] = []
    for condition in spec.get("matchConditions") or []:
        value, error = _run(str(condition.get("expression", "")), BOOL, activation)
        if error:
            errors.append(error)
        elif value is False:
            return Outcome(applies=False)
    if errors:
        if not fail:
            return Outcome(applies=False)
        text = errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"
        return Outcome(denials=[Denial(text, error=True)])
    outcome = Outcome()
    for index, validation in enumerate(spec.get("validations") or []):
        expression = str(validation.get("expression", ""))
        value, error = _run(expression, BOOL, activation)
        if error:
            if fail:
                outcome.denials.append(Denial(error, index=index, error=True))
            continue
        if value is not True:
            message = _message(validation, activation) or f"failed expression: {expression.strip()}"
            reason = str(validation.get("reason") or "Invalid")
            outcome.denials.append(Denial(message, reason, index))
    for annotation in spec.get("auditAnnotations") or []:
        source = str(annotation.get("valueExpression", ""))
        value, error = _run(source, STRING_OR_NULL, activation)
        if error:
            if fail:
                outcome.denials.append(Denial(error, error=True))
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
                    )
                )
            continue
        if value.strip():
            outcome.annotations.append((str(annotation.get("key")), value.strip()[: 10 * 1024]))
    return outcome


def _message(validation: Mapping[str, Any], activation: cel.Activation) -> str:
    """Rule 3's message: the messageExpression's, else the message (may be empty)."""
    source = validation.get("messageExpression")
    if source:
        value, _error = _run(str(source), STRING, activation)
        if isinstance(value, str):
            value = value.strip()
            if value and "\n" not in value and len(value.encode()) <= MAX_MESSAGE_BYTES:
                return value
    return str(validation.get("message") or "").strip()
