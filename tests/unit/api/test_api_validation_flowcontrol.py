"""FlowSchema and PriorityLevelConfiguration validation, defaults and tables, as upstream's."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from kubeward.api.tables import printer_for
from kubeward.api.validation.flowcontrol import (
    default_flow_schema,
    default_priority_level,
    validate_flow_schema_spec,
    validate_priority_level_spec,
)
from kubeward.server.flowcontrol import bootstrap

GROUP = "flowcontrol.apiserver.k8s.io"


@pytest.mark.parametrize("obj", bootstrap.flow_schemas(), ids=lambda o: o["metadata"]["name"])
def test_bootstrap_flow_schemas_are_valid(obj: dict[str, Any]) -> None:
    assert validate_flow_schema_spec(obj["spec"]) == []


@pytest.mark.parametrize("obj", bootstrap.priority_levels(), ids=lambda o: o["metadata"]["name"])
def test_bootstrap_priority_levels_are_valid_and_need_no_defaults(obj: dict[str, Any]) -> None:
    assert validate_priority_level_spec(obj["metadata"]["name"], obj["spec"]) == []
    defaulted = copy.deepcopy(obj)
    default_priority_level(defaulted)
    assert defaulted == obj


def _schema(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "priorityLevelConfiguration": {"name": "global-default"},
        "matchingPrecedence": 500,
        "rules": [
            {
                "subjects": [{"kind": "User", "user": {"name": "jane"}}],
                "resourceRules": [
                    {
                        "verbs": ["get"],
                        "apiGroups": [""],
                        "resources": ["pods"],
                        "namespaces": ["*"],
                    }
                ],
            }
        ],
    }
    base.update(spec)
    return base


FLOW_SCHEMA_ERRORS = [
    (
        "precedence-zero",
        {"matchingPrecedence": 0},
        "spec.matchingPrecedence",
        "must be between 1 and 10000, inclusive",
    ),
    (
        "precedence-high",
        {"matchingPrecedence": 10001},
        "spec.matchingPrecedence",
        "must be between 1 and 10000",
    ),
    (
        "no-level",
        {"priorityLevelConfiguration": {}},
        "spec.priorityLevelConfiguration.name",
        "Required value",
    ),
    (
        "bad-distinguisher",
        {"distinguisherMethod": {"type": "ByGroup"}},
        "spec.distinguisherMethod.type",
        'Unsupported value: "ByGroup"',
    ),
    (
        "no-subjects",
        {
            "rules": [
                {"subjects": [], "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}
            ]
        },
        "spec.rules[0].subjects",
        "Required value",
    ),
    (
        "no-rules",
        {"rules": [{"subjects": [{"kind": "Group", "group": {"name": "g"}}]}]},
        "spec.rules[0]",
        "at least one of resourceRules and nonResourceRules",
    ),
    (
        "bad-kind",
        {
            "rules": [
                {
                    "subjects": [{"kind": "Robot"}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                }
            ]
        },
        "spec.rules[0].subjects[0].kind",
        "Unsupported value",
    ),
    (
        "sa-namespace",
        {
            "rules": [
                {
                    "subjects": [{"kind": "ServiceAccount", "serviceAccount": {"name": "a"}}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                }
            ]
        },
        "spec.rules[0].subjects[0].serviceAccount.namespace",
        "Required value",
    ),
    (
        "star-not-alone",
        {
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "g"}}],
                    "nonResourceRules": [{"verbs": ["*", "get"], "nonResourceURLs": ["*"]}],
                }
            ]
        },
        "spec.rules[0].nonResourceRules[0].verbs",
        "if '*' is present, must not specify other verbs",
    ),
    (
        "no-namespaces",
        {
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "g"}}],
                    "resourceRules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
                }
            ]
        },
        "spec.rules[0].resourceRules[0].namespaces",
        "resource rules that are not cluster scoped must supply at least one namespace",
    ),
    (
        "url-slash",
        {
            "rules": [
                {
                    "subjects": [{"kind": "Group", "group": {"name": "g"}}],
                    "nonResourceURLs": [],
                    "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["healthz"]}],
                }
            ]
        },
        "spec.rules[0].nonResourceRules[0].nonResourceURLs[0]",
        "must start with slash",
    ),
]


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [case[1:] for case in FLOW_SCHEMA_ERRORS],
    ids=[case[0] for case in FLOW_SCHEMA_ERRORS],
)
def test_flow_schema_errors(spec: dict[str, Any], path: str, message: str) -> None:
    causes = validate_flow_schema_spec(_schema(**spec))
    assert any(c.field == path and message in c.message for c in causes), causes


def test_flow_schema_precedence_defaults_to_1000() -> None:
    obj: dict[str, Any] = {"spec": {"priorityLevelConfiguration": {"name": "x"}}}
    default_flow_schema(obj)
    assert obj["spec"]["matchingPrecedence"] == 1000


def _limited(**limited: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "nominalConcurrencyShares": 10,
        "limitResponse": {
            "type": "Queue",
            "queuing": {"queues": 16, "handSize": 4, "queueLengthLimit": 10},
        },
    }
    base.update(limited)
    return {"type": "Limited", "limited": base}


LEVEL_ERRORS = [
    (
        "exempt-name",
        "mine",
        {"type": "Exempt"},
        "spec.type",
        "type must be 'Exempt' if and only if name is 'exempt'",
    ),
    ("exempt-limited", "exempt", _limited(), "spec.type", "if and only if"),
    ("bad-type", "mine", {"type": "Fast"}, "spec.type", "Unsupported value"),
    ("no-limited", "mine", {"type": "Limited"}, "spec.limited", "Required value"),
    (
        "negative-shares",
        "mine",
        _limited(nominalConcurrencyShares=-1),
        "spec.limited.nominalConcurrencyShares",
        "must be a non-negative integer",
    ),
    (
        "lendable",
        "mine",
        _limited(lendablePercent=101),
        "spec.limited.lendablePercent",
        "must be between 0 and 100, inclusive",
    ),
    (
        "hand-bigger",
        "mine",
        _limited(
            limitResponse={
                "type": "Queue",
                "queuing": {"queues": 2, "handSize": 4, "queueLengthLimit": 1},
            }
        ),
        "spec.limited.limitResponse.queuing.handSize",
        "should not be greater than queues (2)",
    ),
    (
        "zero-queues",
        "mine",
        _limited(
            limitResponse={
                "type": "Queue",
                "queuing": {"queues": 0, "handSize": 0, "queueLengthLimit": 1},
            }
        ),
        "spec.limited.limitResponse.queuing.queues",
        "must be positive",
    ),
    (
        "reject-queuing",
        "mine",
        _limited(limitResponse={"type": "Reject", "queuing": {"queues": 1}}),
        "spec.limited.limitResponse.queuing",
        "Forbidden",
    ),
]


@pytest.mark.parametrize(
    ("name", "spec", "path", "message"),
    [case[1:] for case in LEVEL_ERRORS],
    ids=[case[0] for case in LEVEL_ERRORS],
)
def test_priority_level_errors(name: str, spec: dict[str, Any], path: str, message: str) -> None:
    causes = validate_priority_level_spec(name, spec)
    assert any(c.field == path and message in c.message for c in causes), causes


def test_priority_level_defaults() -> None:
    obj: dict[str, Any] = {
        "spec": {"type": "Limited", "limited": {"limitResponse": {"type": "Queue"}}}
    }
    default_priority_level(obj)
    assert obj["spec"]["limited"] == {
        "nominalConcurrencyShares": 30,
        "lendablePercent": 0,
        "limitResponse": {
            "type": "Queue",
            "queuing": {"queues": 64, "handSize": 8, "queueLengthLimit": 50},
        },
    }


NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def test_tables_have_upstreams_columns_and_cells() -> None:
    schema = bootstrap.flow_schemas()[0]
    schema["metadata"]["creationTimestamp"] = "2024-06-01T11:00:00Z"
    printer = printer_for((GROUP, "FlowSchema"))
    assert [c.name for c in printer.columns] == [
        "Name",
        "PriorityLevel",
        "MatchingPrecedence",
        "DistinguisherMethod",
        "Age",
        "MissingPL",
    ]
    assert printer.print_row(schema, NOW).cells == ("exempt", "exempt", 1, "*", "60m", "?")
    schema["status"] = {"conditions": [{"type": "Dangling", "status": "False"}]}
    assert printer.print_row(schema, NOW).cells[-1] == "False"
    levels = {lvl["metadata"]["name"]: lvl for lvl in bootstrap.priority_levels()}
    printer = printer_for((GROUP, "PriorityLevelConfiguration"))
    assert [c.name for c in printer.columns] == [
        "Name",
        "Type",
        "NominalConcurrencyShares",
        "Queues",
        "HandSize",
        "QueueLengthLimit",
        "Age",
    ]
    for level in levels.values():
        level["metadata"]["creationTimestamp"] = "2024-06-01T11:00:00Z"
    assert printer.print_row(levels["workload-low"], NOW).cells == (
        "workload-low",
        "Limited",
        100,
        128,
        6,
        50,
        "60m",
    )
    assert printer.print_row(levels["catch-all"], NOW).cells == (
        "catch-all",
        "Limited",
        5,
        "<none>",
        "<none>",
        "<none>",
        "60m",
    )
    assert printer.print_row(levels["exempt"], NOW).cells == (
        "exempt",
        "Exempt",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
        "60m",
    )
