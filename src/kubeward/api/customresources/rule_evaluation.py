"""Running a CRD's compiled validation rules (``rules.py``) on one write of a custom object.

Rules 1 to 5 of ``rules.py``: the tree is walked along the object, old values correlated as
the apiextensions server correlates them, and every rule's verdict becomes a cause. One
budget (``RUNTIME_CEL_COST_BUDGET``) is shared by the whole write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeward import cel
from kubeward.api.customresources.rule_schema import rule_value
from kubeward.api.customresources.rules import CompiledRule, RuleTree
from kubeward.api.validation import field as fielderrors
from kubeward.errors import Cause, CELCostExceeded, CELEvaluationError

_MISSING = object()

#: Added, as upstream adds it, when a blocking schema error kept the rules from running.
RULES_NOT_CHECKED = fielderrors.invalid(
    "<nil>",
    "null",
    "some validation rules were not checked because the object was invalid; correct the "
    "existing errors to complete validation",
)
_BLOCKING = frozenset(
    {
        "FieldValueNotSupported",
        "FieldValueRequired",
        "FieldValueTooLong",
        "FieldValueTooMany",
        "FieldValueTypeInvalid",
    }
)


def blocks_rules(causes: list[Cause]) -> bool:
    """Whether schema errors keep the rules from running: a wrong type (``schema.py`` words it
    as an invalid value ``... must be of type ...``), a missing or unsupported value, too long,
    too many. Other schema errors (bounds, patterns) let the rules run too, as upstream."""
    return any(c.reason in _BLOCKING or " in body must be of type " in c.message for c in causes)


class _OutOfBudget(Exception):
    """Internal: stops the walk once the budget is spent (never leaves this module)."""

    def __init__(self, cause: Cause) -> None:
        super().__init__(cause.message)
        self.cause = cause


@dataclass
class _Budget:
    remaining: float


def evaluate_rules(
    tree: RuleTree | None,
    obj: Any,
    old: Any = _MISSING,
    *,
    transition: bool,
    ratchet: bool = False,
) -> list[Cause]:
    """The causes the rules give for ``obj``: the rules that name ``oldSelf`` when
    ``transition`` (``old`` is the stored object on update; absent on create, where only
    ``optionalOldSelf`` rules run), else the others.

    With ``ratchet`` (an update), the other rules do not refuse a value that correlates with
    an equal old value (upstream's validation ratcheting, on by default since 1.30): an object
    stored before a rule was added can still be updated while that value stays as it was.
    """
    if tree is None:
        return []
    causes: list[Cause] = []
    budget = _Budget(float(cel.RUNTIME_CEL_COST_BUDGET))
    try:
        _walk(tree, obj, old, "", causes, budget, transition, ratchet)
    except _OutOfBudget as out:
        causes.append(out.cause)
    return causes


def _type_name(schema: dict[str, Any]) -> str:
    return str(schema.get("type") or "")  # upstream shows the node's type, "" when it has none


def _walk(
    tree: RuleTree,
    value: Any,
    old: Any,
    path: str,
    causes: list[Cause],
    budget: _Budget,
    transition: bool,
    ratchet: bool,
) -> None:
    if value is None:
        return
    if ratchet and not transition and old is not _MISSING and value == old:
        return  # unchanged: every error below would be ratcheted
    activation: cel.Activation | None = None
    together = tree.together.get(transition)
    has_old = old is not _MISSING and old is not None
    remaining = tree.rules
    if together is not None and (has_old or not transition):
        activation = _activation(tree, value, old, has_old)
        if _all_hold(together, activation, budget):
            remaining = tree.optional_rules  # every plain rule held: only these are left
    for compiled in remaining:
        if compiled.uses_old_self != transition:
            continue
        if compiled.uses_old_self and not has_old and not compiled.optional_old_self:
            continue
        if activation is None:
            activation = _activation(tree, value, old, has_old)
        _run(compiled, tree, activation, path, causes, budget)
    if isinstance(value, dict):
        old_map = old if isinstance(old, dict) else {}
        for key, sub in tree.properties.items():
            if key in value:
                _walk(
                    sub,
                    value[key],
                    old_map.get(key, _MISSING),
                    _join(path, key),
                    causes,
                    budget,
                    transition,
                    ratchet,
                )
        if tree.additional is not None:
            for key, item in value.items():
                _walk(
                    tree.additional,
                    item,
                    old_map.get(key, _MISSING),
                    f"{path}[{key}]",
                    causes,
                    budget,
                    transition,
                    ratchet,
                )
    elif isinstance(value, list) and tree.items is not None:
        keys = tree.schema.get("x-kubernetes-list-map-keys")
        by_key: dict[tuple[Any, ...], Any] = {}
        if (
            tree.schema.get("x-kubernetes-list-type") == "map"
            and isinstance(keys, list)
            and isinstance(old, list)
        ):
            for item in old:
                if isinstance(item, dict):
                    by_key[tuple(item.get(k) for k in keys)] = item
        for i, item in enumerate(value):
            previous = _MISSING
            if by_key and isinstance(item, dict) and isinstance(keys, list):
                previous = by_key.get(tuple(item.get(k) for k in keys), _MISSING)
            _walk(tree.items, item, previous, f"{path}[{i}]", causes, budget, transition, ratchet)


def _activation(tree: RuleTree, value: Any, old: Any, has_old: bool) -> cel.Activation:
    if tree.converting:  # as rules see values (rule_schema.py, rules 5 and 6)
        value = rule_value(value, tree.schema)
        old = rule_value(old, tree.schema) if has_old else old
    return cel.Activation({"self": value, "oldSelf": old} if has_old else {"self": value})


def _all_hold(together: cel.Program, activation: cel.Activation, budget: _Budget) -> bool:
    """Whether every plain rule of the node holds, found with one evaluation (charged to the budget)."""
    cost = together.estimated_cost
    if cost > cel.PER_CALL_LIMIT or cost > budget.remaining:
        return False
    try:
        verdicts = together.evaluate(activation)
    except CELEvaluationError:
        return False
    if isinstance(verdicts, list) and all(v is True for v in verdicts):
        budget.remaining -= cost
        return True
    return False


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _run(
    compiled: CompiledRule,
    tree: RuleTree,
    activation: cel.Activation,
    path: str,
    causes: list[Cause],
    budget: _Budget,
) -> None:
    program = compiled.program
    spent = program.estimated_cost
    if spent > budget.remaining or spent > cel.PER_CALL_LIMIT:
        spent = program.cost(activation)
        if spent > budget.remaining:
            raise _OutOfBudget(
                fielderrors.invalid(
                    path or "<nil>",
                    _type_name(tree.schema),
                    "validation failed due to running out of cost budget, no further validation "
                    "rules will be run",
                )
            )
    try:
        verdict = program.evaluate(activation, cost_limit=cel.PER_CALL_LIMIT)
        budget.remaining -= spent
        if verdict is True:
            return
    except CELCostExceeded as exc:
        raise _OutOfBudget(_refusal(compiled, tree, path, exc)) from exc
    except CELEvaluationError as exc:
        causes.append(_refusal(compiled, tree, path, exc))
        return
    causes.append(_verdict(compiled, tree, activation, path, budget))


def _described(compiled: CompiledRule) -> str:
    rule = compiled.rule
    return str(rule.get("message") or "").strip() or str(rule.get("rule", "")).strip()


def _refusal(
    compiled: CompiledRule, tree: RuleTree, path: str, exc: CELCostExceeded | CELEvaluationError
) -> Cause:
    """Rule 4 (an evaluation error), and rule 5 (past the cost limit)."""
    shown = path or "<nil>"
    type_name = _type_name(tree.schema)
    if isinstance(exc, CELCostExceeded):
        return fielderrors.invalid(
            shown,
            type_name,
            f"'{exc}': no further validation rules will be run due to call cost exceeds "
            f"limit for rule: {_described(compiled)}",
        )
    if str(exc).startswith("no such overload"):
        # Only where type checking was bypassed (int-or-string and other dyn values).
        return fielderrors.invalid(
            shown,
            type_name,
            f"'{exc}': call arguments did not match a supported operator, function or macro "
            f"signature for rule: {_described(compiled)}",
        )
    return fielderrors.invalid(shown, type_name, f"{exc} evaluating rule: {_described(compiled)}")


def _verdict(
    compiled: CompiledRule, tree: RuleTree, activation: cel.Activation, path: str, budget: _Budget
) -> Cause:
    """Rule 3: the cause of a rule that was false."""
    rule = compiled.rule
    type_name = _type_name(tree.schema)
    where = path
    for step in compiled.field_path:
        where = _join(where, step)
    detail = _message(compiled, activation, budget) or (
        str(rule.get("message")).strip()
        if rule.get("message")
        else f"failed rule: {_described(compiled)}"
    )
    return _cause(where or "<nil>", type_name, detail, rule.get("reason"))


def _message(compiled: CompiledRule, activation: cel.Activation, budget: _Budget) -> str:
    if compiled.message is None:
        return ""
    try:
        text = compiled.message.evaluate(activation, cost_limit=budget.remaining)
    except (CELEvaluationError, CELCostExceeded):
        return ""
    budget.remaining -= compiled.message.estimated_cost
    if not isinstance(text, str):
        return ""
    text = text.strip()
    if not text or "\n" in text or len(text) > 5 * 1024:
        return ""
    return text


def _cause(path: str, type_name: str, detail: str, reason: Any) -> Cause:
    if reason == "FieldValueForbidden":
        return fielderrors.forbidden(path, detail)
    if reason == "FieldValueRequired":
        return fielderrors.required(path, detail)
    if reason == "FieldValueDuplicate":
        return fielderrors.duplicate(path, type_name)
    return fielderrors.invalid(path, type_name, detail)
