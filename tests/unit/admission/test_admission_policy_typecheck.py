"""Type checking of ValidatingAdmissionPolicy expressions against the schemas of the kinds they
match: which kinds, and the warnings' field paths and wording."""

from __future__ import annotations

from typing import Any

from kubeward.admission.policy.typecheck import expression_warnings, kinds_to_check

SERVED = {("apps", "v1", "deployments"): "Deployment", ("", "v1", "configmaps"): "ConfigMap"}


def kinds_for(group: str, version: str, resource: str) -> list[str]:
    kind = SERVED.get((group, version, resource))
    return [kind] if kind else []


def policy(
    validations: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    rule = {"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}
    return {
        "spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": rules or [rule]},
            "validations": validations,
        }
    }


def test_wildcards_and_subresources_are_not_checked() -> None:
    rules = [
        {"apiGroups": ["*"], "apiVersions": ["v1"], "resources": ["deployments"]},
        {
            "apiGroups": ["", "apps"],
            "apiVersions": ["v1"],
            "resources": ["*", "deployments/scale", "configmaps", "deployments"],
        },
    ]
    assert kinds_to_check(policy([], rules), kinds_for) == [
        ("", "v1", "ConfigMap"),
        ("apps", "v1", "Deployment"),
    ]


def test_an_undefined_field_is_a_warning_at_its_position() -> None:
    warnings = expression_warnings(
        policy(
            [
                {"expression": "object.spec.replicas <= int(params.data.max)"},
                {"expression": "object.spec.replicass > 1", "messageExpression": "params.dataa.x"},
            ]
        ),
        kinds_for,
    )
    assert warnings == [
        {
            "fieldRef": "spec.validations[1].expression",
            "warning": "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicass'\n"
            " | object.spec.replicass > 1\n | ...........^\n",
        },
        {
            "fieldRef": "spec.validations[1].messageExpression",
            "warning": "apps/v1, Kind=Deployment: ERROR: <input>:1:7: undefined field 'dataa'\n"
            " | params.dataa.x\n | ......^\n",
        },
    ]


def test_fields_under_lists_and_maps() -> None:
    expression = (
        "object.spec.template.spec.containers.all(c, c.image != '' && c.imagee != '')"
        " && object.metadata.labels.team == 'a'"
    )
    warnings = expression_warnings(policy([{"expression": expression}]), kinds_for)
    assert len(warnings) == 1 and "undefined field 'imagee'" in warnings[0]["warning"]
