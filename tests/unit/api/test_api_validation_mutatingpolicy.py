"""Validation and defaults of MutatingAdmissionPolicy and its bindings, and the ``Object`` and
``JSONPatch`` literals of its CEL (``mutation_cel``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.resources.admissionregistration import (
    MUTATING_ADMISSION_POLICIES,
    MUTATING_ADMISSION_POLICY_BINDINGS,
    MutatingAdmissionPolicyBindingStrategy,
    MutatingAdmissionPolicyStrategy,
)
from kubeward.api.tables.admission_policies import print_mutating_policy
from kubeward.api.validation.mutatingpolicy import (
    validate_mutating_binding,
    validate_mutating_policy,
)
from kubeward.api.validation.mutation_cel import (
    MutationError,
    compile_mutation,
    object_value,
    patch_operations,
    rewrite,
)

RULE = {
    "operations": ["CREATE"],
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "resources": ["configmaps"],
}
LABEL = '[JSONPatch{op: "add", path: "/metadata/labels/a", value: "b"}]'
POLICY: dict[str, Any] = {
    "metadata": {"name": "p"},
    "spec": {
        "matchConstraints": {"resourceRules": [RULE]},
        "reinvocationPolicy": "Never",
        "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": LABEL}}],
    },
}


def messages(causes: list[Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def with_spec(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(POLICY)
    obj["spec"].update(changes)
    return obj


def test_a_good_policy_is_valid_and_defaulted() -> None:
    obj = copy.deepcopy(POLICY)
    MutatingAdmissionPolicyStrategy(MUTATING_ADMISSION_POLICIES).default(obj)
    assert obj["spec"]["failurePolicy"] == "Fail"
    assert obj["spec"]["matchConstraints"]["matchPolicy"] == "Equivalent"
    assert obj["spec"]["matchConstraints"]["resourceRules"][0]["scope"] == "*"
    assert validate_mutating_policy(obj) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"mutations": []},
            "spec.mutations: Required value: mutations must contain at least one item",
        ),
        (
            {"mutations": [{"jsonPatch": {"expression": LABEL}}]},
            "spec.mutations[0].patchType: Required value",
        ),
        (
            {"mutations": [{"patchType": "Merge"}]},
            'spec.mutations[0].patchType: Unsupported value: "Merge": supported values: '
            '"ApplyConfiguration", "JSONPatch"',
        ),
        (
            {"mutations": [{"patchType": "JSONPatch"}]},
            "spec.mutations[0].jsonPatch: Required value: must be specified when patchType is "
            "JSONPatch",
        ),
        (
            {
                "mutations": [
                    {
                        "patchType": "JSONPatch",
                        "jsonPatch": {"expression": LABEL},
                        "applyConfiguration": {"expression": "Object{}"},
                    }
                ]
            },
            'spec.mutations[0].applyConfiguration: Invalid value: "{applyConfiguration}": must '
            "not be specified when patchType is JSONPatch",
        ),
        (
            {"mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": "'x'"}}]},
            "spec.mutations[0].jsonPatch.expression: Invalid value: \"'x'\": must evaluate to "
            "list(JSONPatch) but got string",
        ),
        (
            {
                "mutations": [
                    {"patchType": "ApplyConfiguration", "applyConfiguration": {"expression": "[]"}}
                ]
            },
            'spec.mutations[0].applyConfiguration.expression: Invalid value: "[]": must evaluate '
            "to Object but got list(dyn)",
        ),
        (
            {"mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": "[x]"}}]},
            "compilation failed: ERROR: <input>:1:2: undeclared reference to 'x'",
        ),
        # JSONPatch is a declared type: its fields are checked when the policy is written.
        (
            {
                "mutations": [
                    {"patchType": "JSONPatch", "jsonPatch": {"expression": "[JSONPatch{op: 1}]"}}
                ]
            },
            "compilation failed: ERROR: <input>:1:14: expected type of field 'op' is 'string' but "
            "provided type is 'int'",
        ),
        (
            {
                "mutations": [
                    {
                        "patchType": "JSONPatch",
                        "jsonPatch": {"expression": "[JSONPatch{nope: 'x'}]"},
                    }
                ]
            },
            "compilation failed: ERROR: <input>:1:16: undefined field 'nope'",
        ),
        (
            {
                "mutations": [
                    {"patchType": "JSONPatch", "jsonPatch": {"expression": "[{'op': 'add'}]"}}
                ]
            },
            "must evaluate to list(JSONPatch) but got list(map(string, string))",
        ),
        ({"reinvocationPolicy": None}, "spec.reinvocationPolicy: Required value"),
        (
            {"matchConstraints": {"resourceRules": [{**RULE, "operations": ["CREATE", "DELETE"]}]}},
            'spec.matchConstraints.resourceRules.operations: Unsupported value: "DELETE": '
            'supported values: "*", "CONNECT", "CREATE", "UPDATE"',
        ),
        (
            {"reinvocationPolicy": "Always"},
            'spec.reinvocationPolicy: Unsupported value: "Always": supported values: '
            '"IfNeeded", "Never"',
        ),
        ({"matchConstraints": None}, "spec.matchConstraints: Required value"),
        (
            {"failurePolicy": "Maybe"},
            'spec.failurePolicy: Unsupported value: "Maybe": supported values: "Fail", "Ignore"',
        ),
    ],
)
def test_bad_policies(spec: dict[str, Any], expected: str) -> None:
    found = messages(validate_mutating_policy(with_spec(**spec)))
    assert any(expected in m for m in found), found


def test_bindings() -> None:
    good = {"metadata": {"name": "b"}, "spec": {"policyName": "p"}}
    MutatingAdmissionPolicyBindingStrategy(MUTATING_ADMISSION_POLICY_BINDINGS).default(good)
    assert validate_mutating_binding(good) == []
    bad = {"metadata": {"name": "b"}, "spec": {"paramRef": {"parameterNotFoundAction": "Deny"}}}
    assert messages(validate_mutating_binding(bad)) == [
        "spec.policyName: Required value",
        "spec.paramRef: Required value: one of name or selector must be set",
    ]


def test_the_table_counts_mutations() -> None:
    from datetime import UTC, datetime

    row = print_mutating_policy(POLICY, datetime.now(UTC))
    assert row.cells[:3] == ("p", 1, "<unset>")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Object{}", '{"@type": "Object"}'),
        (
            "Object{spec: Object.spec{replicas: 1}}",
            '{"@type": "Object", "spec": {"@type": "Object.spec", "replicas": 1}}',
        ),
        ("Object{?a: optional.none()}", '{"@type": "Object", ?"a": optional.none()}'),
        # Strings, comments, maps and member selections are left alone.
        ("'Object{a: 1}'", "'Object{a: 1}'"),
        ("{'a': object.Object}", "{'a': object.Object}"),
        ("x // Object{a: 1}\n", "x // Object{a: 1}\n"),
        # JSONPatch is a declared message type: left as it is.
        (
            "JSONPatch{op: 'add', value: {'k': [1, 2]}, path: '/a'}",
            "JSONPatch{op: 'add', value: {'k': [1, 2]}, path: '/a'}",
        ),
    ],
)
def test_rewrite(source: str, expected: str) -> None:
    assert rewrite(source) == expected


def test_values_are_checked_and_plain() -> None:
    program = compile_mutation(
        '[JSONPatch{op: "add", path: "/a", value: Object.x{y: Object.x.y{z: 1}}}]', "JSONPatch"
    ).program
    assert program is not None
    assert patch_operations(program.evaluate({})) == [
        {"op": "add", "path": "/a", "value": {"y": {"z": 1}}}
    ]
    with pytest.raises(MutationError, match="should evaluate to array of JSONPatch"):
        patch_operations([{"op": "add"}])
    with pytest.raises(MutationError, match="unsupported return type"):
        object_value({"@type": "JSONPatch"})
