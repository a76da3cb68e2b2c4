"""CEL validation rules of a CRD: refused definitions, and custom objects against the rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.customresources.kinds import served_kinds
from kubeward.api.customresources.rule_evaluation import evaluate_rules
from kubeward.api.customresources.rule_schema import escape
from kubeward.api.customresources.rules import compile_rules
from kubeward.api.validation.apiextensions import default_crd, validate_crd

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.replicas", "message": "replicas below minimum"},
                {
                    "rule": "self.replicas <= 10",
                    "messageExpression": "'replicas %d over 10'.format([self.replicas])",
                },
                {
                    "rule": "!has(self.mode) || self.mode != 'off'",
                    "fieldPath": ".mode",
                    "reason": "FieldValueForbidden",
                },
                {"rule": "self.replicas >= oldSelf.replicas", "message": "cannot scale down"},
                {"rule": "self.owner == oldSelf.owner", "message": "owner is immutable"},
            ],
            "properties": {
                "replicas": {"type": "integer"},
                "minReplicas": {"type": "integer"},
                "mode": {"type": "string", "maxLength": 8},
                "owner": {"type": "string", "maxLength": 20},
                "ports": {
                    "type": "array",
                    "maxItems": 4,
                    "items": {
                        "type": "integer",
                        "x-kubernetes-validations": [{"rule": "self > 0"}],
                    },
                },
                "size": {
                    "type": "string",
                    "maxLength": 10,
                    "x-kubernetes-validations": [
                        {"rule": "isQuantity(self) && quantity(self).isLessThan(quantity('1Gi'))"}
                    ],
                },
            },
        }
    },
    "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('web')"}],
}


def obj(name: str = "web-1", **spec: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "default"}
    return {"apiVersion": "x.io/v1", "kind": "W", "metadata": metadata, "spec": spec}


def messages(new: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    tree, causes = compile_rules(SCHEMA)
    assert causes == []
    found = evaluate_rules(tree, new, transition=False)
    if old is not None:
        found += evaluate_rules(tree, new, old, transition=True)
    return [f"{c.field}: {c.message}" for c in found]


CASES = [
    ("valid", obj(replicas=3, minReplicas=1, owner="a"), None, []),
    ("message", obj(replicas=1, minReplicas=2), None, ['spec: Invalid value: "object": replicas below minimum']),
    ("messageExpression", obj(replicas=11, minReplicas=1), None, ['spec: Invalid value: "object": replicas 11 over 10']),
    ("fieldPath and reason", obj(replicas=1, minReplicas=1, mode="off"), None, ["spec.mode: Forbidden: failed rule: !has(self.mode) || self.mode != 'off'"]),
    ("root rule", obj("db", replicas=1, minReplicas=1), None, ['<nil>: Invalid value: "object": failed rule: self.metadata.name.startsWith(\'web\')']),
    ("list items", obj(replicas=1, minReplicas=1, ports=[80, 0]), None, ['spec.ports[1]: Invalid value: "integer": failed rule: self > 0']),
    ("quantity", obj(replicas=1, minReplicas=1, size="2Gi"), None, ["spec.size: Invalid value: \"string\": failed rule: isQuantity(self) && quantity(self).isLessThan(quantity('1Gi'))"]),
    ("evaluation error", obj(replicas=1), None, ['spec: Invalid value: "object": no such key: minReplicas evaluating rule: replicas below minimum']),
    ("transition ok", obj(replicas=3, minReplicas=1, owner="a"), obj(replicas=2, minReplicas=1, owner="a"), []),
    ("transition refused", obj(replicas=1, minReplicas=1, owner="b"), obj(replicas=2, minReplicas=1, owner="a"), ['spec: Invalid value: "object": cannot scale down', 'spec: Invalid value: "object": owner is immutable']),
]  # fmt: skip


@pytest.mark.parametrize(
    ("new", "old", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rules_speak_the_apiextensions_servers_words(
    new: dict[str, Any], old: dict[str, Any] | None, expected: list[str]
) -> None:
    assert messages(new, old) == expected


def test_transition_rules_do_not_run_on_create() -> None:
    tree, _ = compile_rules(SCHEMA)
    assert evaluate_rules(tree, obj(replicas=1, minReplicas=1, owner="x"), transition=True) == []


def test_optional_old_self_runs_on_create_with_none() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"v": {"type": "integer"}}}},
        "x-kubernetes-validations": [
            {
                "rule": "oldSelf.hasValue() || self.spec.v == 1",
                "optionalOldSelf": True,
                "message": "must start at 1",
            }
        ],
    }
    tree, causes = compile_rules(schema)
    assert causes == []
    assert [c.message for c in evaluate_rules(tree, obj(v=2), transition=True)] == [
        'Invalid value: "object": must start at 1'
    ]
    assert evaluate_rules(tree, obj(v=1), transition=True) == []
    assert evaluate_rules(tree, obj(v=2), obj(v=1), transition=True) == []


def crd_with(schema: dict[str, Any]) -> dict[str, Any]:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "ws.x.io"},
        "spec": {
            "group": "x.io",
            "scope": "Namespaced",
            "names": {"plural": "ws", "kind": "W"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
    default_crd(crd)
    return crd


PREFIX = "spec.versions[0].schema.openAPIV3Schema"
HINT = (
    "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, "
    "maps, and strings are declared)"
)
REFUSALS = [
    (
        "compile error",
        {"type": "object", "x-kubernetes-validations": [{"rule": "self.a >"}]},
        [
            f"{PREFIX}.x-kubernetes-validations[0].rule: Invalid value: "
            'apiextensions.ValidationRule{Rule:"self.a >", Message:"", MessageExpression:"", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            "OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:9: Syntax error: "
            "mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', "
            "'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | self.a >\n | ........^"
        ],
    ),
    (
        "empty rule",
        {"type": "object", "x-kubernetes-validations": [{"rule": " "}]},
        [f"{PREFIX}.x-kubernetes-validations[0].rule: Required value: rule is not specified"],
    ),
    (
        "not a bool",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "x-kubernetes-validations": [{"rule": "1 + 1"}]},
        [
            f"{PREFIX}.x-kubernetes-validations[0].rule: Invalid value: "
            'apiextensions.ValidationRule{Rule:"1 + 1", Message:"", MessageExpression:"", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            "OptionalOldSelf:(*bool)(nil)}: cel expression must evaluate to a bool"
        ],
    ),
    (
        "cost over the per-rule limit",
        {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}]}},
        },
        [
            f"{PREFIX}.properties[tags].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x {HINT}",
            f"{PREFIX}.properties[tags].x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            f"{PREFIX}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x {HINT}",
        ],
    ),
    (
        "undefined field",
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "integer"}}, "x-kubernetes-validations": [{"rule": "self.nonExistingField > 0"}]}}},
        [
            f"{PREFIX}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "
            'apiextensions.ValidationRule{Rule:"self.nonExistingField > 0", Message:"", MessageExpression:"", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            "OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field 'nonExistingField'\n"
            " | self.nonExistingField > 0\n | ....^"
        ],
    ),
    (
        "metadata beyond name and generateName at the root",
        {"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.namespace == 'x'"}]},
        [
            f"{PREFIX}.x-kubernetes-validations[0].rule: Invalid value: "
            'apiextensions.ValidationRule{Rule:"self.metadata.namespace == \'x\'", Message:"", MessageExpression:"", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            "OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:14: undefined field 'namespace'\n"
            " | self.metadata.namespace == 'x'\n | .............^"
        ],
    ),
    (
        "messageExpression not a string",
        {"type": "object", "x-kubernetes-validations": [{"rule": "true", "messageExpression": "1"}]},
        [
            f"{PREFIX}.x-kubernetes-validations[0].messageExpression: Invalid value: "
            'apiextensions.ValidationRule{Rule:"true", Message:"", MessageExpression:"1", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            "OptionalOldSelf:(*bool)(nil)}: messageExpression must evaluate to a string"
        ],
    ),
    (
        "a cheap rule on the items of an unbounded list",
        {"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string", "x-kubernetes-validations": [{"rule": "self.contains('x')"}]}}}},
        [
            f"{PREFIX}.properties[l].items.x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x {HINT}",
            f"{PREFIX}.properties[l].items.x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            f"{PREFIX}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x {HINT}",
        ],
    ),
    (
        "a string() conversion concatenated in a messageExpression",
        {
            "type": "object",
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "self.min <= self.max", "messageExpression": "'min (' + string(self.min) + ') over max'"}],
        },
        [
            f"{PREFIX}.x-kubernetes-validations[0].messageExpression: Forbidden: estimated messageExpression cost exceeds budget by factor of more than 100x {HINT}",
            f"{PREFIX}.x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
            f"{PREFIX}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x {HINT}",
        ],
    ),
    (
        "oldSelf where nothing correlates",
        {"type": "object", "properties": {"l": {"type": "array", "maxItems": 3, "items": {"type": "integer", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}}},
        [f"{PREFIX}.properties[l].items.x-kubernetes-validations[0].rule: Forbidden: oldSelf cannot be used on the uncorrelatable portion of the schema within {PREFIX}.properties[l].items"],
    ),
    (
        "fieldPath naming no field",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".b"}]},
        [f'{PREFIX}.x-kubernetes-validations[0].fieldPath: Invalid value: ".b": fieldPath must be a valid path'],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "expected"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_bad_rules_refuse_the_definition(schema: dict[str, Any], expected: list[str]) -> None:
    assert [f"{c.field}: {c.message}" for c in validate_crd(crd_with(schema))] == expected


def test_bounds_bring_a_rule_under_the_limit() -> None:
    bounded = {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "maxItems": 10,
                "items": {"type": "string", "maxLength": 10},
                "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}],
            }
        },
    }
    assert validate_crd(crd_with(bounded)) == []


def test_the_kind_compiles_its_rules_once_and_the_strategy_applies_them() -> None:
    crd = crd_with(copy.deepcopy(SCHEMA))
    (kind,) = served_kinds(crd)
    strategy = kind.strategy(kind)  # type: ignore[misc,call-arg]
    good = obj(replicas=2, minReplicas=1, owner="a")
    assert strategy.validate(good) == []
    assert strategy.validate_update(obj(replicas=1, minReplicas=1, owner="a"), good)[0].message == (
        'Invalid value: "object": cannot scale down'
    )


def test_a_nodes_rules_are_also_compiled_as_one_and_agree_with_each_alone() -> None:
    schema = {
        "type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.a > 0 // a comment to the end of the line"},
            {"rule": "self.a < 10", "message": "a below 10"},
        ],
        "properties": {"a": {"type": "integer"}},
    }
    tree, causes = compile_rules(schema)
    assert causes == [] and tree is not None
    together = tree.together[False]
    assert together is not None and tree.together[True] is None
    # Estimated with the schema's sizes, so the one evaluation is within the per-call limit.
    assert together.estimated_cost < 100
    assert evaluate_rules(tree, {"a": 5}, transition=False) == []
    assert [c.message for c in evaluate_rules(tree, {"a": 50}, transition=False)] == [
        'Invalid value: "object": a below 10'
    ]
    assert [c.message for c in evaluate_rules(tree, {}, transition=False)] == [
        'Invalid value: "object": no such key: a evaluating rule: self.a > 0 // a comment to the end of the line',
        'Invalid value: "object": no such key: a evaluating rule: a below 10',
    ]


def test_oldself_in_a_string_is_not_a_transition_rule() -> None:
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "'oldSelf' != 'x'"}]}
    tree, causes = compile_rules(schema)
    assert causes == [] and tree is not None
    assert not tree.rules[0].uses_old_self


def test_a_runtime_type_mismatch_says_no_such_overload() -> None:
    schema = {
        "type": "object",
        "properties": {"port": {"x-kubernetes-int-or-string": True}},
        "x-kubernetes-validations": [{"rule": "self.port > 0"}],
    }
    tree, _ = compile_rules(schema)
    assert [c.message for c in evaluate_rules(tree, {"port": "http"}, transition=False)] == [
        "Invalid value: \"object\": 'no such overload': call arguments did not match a supported "
        "operator, function or macro signature for rule: self.port > 0"
    ]


def _quadratic_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "maxItems": 1000,
                "items": {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {"type": "string", "maxLength": 2},
                    "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}],
                },
            }
        },
    }


def test_the_per_call_limit_stops_the_rules_of_a_write() -> None:
    tree, _ = compile_rules(_quadratic_schema())
    big = {"items": [[f"{i % 99}" for i in range(1000)] for _ in range(3)]}
    assert [f"{c.field}: {c.message}" for c in evaluate_rules(tree, big, transition=False)] == [
        "items[0]: Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': "
        "no further validation rules will be run due to call cost exceeds limit for rule: "
        "self.all(x, self.exists(y, x == y))"
    ]


def test_the_runtime_budget_is_shared_by_the_rules_of_a_write() -> None:
    tree, _ = compile_rules(_quadratic_schema())
    # Each list's rule is under the per-call limit; together they are over the write's budget.
    many = {"items": [[f"{i % 99}" for i in range(90)] for _ in range(250)]}
    causes = [f"{c.field}: {c.message}" for c in evaluate_rules(tree, many, transition=False)]
    assert len(causes) == 1
    assert causes[0].startswith("items[")
    assert causes[0].endswith(
        'Invalid value: "array": validation failed due to running out of cost budget, '
        "no further validation rules will be run"
    )


@pytest.mark.parametrize(
    "rule",
    [
        "self.labels.anything == 'x'",  # a map's keys are not fields
        "self.free.anything.deeper == 1",  # x-kubernetes-preserve-unknown-fields
        "self.items.all(i, i.name != '')",  # through a list's items
        "has(self.a) && self.a > 0",
    ],
)
def test_declared_fields_compile(rule: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "items": {
                "type": "array",
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "maxLength": 5}},
                },
            },
        },
        "x-kubernetes-validations": [{"rule": rule}],
    }
    assert compile_rules(schema)[1] == []


def test_an_undefined_field_under_a_list_is_refused() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "maxItems": 5,
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            }
        },
        "x-kubernetes-validations": [{"rule": "self.items.all(i, i.nmae != '')"}],
    }
    (cause,) = compile_rules(schema)[1]
    assert "ERROR: <input>:1:20: undefined field 'nmae'" in cause.message


def test_blocking_schema_errors_skip_the_rules_and_say_so() -> None:
    crd = crd_with(copy.deepcopy(SCHEMA))
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "replicas"
    ]["maximum"] = 100
    (kind,) = served_kinds(crd)
    strategy = kind.strategy(kind)  # type: ignore[misc,call-arg]
    wrong_type = obj(replicas="3", minReplicas=5)
    assert [f"{c.field}: {c.message}" for c in strategy.validate(wrong_type)] == [
        'spec.replicas: Invalid value: "3": spec.replicas in body must be of type integer: "string"',
        '<nil>: Invalid value: "null": some validation rules were not checked because the object '
        "was invalid; correct the existing errors to complete validation",
    ]
    # A bound is not blocking: the rules run as well.
    over = obj(replicas=101, minReplicas=1)
    assert [f"{c.field}: {c.message}" for c in strategy.validate(over)] == [
        "spec.replicas: Invalid value: 101: spec.replicas in body should be less than or equal to 100",
        'spec: Invalid value: "object": replicas 101 over 10',
    ]


def _strategy() -> Any:
    (kind,) = served_kinds(crd_with(copy.deepcopy(SCHEMA)))
    return kind.strategy(kind)  # type: ignore[misc,call-arg]


def _update(strategy: Any, new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """The store's order: metadata, object, then the update."""
    causes = strategy.validate_metadata(new, creating=False)
    causes += strategy.validate(new)
    causes += strategy.validate_update(new, old)
    return [f"{c.field}: {c.message}" for c in causes]


def test_ratcheting_lets_an_unchanged_invalid_value_through_an_update() -> None:
    strategy = _strategy()
    # Stored before the rules existed: the size rule does not hold for it.
    stored = obj(replicas=2, minReplicas=1, owner="a", size="4Gi")
    assert _update(strategy, obj(replicas=3, minReplicas=1, owner="a", size="4Gi"), stored) == []
    assert _update(strategy, obj(replicas=3, minReplicas=1, owner="a", size="8Gi"), stored) == [
        'spec.size: Invalid value: "string": failed rule: isQuantity(self) && '
        "quantity(self).isLessThan(quantity('1Gi'))"
    ]
    # A create is never ratcheted.
    created = obj(replicas=3, minReplicas=1, owner="a", size="4Gi")
    causes = strategy.validate_metadata(created, creating=True) + strategy.validate(created)
    assert [c.field for c in causes] == ["spec.size"]


def test_transition_rules_are_not_ratcheted() -> None:
    strategy = _strategy()
    stored = obj(replicas=2, minReplicas=1, owner="a")
    assert _update(strategy, obj(replicas=1, minReplicas=1, owner="a"), stored) == [
        'spec: Invalid value: "object": cannot scale down'
    ]


ESCAPES = [
    ("foo-bar", "foo__dash__bar"),
    ("a.b", "a__dot__b"),
    ("a/b", "a__slash__b"),
    ("a__b", "a__underscores__b"),
    ("namespace", "__namespace__"),
    ("if", "__if__"),
    ("plain_name", "plain_name"),
    ("1st", None),
    ("with space", None),
]


@pytest.mark.parametrize(("name", "escaped"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_property_names_are_escaped_as_upstream(name: str, escaped: str | None) -> None:
    assert escape(name) == escaped


def test_rules_read_escaped_property_names() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "max-size": {"type": "integer"},
                    "namespace": {"type": "string", "maxLength": 10},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "x-kubernetes-validations": [
                    {"rule": "self.max__dash__size < 10", "message": "too big"},
                    {"rule": "self.__namespace__ != 'kube-system'", "message": "reserved"},
                    {"rule": "!('a-b' in self.labels) || self.labels['a-b'] == 'x'"},
                ],
            }
        },
    }
    tree, causes = compile_rules(schema)
    assert causes == []
    ok = {"spec": {"max-size": 1, "namespace": "default", "labels": {"a-b": "x"}}}
    assert evaluate_rules(tree, ok, transition=False) == []
    bad = {"spec": {"max-size": 11, "namespace": "kube-system", "labels": {"a-b": "y"}}}
    assert [c.message for c in evaluate_rules(tree, bad, transition=False)] == [
        'Invalid value: "object": too big',
        'Invalid value: "object": reserved',
        "Invalid value: \"object\": failed rule: !('a-b' in self.labels) || self.labels['a-b'] == 'x'",
    ]
    (unescaped,) = compile_rules(
        {
            **schema["properties"]["spec"],
            "x-kubernetes-validations": [{"rule": "self.max_size > 0"}],
        }
    )[1]
    assert "undefined field 'max_size'" in unescaped.message


def test_formatted_strings_are_timestamps_durations_and_bytes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "starts": {"type": "string", "format": "date-time"},
            "ends": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "every": {"type": "string", "format": "duration"},
            "key": {"type": "string", "format": "byte"},
            "times": {
                "type": "array",
                "maxItems": 4,
                "items": {"type": "string", "format": "date-time"},
            },
        },
        "x-kubernetes-validations": [
            {"rule": "self.starts < self.ends", "message": "starts after it ends"},
            {"rule": "self.ends - self.starts <= duration('24h')", "message": "longer than a day"},
            {"rule": "self.day.getFullYear() == 2024"},
            {"rule": "self.every >= duration('1m30s')", "message": "too often"},
            {"rule": "size(self.key) == 3", "message": "key is not 3 bytes"},
            {"rule": "self.times.all(t, t > self.starts)"},
        ],
    }
    tree, causes = compile_rules(schema)
    assert causes == []
    ok = {
        "starts": "2024-05-01T10:00:00Z",
        "ends": "2024-05-01T12:00:00+01:00",
        "day": "2024-02-29",
        "every": "1h5m",
        "key": "YWJj",
        "times": ["2024-05-01T10:00:01Z"],
    }
    assert evaluate_rules(tree, ok, transition=False) == []
    bad = {**ok, "ends": "2024-05-03T10:00:00Z", "every": "90s", "key": "YWI="}
    assert [c.message for c in evaluate_rules(tree, bad, transition=False)] == [
        'Invalid value: "object": longer than a day',
        'Invalid value: "object": key is not 3 bytes',
    ]
    tree, _ = compile_rules(
        {
            "type": "string",
            "format": "duration",
            "x-kubernetes-validations": [{"rule": "self < duration('1h')"}],
        }
    )
    assert evaluate_rules(tree, "59m59.5s", transition=False) == []
    assert len(evaluate_rules(tree, "1h0m1s", transition=False)) == 1


# The largest maxItems upstream's CRD validator accepts for `self.all(x, x.contains('gpu'))` on
# a list of strings of the given maxLength (measured against k8s.io/apiextensions-apiserver).
UPSTREAM_BOUNDS = [(16, 909_090), (63, 333_333), (253, 94_339), (1024, 24_154)]


@pytest.mark.parametrize(
    ("max_length", "upstream"), UPSTREAM_BOUNDS, ids=[str(b[0]) for b in UPSTREAM_BOUNDS]
)
def test_the_cost_estimate_accepts_what_upstream_accepts(max_length: int, upstream: int) -> None:
    def accepted(max_items: int) -> bool:
        schema = {
            "type": "object",
            "properties": {
                "tags": {
                    "type": "array",
                    "maxItems": max_items,
                    "items": {"type": "string", "maxLength": max_length},
                    "x-kubernetes-validations": [{"rule": "self.all(x, x.contains('gpu'))"}],
                }
            },
        }
        return not compile_rules(schema)[1]

    assert accepted(int(upstream * 0.97))
    assert not accepted(int(upstream * 1.03))


def test_format_builds_a_message_within_the_limits() -> None:
    schema = {
        "type": "object",
        "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        "x-kubernetes-validations": [
            {
                "rule": "self.min <= self.max",
                "messageExpression": "'min (%d) over max (%d)'.format([self.min, self.max])",
            }
        ],
    }
    tree, causes = compile_rules(schema)
    assert causes == []
    assert [c.message for c in evaluate_rules(tree, {"min": 3, "max": 2}, transition=False)] == [
        'Invalid value: "object": min (3) over max (2)'
    ]


def test_a_rule_that_is_not_true_fails_even_when_truthy() -> None:
    schema = {
        "type": "object",
        "properties": {"free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "x-kubernetes-validations": [{"rule": "self.free.flag"}, {"rule": "true"}],
    }
    tree, causes = compile_rules(schema)
    assert causes == []
    assert [c.message for c in evaluate_rules(tree, {"free": {"flag": 1}}, transition=False)] == [
        'Invalid value: "object": failed rule: self.free.flag'
    ]
