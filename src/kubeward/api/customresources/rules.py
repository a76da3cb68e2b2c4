"""CEL validation rules of a CRD schema (``x-kubernetes-validations``): compiled once, run per write.

A :class:`RuleTree` mirrors the schema's structural spine and holds, at each node, the
compiled rules of that node; the CRD's kinds compile it once when they are registered
(``kinds.py``) and every write of a custom object evaluates it. As the apiextensions server:

 1. ``self`` is the node's value; a rule runs only where the value is present and not null.
 2. A *transition rule* (one naming ``oldSelf``) runs only on update, and only where an old
    value correlates: same property, same map key, or the same keys of an
    ``x-kubernetes-list-type: map`` list item. With ``optionalOldSelf: true`` it also runs
    on create, ``oldSelf`` being ``optional.none()``.
 3. A rule that is false gives one cause at the node's path (or at the path ``fieldPath`` names),
    with ``messageExpression``'s value, else ``message``, else ``failed rule: <rule>``; its
    reason is ``reason`` (FieldValueInvalid by default; Forbidden, Required, Duplicate).
    The value shown is the schema type: ``spec: Invalid value: "object": <message>``; the
    root's path is ``<nil>``.
 4. An evaluation error is ``<error> evaluating rule: <message or rule>``.
 5. All rules of one write share ``RUNTIME_CEL_COST_BUDGET``; each evaluation is limited to
    ``PER_CALL_LIMIT``; past either, the write is refused and no further rule runs.
 6. At CRD write time (``compile_rules``' causes): an empty rule, a compile error, a rule that
    is not a bool, a ``messageExpression`` that is not a string, a ``fieldPath`` that names no
    field, ``oldSelf`` where nothing correlates, and estimated costs over
    ``STATIC_ESTIMATED_COST_LIMIT`` per rule or ``STATIC_ESTIMATED_CRD_COST_LIMIT`` for the
    schema (each rule times the number of times its node can occur) are refused, worded as
    upstream. What rules see of the schema (types, sizes, fields) is ``rule_schema.py``'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kubeward import cel
from kubeward.api.customresources.rule_schema import (
    SchemaSizes,
    declared_type,
    max_size,
    needs_conversion,
    parse_field_path,
    undefined_field,
    visible_schema,
)
from kubeward.api.validation import field as fielderrors
from kubeward.errors import Cause, CELCompileError

Schema = dict[str, Any]
_COST_HINT = (
    "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, "
    "maps, and strings are declared)"
)
_REASONS = ("FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate")


@dataclass
class CompiledRule:
    rule: Schema
    program: cel.Program
    message: cel.Program | None
    uses_old_self: bool
    optional_old_self: bool
    field_path: tuple[str, ...]


@dataclass
class RuleTree:
    """The compiled rules of one schema node and of the nodes under it that have any."""

    schema: Schema
    rules: list[CompiledRule] = field(default_factory=list)
    properties: dict[str, RuleTree] = field(default_factory=dict)
    items: RuleTree | None = None
    additional: RuleTree | None = None
    # The node's plain rules (transition or not) as one list expression: one evaluation when
    # all hold, the common case; each rule alone only to say which failed and why.
    together: dict[bool, cel.Program | None] = field(default_factory=dict)
    optional_rules: list[CompiledRule] = field(default_factory=list)  # optionalOldSelf ones
    converting: bool = False  # whether rules see some value under this node unlike JSON

    def any(self, *, transition: bool) -> bool:
        """Whether this node or one under it has a rule that names ``oldSelf`` (or not)."""
        if any(r.uses_old_self == transition for r in self.rules):
            return True
        children = [*self.properties.values(), self.items, self.additional]
        return any(c.any(transition=transition) for c in children if c is not None)


def _environment(schema: Schema) -> cel.Environment:
    own = declared_type(schema)
    return cel.Environment({"self": own, "oldSelf": own}, optional_variables=())


def _optional_environment(schema: Schema) -> cel.Environment:
    own = declared_type(schema)
    return cel.Environment({"self": own, "oldSelf": own}, optional_variables=("oldSelf",))


def _go_rule(rule: Schema) -> str:
    """The rule as Go's %#v prints an ``apiextensions.ValidationRule`` in a field error."""
    reason = rule.get("reason")
    optional = rule.get("optionalOldSelf")
    return (
        f"apiextensions.ValidationRule{{Rule:{json.dumps(str(rule.get('rule', '')))}, "
        f"Message:{json.dumps(str(rule.get('message', '')))}, "
        f"MessageExpression:{json.dumps(str(rule.get('messageExpression', '')))}, "
        "Reason:"
        + (
            f"(*apiextensions.FieldValueErrorReason)({json.dumps(reason)})"
            if reason
            else "(*apiextensions.FieldValueErrorReason)(nil)"
        )
        + f", FieldPath:{json.dumps(str(rule.get('fieldPath', '')))}, OptionalOldSelf:"
        + (f"(*bool)({str(optional).lower()})" if optional is not None else "(*bool)(nil)")
        + "}"
    )


def _factor(cost: float, limit: int) -> str:
    ratio = cost / limit
    return "more than 100x" if ratio > 100 else f"{ratio:.1f}x"


@dataclass
class _Totals:
    entries: list[tuple[str, float]] = field(default_factory=list)


def compile_rules(schema: Schema, path: str = "") -> tuple[RuleTree | None, list[Cause]]:
    """Rule 6: the tree of compiled rules, and the causes that refuse the definition."""
    totals = _Totals()
    tree, causes = _compile_node(
        schema, path, cardinality=1.0, correlatable=True, totals=totals, root=True
    )
    total = sum(cost for _, cost in totals.entries)
    if total > cel.STATIC_ESTIMATED_CRD_COST_LIMIT:
        for where, cost in totals.entries:
            if cost > cel.STATIC_ESTIMATED_CRD_COST_LIMIT / 100:
                causes.append(
                    fielderrors.forbidden(
                        where,
                        "contributed to estimated rule cost total exceeding cost limit for "
                        "entire OpenAPIv3 schema",
                    )
                )
        causes.append(
            fielderrors.forbidden(
                path or "<nil>",
                "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema "
                f"exceeds budget by factor of {_factor(total, cel.STATIC_ESTIMATED_CRD_COST_LIMIT)} "
                + _COST_HINT,
            )
        )
    return tree, causes


def _compile_node(
    schema: Schema,
    path: str,
    *,
    cardinality: float,
    correlatable: bool,
    totals: _Totals,
    root: bool = False,
) -> tuple[RuleTree | None, list[Cause]]:
    causes: list[Cause] = []
    tree = RuleTree(schema)
    resource_root = root or schema.get("x-kubernetes-embedded-resource") is True
    rules = schema.get("x-kubernetes-validations")
    if isinstance(rules, list) and rules:
        plain = _environment(schema)
        optional: cel.Environment | None = None
        sizes = SchemaSizes(schema)
        for i, rule in enumerate(rules):
            where = f"{path}.x-kubernetes-validations[{i}]"
            if not isinstance(rule, dict):
                causes.append(fielderrors.invalid(where, rule, "must be an object"))
                continue
            env = plain
            if rule.get("optionalOldSelf"):
                optional = optional or _optional_environment(schema)
                env = optional
            compiled, problems = _compile_rule(
                rule,
                where,
                env,
                sizes,
                visible_schema(schema, root=resource_root),
                correlatable,
                cardinality,
            )
            causes.extend(problems)
            if compiled is not None:
                tree.rules.append(compiled)
                message_cost = compiled.message.estimated_cost if compiled.message else 0.0
                totals.entries.append(
                    (
                        f"{where}.rule",
                        (compiled.program.estimated_cost + message_cost) * cardinality,
                    )
                )
        if not causes:
            tree.together = {t: _together(tree.rules, plain, t, sizes) for t in (False, True)}
        tree.optional_rules = [r for r in tree.rules if r.optional_old_self]
        tree.converting = needs_conversion(schema)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            if isinstance(sub, dict):
                child, more = _compile_node(
                    sub,
                    f"{path}.properties[{key}]",
                    cardinality=cardinality,
                    correlatable=correlatable,
                    totals=totals,
                )
                causes.extend(more)
                if child is not None:
                    tree.properties[key] = child
    items = schema.get("items")
    if isinstance(items, dict):
        keyed = schema.get("x-kubernetes-list-type") == "map"
        tree.items, more = _compile_node(
            items,
            f"{path}.items",
            cardinality=cardinality * max_size(schema),
            correlatable=correlatable and keyed,
            totals=totals,
        )
        causes.extend(more)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        granular = schema.get("x-kubernetes-map-type") in (None, "granular")
        tree.additional, more = _compile_node(
            extra,
            f"{path}.additionalProperties",
            cardinality=cardinality * max_size(schema),
            correlatable=correlatable and granular,
            totals=totals,
        )
        causes.extend(more)
    if tree.rules or tree.properties or tree.items or tree.additional:
        return tree, causes
    return None, causes


def _together(
    rules: list[CompiledRule], env: cel.Environment, transition: bool, sizes: SchemaSizes
) -> cel.Program | None:
    chosen = [r for r in rules if r.uses_old_self == transition and not r.optional_old_self]
    if len(chosen) < 2:
        return None
    # A newline after each rule: a rule may end in a // comment.
    source = "[" + ", ".join(f"(\n{r.program.source}\n)" for r in chosen) + "]"
    try:
        return env.compile(source, sizes=sizes)
    except CELCompileError:
        return None


def _first_undefined(program: cel.Program, schema: Schema) -> str:
    """cel-go's ``undefined field`` error for the first selection the schema does not declare
    (objects are dynamic values here, so the type checker cannot say it)."""
    for selection in program.selections():
        if selection.variable not in ("self", "oldSelf"):
            continue
        at = undefined_field(schema, selection.path)
        if at is not None and at == len(selection.path) - 1:
            return str(
                program.error_at(selection.offset, f"undefined field '{selection.path[at]}'")
            )
    return ""


def _compile_rule(
    rule: Schema,
    where: str,
    env: cel.Environment,
    sizes: SchemaSizes,
    schema: Schema,
    correlatable: bool,
    cardinality: float,
) -> tuple[CompiledRule | None, list[Cause]]:
    source = str(rule.get("rule") or "")
    if not source.strip():
        return None, [fielderrors.required(f"{where}.rule", "rule is not specified")]
    causes: list[Cause] = []
    reason = rule.get("reason")
    if reason is not None and reason not in _REASONS:
        causes.append(fielderrors.not_supported(f"{where}.reason", reason, _REASONS))
    try:
        program = env.compile(source, sizes=sizes)
    except CELCompileError as exc:
        return None, [
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_go_rule(rule)}: compilation failed: {exc}",
                f"{where}.rule",
            )
        ]
    undefined = _first_undefined(program, schema)
    if undefined:
        return None, [
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_go_rule(rule)}: compilation failed: {undefined}",
                f"{where}.rule",
            )
        ]
    if program.result_type not in ("bool", "dyn"):
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_go_rule(rule)}: cel expression must evaluate to a bool",
                f"{where}.rule",
            )
        )
    cost = program.estimated_cost * cardinality
    if cost > cel.STATIC_ESTIMATED_COST_LIMIT:
        causes.append(
            fielderrors.forbidden(
                f"{where}.rule",
                "estimated rule cost exceeds budget by factor of "
                f"{_factor(cost, cel.STATIC_ESTIMATED_COST_LIMIT)} {_COST_HINT}",
            )
        )
    uses_old_self = "oldSelf" in program.variables
    if uses_old_self and not correlatable:
        causes.append(
            fielderrors.forbidden(
                f"{where}.rule",
                "oldSelf cannot be used on the uncorrelatable portion of the schema within "
                f"{where.rsplit('.x-kubernetes-validations', 1)[0]}",
            )
        )
    message: cel.Program | None = None
    expression = rule.get("messageExpression")
    if isinstance(expression, str) and expression.strip():
        problem = ""
        try:
            message = env.compile(expression, sizes=sizes)
        except CELCompileError as exc:
            problem = f"messageExpression compilation failed: {exc}"
        else:
            undefined = _first_undefined(message, schema)
            if undefined:
                problem = f"messageExpression compilation failed: {undefined}"
            elif message.result_type not in ("string", "dyn"):
                problem = "messageExpression must evaluate to a string"
            elif message.estimated_cost * cardinality > cel.STATIC_ESTIMATED_COST_LIMIT:
                causes.append(
                    fielderrors.forbidden(
                        f"{where}.messageExpression",
                        "estimated messageExpression cost exceeds budget by factor of "
                        f"{_factor(message.estimated_cost * cardinality, cel.STATIC_ESTIMATED_COST_LIMIT)} "
                        + _COST_HINT,
                    )
                )
        if problem:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {_go_rule(rule)}: {problem}",
                    f"{where}.messageExpression",
                )
            )
    field_path: tuple[str, ...] = ()
    if rule.get("fieldPath"):
        parsed = parse_field_path(str(rule["fieldPath"]), schema)
        if parsed is None:
            causes.append(
                fielderrors.invalid(
                    f"{where}.fieldPath", rule["fieldPath"], "fieldPath must be a valid path"
                )
            )
        else:
            field_path = parsed
    # Returned even with causes: its cost still counts toward the schema's total.
    return (
        CompiledRule(
            rule, program, message, uses_old_self, bool(rule.get("optionalOldSelf")), field_path
        ),
        causes,
    )
