"""Validation of Roles, ClusterRoles and bindings, with Kubernetes' messages."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.validation.rbac import (
    RBAC_NAME_CHECK,
    default_binding,
    validate_cluster_role,
    validate_cluster_role_binding,
    validate_cluster_role_binding_update,
    validate_role,
    validate_role_binding,
    validate_role_binding_update,
)

RBAC = "rbac.authorization.k8s.io"


def texts(causes: list[Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


RULE_CASES = [
    ("valid", {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, []),
    (
        "valid-url",
        {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
        [
            'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs'
        ],
    ),
    (
        "no-verbs",
        {"apiGroups": [""], "resources": ["pods"]},
        ["rules[0].verbs: Required value: verbs must contain at least one value"],
    ),
    (
        "no-groups",
        {"verbs": ["get"], "resources": ["pods"]},
        ["rules[0].apiGroups: Required value: resource rules must supply at least one api group"],
    ),
    (
        "no-resources",
        {"verbs": ["get"], "apiGroups": [""]},
        ["rules[0].resources: Required value: resource rules must supply at least one resource"],
    ),
    (
        "mixed",
        {"verbs": ["get"], "apiGroups": [""], "nonResourceURLs": ["/x"]},
        [
            'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
            'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs',
        ],
    ),
    ("not-a-rule", "junk", ['rules[0]: Invalid value: "junk": must be a policy rule object']),
]


@pytest.mark.parametrize(
    ("rule", "expected"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_role_rules(rule: Any, expected: list[str]) -> None:
    assert texts(validate_role({"rules": [rule]})) == expected


def test_cluster_roles_may_have_non_resource_urls_but_not_mixed() -> None:
    assert (
        validate_cluster_role({"rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]})
        == []
    )
    assert texts(
        validate_cluster_role(
            {"rules": [{"verbs": ["get"], "resources": ["pods"], "nonResourceURLs": ["/x"]}]}
        )
    ) == [
        'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs'
    ]


AGGREGATION_CASES = [
    ("valid", {"clusterRoleSelectors": [{"matchLabels": {"a": "true"}}]}, []),
    (
        "empty",
        {"clusterRoleSelectors": []},
        [
            "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
        ],
    ),
    (
        "missing",
        {},
        [
            "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
        ],
    ),
    (
        "bad-values",
        {"clusterRoleSelectors": [{"matchExpressions": [{"key": "a", "operator": "In"}]}]},
        [
            "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        ],
    ),
]


@pytest.mark.parametrize(
    ("rule", "expected"), [c[1:] for c in AGGREGATION_CASES], ids=[c[0] for c in AGGREGATION_CASES]
)
def test_aggregation_rule(rule: dict[str, Any], expected: list[str]) -> None:
    assert texts(validate_cluster_role({"aggregationRule": rule})) == expected


def rb(ref: dict[str, str], *subjects: dict[str, str]) -> dict[str, Any]:
    return {"roleRef": ref, "subjects": list(subjects)}


REF = {"apiGroup": RBAC, "kind": "Role", "name": "developer"}
CREF = {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"}
USER = {"kind": "User", "apiGroup": RBAC, "name": "jane"}

BINDING_CASES = [
    ("valid", rb(REF, USER), []),
    ("cluster-role", rb(CREF, USER), []),
    (
        "ref-group",
        rb({**REF, "apiGroup": "apps"}, USER),
        [
            'roleRef.apiGroup: Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"'
        ],
    ),
    (
        "ref-kind",
        rb({**REF, "kind": "Pod"}, USER),
        ['roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"'],
    ),
    ("ref-name-missing", rb({**REF, "name": ""}, USER), ["roleRef.name: Required value"]),
    (
        "ref-name-path-segment",
        rb({**REF, "name": "a/b"}, USER),
        ["roleRef.name: Invalid value: \"a/b\": may not contain '/'"],
    ),
    (
        "subject-name",
        rb(REF, {"kind": "User", "apiGroup": RBAC}),
        ["subjects[0].name: Required value"],
    ),
    (
        "subject-kind",
        rb(REF, {"kind": "Robot", "name": "r"}),
        [
            'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"'
        ],
    ),
    (
        "user-api-group",
        rb(REF, {"kind": "User", "name": "jane"}),
        [
            'subjects[0].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"'
        ],
    ),
    (
        "group-api-group",
        rb(REF, {"kind": "Group", "name": "g", "apiGroup": "x"}),
        [
            'subjects[0].apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"'
        ],
    ),
    (
        "sa-without-namespace-ok-in-rolebinding",
        rb(REF, {"kind": "ServiceAccount", "name": "builder"}),
        [],
    ),
    (
        "sa-api-group",
        rb(REF, {"kind": "ServiceAccount", "name": "builder", "apiGroup": RBAC}),
        [
            'subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""'
        ],
    ),
    (
        "sa-name",
        rb(REF, {"kind": "ServiceAccount", "name": "Builder"}),
        [
            "subjects[0].name: Invalid value: \"Builder\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ],
    ),
]


@pytest.mark.parametrize(
    ("obj", "expected"), [c[1:] for c in BINDING_CASES], ids=[c[0] for c in BINDING_CASES]
)
def test_role_binding(obj: dict[str, Any], expected: list[str]) -> None:
    assert texts(validate_role_binding(obj)) == expected


def test_cluster_role_binding_rules() -> None:
    assert texts(validate_cluster_role_binding(rb(REF, USER))) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'
    ]
    assert texts(
        validate_cluster_role_binding(rb(CREF, {"kind": "ServiceAccount", "name": "builder"}))
    ) == ["subjects[0].namespace: Required value"]
    assert (
        validate_cluster_role_binding(
            rb(CREF, {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"})
        )
        == []
    )


def test_role_ref_is_immutable() -> None:
    old = rb(REF, USER)
    assert validate_role_binding_update(rb(REF, USER, USER), old) == []
    assert texts(validate_role_binding_update(rb({**REF, "name": "admin"}, USER), old)) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"admin"}: cannot change roleRef'
    ]
    assert (
        len(
            validate_cluster_role_binding_update(rb({**CREF, "name": "edit"}, USER), rb(CREF, USER))
        )
        == 1
    )


def test_defaults_fill_api_groups_before_validation() -> None:
    obj = rb(
        {"kind": "Role", "name": "dev"},
        {"kind": "User", "name": "jane"},
        {"kind": "ServiceAccount", "name": "ci"},
    )
    default_binding(obj)
    assert obj["roleRef"]["apiGroup"] == RBAC
    assert obj["subjects"][0]["apiGroup"] == RBAC
    assert "apiGroup" not in obj["subjects"][1]
    assert validate_role_binding(obj) == []


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("system:node", True),
        ("a b", True),
        (".", False),
        ("..", False),
        ("a/b", False),
        ("a%b", False),
    ],
    ids=["colon", "space", "dot", "dotdot", "slash", "percent"],
)
def test_rbac_names_are_path_segments(name: str, ok: bool) -> None:
    assert (RBAC_NAME_CHECK(name) == []) is ok
