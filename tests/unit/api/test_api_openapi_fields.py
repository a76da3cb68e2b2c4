"""Unknown-field detection for fieldValidation=Strict|Warn, and its messages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kubeward.api.openapi import (
    catalog,
    has_schema,
    strict_decoding_error,
    strict_decoding_message,
    strict_patch_error,
    unknown_field_warnings,
    unknown_fields,
)
from kubeward.errors import BadRequest, Invalid


def _pod(**spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [{"name": "web", "image": "nginx"}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("", "Pod", _pod(), []),
    (
        "",
        "Pod",
        _pod(containers=[{"name": "a"}, {"name": "b", "imagePullPolcy": "Always"}]),
        ["spec.containers[1].imagePullPolcy"],
    ),
    ("", "Pod", {**_pod(), "extra": 1}, ["extra"]),
    ("", "Pod", {"metadata": {"name": "p", "labelz": {}}}, ["metadata.labelz"]),
    (
        "",
        "Pod",
        {"metadata": {"labels": {"any/key": "v"}, "annotations": {"x": "y"}}},
        [],
    ),
    (
        "",
        "Pod",
        {"metadata": {"managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {"x": {}}}}]}},
        [],
    ),
    ("", "Pod", _pod(nodeSelector={"disk": "ssd", "zone": "a"}), []),
    (
        "",
        "Pod",
        _pod(containers=[{"name": "c", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]),
        [],
    ),
    (
        "",
        "Pod",
        _pod(
            containers=[
                {
                    "name": "c",
                    "livenessProbe": {"httpGet": {"port": "http", "paht": "/"}},
                    "ports": [{"containerPort": 80, "protocl": "TCP"}],
                }
            ]
        ),
        ["spec.containers[0].livenessProbe.httpGet.paht", "spec.containers[0].ports[0].protocl"],
    ),
    ("", "Pod", _pod(containers="not-a-list", volumes=None), []),
    ("", "Pod", _pod(containers=[None, {"name": "c"}]), []),
    ("", "Pod", {"spec": {"Containers": []}}, ["spec.Containers"]),
    (
        "apps",
        "Deployment",
        {
            "spec": {
                "replicas": 2,
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavilable": 1}},
                "template": {"spec": {"containers": [{"name": "c", "imgae": "x"}]}},
            }
        },
        [
            "spec.strategy.rollingUpdate.maxUnavilable",
            "spec.template.spec.containers[0].imgae",
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        "Role",
        {"rules": [{"verbs": ["get"], "resources": ["pods"], "resource": ["x"]}]},
        ["rules[0].resource"],
    ),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        {
            "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"},
            "subjects": [{"kind": "User", "name": "u", "namespce": "x"}],
        },
        ["subjects[0].namespce"],
    ),
    ("", "Secret", {"data": {"k": "dg=="}, "stringData": {"a": "b"}, "typ": "Opaque"}, ["typ"]),
    ("", "ConfigMap", {"data": {"a": "b"}, "binaryData": {"b": "AA=="}}, []),
    (
        "coordination.k8s.io",
        "Lease",
        {"spec": {"holderIdentity": "a", "holder": "b"}},
        ["spec.holder"],
    ),
    (
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "verbs": []}}},
        ["spec.resourceAttributes.verbs"],
    ),
    (
        "networking.k8s.io",
        "NetworkPolicy",
        {
            "spec": {
                "podSelector": {"matchLabels": {"a": "b"}},
                "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except_": []}}]}],
            }
        },
        ["spec.ingress[0].from[0].ipBlock.except_"],
    ),
    ("", "Status", {"status": "Failure", "reason": "x", "codee": 1}, ["codee"]),
    ("apps", "DeleteOptions", {"propagationPolicy": "Background", "orphan": True}, ["orphan"]),
]


@pytest.mark.parametrize(
    ("group", "kind", "obj", "expected"),
    CASES,
    ids=[
        "valid-pod",
        "container-typo",
        "top-level",
        "metadata",
        "label-and-annotation-maps",
        "fieldsV1-free-form",
        "map-of-strings",
        "quantity-map",
        "nested-probe-and-port",
        "wrong-types-are-not-unknown",
        "null-list-item",
        "case-sensitive",
        "deployment-template",
        "role-rules",
        "rolebinding-subjects",
        "secret",
        "configmap",
        "lease",
        "ssar",
        "networkpolicy",
        "status",
        "delete-options-in-any-group",
    ],
)
def test_unknown_fields(group: str, kind: str, obj: dict[str, Any], expected: list[str]) -> None:
    assert unknown_fields(obj, group, "v1", kind) == expected


def test_paths_come_in_document_order() -> None:
    obj = {"zz": 1, "metadata": {"b": 1, "a": 2}, "spec": {"containers": [{"y": 1, "x": 2}]}}
    assert unknown_fields(obj, "", "v1", "Pod") == [
        "zz",
        "metadata.b",
        "metadata.a",
        "spec.containers[0].y",
        "spec.containers[0].x",
    ]


def test_at_most_100_paths_are_reported() -> None:
    obj = {f"f{i}": i for i in range(150)}
    paths = unknown_fields(obj, "", "v1", "ConfigMap")
    assert paths == [f"f{i}" for i in range(100)]


@pytest.mark.parametrize(
    "name",
    sorted(n for n, s in catalog.all_schemas().items() if "x-kubernetes-group-version-kind" in s),
)
def test_every_kind_accepts_an_empty_object(name: str) -> None:
    gvk = catalog.all_schemas()[name]["x-kubernetes-group-version-kind"][0]
    assert has_schema(gvk["group"], gvk["version"], gvk["kind"])
    obj = {"apiVersion": "x", "kind": gvk["kind"], "metadata": {}}
    known = set(catalog.all_schemas()[name]["properties"])
    expected = [key for key in obj if key not in known]
    assert unknown_fields(obj, gvk["group"], gvk["version"], gvk["kind"]) == expected


def test_unknown_kind_raises() -> None:
    assert not has_schema("example.com", "v1", "Widget")
    with pytest.raises(KeyError, match=r"no schema for example\.com/v1 Widget"):
        unknown_fields({}, "example.com", "v1", "Widget")


# -- messages --------------------------------------------------------------------------------


def test_strict_decoding_error_message() -> None:
    error = strict_decoding_error(["spec.foo", "spec.bar"])
    assert isinstance(error, BadRequest)
    assert error.to_status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'strict decoding error: unknown field "spec.foo", unknown field "spec.bar"',
        "reason": "BadRequest",
        "code": 400,
    }


def test_strict_decoding_error_as_create_and_update_word_it() -> None:
    error = strict_decoding_error(["spec.containers[0].imagePullPolcy"], kind="Pod", version="v1")
    assert error.message == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.containers[0].imagePullPolcy"'
    )


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["spec.foo"], ['unknown field "spec.foo"']),
        (["a", "b[0].c"], ['unknown field "a"', 'unknown field "b[0].c"']),
        (['we"ird'], ['unknown field "we\\"ird"']),
        ([], []),
    ],
    ids=["one", "two", "quote-escaped", "none"],
)
def test_unknown_field_warnings(paths: list[str], expected: list[str]) -> None:
    assert unknown_field_warnings(paths) == expected


def test_strict_decoding_message_joins_with_comma() -> None:
    assert strict_decoding_message(["a", "b"]) == (
        'strict decoding error: unknown field "a", unknown field "b"'
    )


def test_strict_patch_error_is_invalid_on_the_patch_field() -> None:
    error = strict_patch_error(["spec.foo"], {"spec": {"foo": 1}, "kind": "Pod"})
    assert isinstance(error, Invalid)
    status = error.to_status()
    assert status["code"] == 422
    value = '"{\\"kind\\":\\"Pod\\",\\"spec\\":{\\"foo\\":1}}"'
    assert status["message"] == (
        f' "" is invalid: patch: Invalid value: {value}: '
        'strict decoding error: unknown field "spec.foo"'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "patch",
            "message": status["message"].removeprefix(' "" is invalid: patch: '),
        }
    ]


# -- types (conform) ---------------------------------------------------------------------------
from kubeward.api.openapi import conform, decoding_error, patch_decoding_error  # noqa: E402


@pytest.mark.parametrize(
    ("group", "kind", "obj", "message"),
    [
        (
            "rbac.authorization.k8s.io",
            "Role",
            {"metadata": {"name": {"x": 1}}},
            "cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string",
        ),
        (
            "",
            "ConfigMap",
            {"metadata": {"namespace": 5}},
            "ObjectMeta.metadata.namespace of type string",
        ),
        (
            "",
            "ConfigMap",
            {"metadata": {"generateName": []}},
            "metadata.generateName of type string",
        ),
        (
            "",
            "Pod",
            {"spec": {"containers": [False]}},
            "cannot unmarshal bool into Go struct field PodSpec.spec.containers[0] of type v1.Container",
        ),
        (
            "",
            "Pod",
            {"spec": -0.0},
            "cannot unmarshal number into Go struct field Pod.spec of type v1.PodSpec",
        ),
        ("", "ConfigMap", {"data": -1}, "Go struct field ConfigMap.data of type map[string]string"),
        (
            "",
            "ConfigMap",
            {"data": {"a": 1}},
            "cannot unmarshal number into Go struct field ConfigMap.data.a of type string",
        ),
        (
            "apps",
            "Deployment",
            {"spec": {"replicas": 1.5}},
            "cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int64",
        ),
        ("apps", "Deployment", {"spec": {"replicas": 2.0**64}}, "number 18446744073709551616 into"),
        ("apps", "Deployment", {"spec": {"replicas": "3"}}, "cannot unmarshal string"),
        ("apps", "Deployment", {"spec": {"paused": "true"}}, "of type bool"),
        (
            "",
            "Pod",
            {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": True}]}]}},
            "cannot unmarshal bool",
        ),
        (
            "apps",
            "Deployment",
            {"spec": {"strategy": {"rollingUpdate": {"maxSurge": True}}}},
            "of type intstr.IntOrString",
        ),
        (
            "",
            "Pod",
            {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": []}}}]}},
            "of type resource.Quantity",
        ),
        (
            "",
            "Pod",
            {"status": {"startTime": "yesterday"}},
            'parsing time "yesterday" at status.startTime',
        ),
        (
            "",
            "Secret",
            {"data": {"a": "not base64!"}},
            "illegal base64 data at input byte 3 (data.a must be base64",
        ),
        (
            "certificates.k8s.io",
            "CertificateSigningRequest",
            {"spec": {"request": 5}},
            "of type []uint8",
        ),
        (
            "authentication.k8s.io",
            "TokenReview",
            {"spec": "x"},
            "TokenReview.spec of type v1.TokenReviewSpec",
        ),
        ("authentication.k8s.io", "TokenReview", {"spec": {"audiences": "x"}}, "of type []string"),
        (
            "authorization.k8s.io",
            "LocalSubjectAccessReview",
            {"spec": {"resourceAttributes": 5}},
            "of type v1.ResourceAttributes",
        ),
        (
            "",
            "DeleteOptions",
            {"preconditions": "x"},
            "DeleteOptions.preconditions of type v1.Preconditions",
        ),
        ("", "DeleteOptions", {"gracePeriodSeconds": "1e999"}, "cannot unmarshal string"),
    ],
    ids=[
        "name-object",
        "namespace-number",
        "generate-name-list",
        "container-bool",
        "spec-minus-zero",
        "data-number",
        "data-value-number",
        "int-fraction",
        "int-past-int64",
        "int-as-string",
        "bool-as-string",
        "port-bool",
        "int-or-string-bool",
        "quantity-list",
        "date-time",
        "base64",
        "csr-request-number",
        "tokenreview-spec",
        "audiences-string",
        "lsar-attributes",
        "preconditions",
        "grace-period-string",
    ],
)
def test_wrong_types_are_refused(group: str, kind: str, obj: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        conform(obj, group, "v1", kind)


def test_well_typed_values_pass_and_are_normalized() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "d", "labels": None, "annotations": {"a": None}},
        "spec": {
            "replicas": 2.0,
            "minReadySeconds": -0.0,
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "spec": {
                    "containers": [
                        None,
                        {"name": "c", "resources": {"limits": {"cpu": 0.5, "memory": "1Gi"}}},
                    ],
                    "nodeSelector": {"a": None},
                }
            },
        },
    }
    assert conform(obj, "apps", "v1", "Deployment").unknown == []
    assert obj["metadata"] == {"name": "d", "annotations": {"a": ""}}
    spec = obj["spec"]
    assert spec["replicas"] == 2 and isinstance(spec["replicas"], int)
    assert spec["minReadySeconds"] == 0 and isinstance(spec["minReadySeconds"], int)
    assert spec["template"]["spec"]["containers"][0] == {}
    assert spec["template"]["spec"]["nodeSelector"] == {"a": ""}


def test_free_form_fields_take_anything() -> None:
    obj = {"metadata": {"managedFields": [{"fieldsV1": {"f:x": [1, "a", None]}}]}}
    assert conform(obj, "", "v1", "ConfigMap").unknown == []


def test_unknown_fields_are_reported_and_dropped_on_request() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "c", "labelz": {}},
        "status": {"a": 1},
        "data": {"k": "v"},
    }
    found = conform(obj, "", "v1", "ConfigMap")
    assert found.unknown == ["metadata.labelz", "status"]
    assert "status" in obj
    found.drop_unknown()
    assert obj == {"metadata": {"name": "c"}, "data": {"k": "v"}}


def test_unknown_fields_neither_checks_types_nor_changes_the_object() -> None:
    obj = {"metadata": {"name": {"x": 1}, "labels": None}, "spec": -0.0, "bogus": 1}
    assert unknown_fields(obj, "", "v1", "Pod") == ["bogus"]
    assert obj == {"metadata": {"name": {"x": 1}, "labels": None}, "spec": -0.0, "bogus": 1}


def test_type_error_messages_for_create_and_patch() -> None:
    with pytest.raises(BadRequest) as caught:
        conform({"spec": 1}, "", "v1", "Pod")
    error = decoding_error(caught.value, kind="Pod", version="v1")
    assert error.code == 400
    assert error.message == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into '
        "Go struct field Pod.spec of type v1.PodSpec"
    )
    patched = patch_decoding_error(caught.value, {"spec": 1})
    assert patched.code == 422
    assert patched.message == (
        ' "" is invalid: patch: Invalid value: "{\\"spec\\":1}": json: cannot unmarshal number '
        "into Go struct field Pod.spec of type v1.PodSpec"
    )
