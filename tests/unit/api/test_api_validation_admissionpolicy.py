"""Validation and defaults of ValidatingAdmissionPolicy and its bindings, worded as upstream."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.resources.admissionregistration import (
    VALIDATING_ADMISSION_POLICIES,
    VALIDATING_ADMISSION_POLICY_BINDINGS,
    ValidatingAdmissionPolicyBindingStrategy,
    ValidatingAdmissionPolicyStrategy,
)
from kubeward.api.validation.admissionpolicy import validate_binding, validate_policy

RULE = {
    "operations": ["CREATE"],
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "resources": ["deployments"],
}
POLICY: dict[str, Any] = {
    "metadata": {"name": "p"},
    "spec": {
        "matchConstraints": {"resourceRules": [RULE]},
        "validations": [{"expression": "object.spec.replicas <= 5"}],
    },
}


def messages(causes: list[Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def test_a_good_policy_is_valid_and_defaulted() -> None:
    obj = copy.deepcopy(POLICY)
    strategy = ValidatingAdmissionPolicyStrategy(VALIDATING_ADMISSION_POLICIES)
    strategy.default(obj)
    assert strategy.validate(obj) == []
    assert obj["spec"]["failurePolicy"] == "Fail"
    constraints = obj["spec"]["matchConstraints"]
    assert constraints["matchPolicy"] == "Equivalent"
    assert constraints["namespaceSelector"] == {} and constraints["objectSelector"] == {}
    assert constraints["resourceRules"][0]["scope"] == "*"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"validations": [{"expression": "object.spec.replicas <="}]},
            'spec.validations[0].expression: Invalid value: "object.spec.replicas <=": '
            "compilation failed: ERROR: <input>:1:",
        ),
        (
            {"validations": [{"expression": "1"}]},
            'spec.validations[0].expression: Invalid value: "1": must evaluate to bool but got int',
        ),
        (
            {"validations": [{"expression": "true", "messageExpression": "1"}]},
            'spec.validations[0].messageExpression: Invalid value: "1": must evaluate to string',
        ),
        (
            {"validations": [{"expression": "true", "reason": "Teapot"}]},
            'spec.validations[0].reason: Unsupported value: "Teapot"',
        ),
        (
            {"validations": []},
            "spec.validations: Required value: validations or auditAnnotations must contain at"
            " least one item",
        ),
        ({"matchConstraints": None}, "spec.matchConstraints: Required value"),
        ({"failurePolicy": "Sometimes"}, 'spec.failurePolicy: Unsupported value: "Sometimes"'),
        ({"paramKind": {"apiVersion": "v1"}}, "spec.paramKind.kind: Required value"),
        (
            {"variables": [{"name": "1x", "expression": "1"}]},
            'spec.variables[0].name: Invalid value: "1x"',
        ),
        (
            {"matchConditions": [{"name": "a", "expression": "'s'"}]},
            "spec.matchConditions[0].expression: Invalid value: \"'s'\": must evaluate to bool",
        ),
        (
            {"auditAnnotations": [{"key": "k", "valueExpression": "1"}]},
            'spec.auditAnnotations[0].valueExpression: Invalid value: "1": must evaluate to one of',
        ),
    ],
    ids=[
        "compile-error",
        "not-bool",
        "message-not-string",
        "reason",
        "no-validations",
        "no-constraints",
        "failure-policy",
        "param-kind",
        "variable-name",
        "condition-type",
        "annotation-type",
    ],
)
def test_bad_policies(change: dict[str, Any], message: str) -> None:
    obj = copy.deepcopy(POLICY)
    obj["spec"].update(change)
    obj["spec"] = {k: v for k, v in obj["spec"].items() if v is not None}
    assert any(m.startswith(message) for m in messages(validate_policy(obj))), messages(
        validate_policy(obj)
    )


def test_a_binding_is_defaulted_and_validated() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "b"},
        "spec": {"policyName": "p", "validationActions": ["Deny"], "paramRef": {"name": "x"}},
    }
    strategy = ValidatingAdmissionPolicyBindingStrategy(VALIDATING_ADMISSION_POLICY_BINDINGS)
    strategy.default(obj)
    assert obj["spec"]["paramRef"]["parameterNotFoundAction"] == "Deny"
    assert strategy.validate(obj) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"validationActions": ["Deny"]}, "spec.policyName: Required value"),
        ({"policyName": "p"}, "spec.validationActions: Required value"),
        (
            {"policyName": "p", "validationActions": ["Deny", "Warn"]},
            "spec.validationActions: Invalid value:",
        ),
        (
            {"policyName": "p", "validationActions": ["Block"]},
            'spec.validationActions[0]: Unsupported value: "Block"',
        ),
        (
            {
                "policyName": "p",
                "validationActions": ["Deny"],
                "paramRef": {"name": "a", "selector": {}, "parameterNotFoundAction": "Deny"},
            },
            "spec.paramRef.name: Forbidden: name and selector are mutually exclusive",
        ),
    ],
    ids=["policy-name", "actions", "deny-and-warn", "unknown-action", "name-and-selector"],
)
def test_bad_bindings(spec: dict[str, Any], message: str) -> None:
    found = messages(validate_binding({"metadata": {"name": "b"}, "spec": spec}))
    assert any(m.startswith(message) for m in found), found
