"""The /openapi/v2 document: its derivation from the v3 documents and its gnostic protobuf form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import yaml

from kubeward.api.openapi import encode_swagger, served_document, swagger_document
from kubeward.api.openapi.swagger import v2_schema
from kubeward.api.openapi.swagger_proto import encode_document
from kubeward.api.protobuf import wire
from kubeward.api.resources import build_scheme
from kubeward.api.scheme import Scheme


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return build_scheme()[0]


@pytest.fixture(scope="module")
def swagger(scheme: Scheme) -> dict[str, Any]:
    from kubeward.api.openapi import OpenAPIResource

    documents = []
    for group in scheme.groups():
        for version in scheme.versions(group):
            resources = [
                OpenAPIResource(
                    rt.kind,
                    rt.resource,
                    rt.namespaced,
                    rt.verbs,
                    tuple(s.name for s in rt.subresources),
                )
                for rt in scheme.in_group_version(group, version)
            ]
            documents.append(served_document(group, version, resources).document)
    return swagger_document(documents, "v1.32.4")


@pytest.mark.parametrize(
    ("v3", "v2"),
    [
        (
            {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]},
            {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"},
        ),
        (
            {"description": "d", "allOf": [{"$ref": "#/components/schemas/x.Y"}]},
            {"description": "d", "$ref": "#/definitions/x.Y"},
        ),
        (
            {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
            {"format": "int-or-string", "type": "string"},
        ),
        ({"oneOf": [{"type": "string"}, {"type": "number"}]}, {"type": "string"}),
        ({"type": "string", "nullable": True}, {"type": "string"}),
        (
            {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/a.B"}]}},
            {"type": "array", "items": {"$ref": "#/definitions/a.B"}},
        ),
        (
            {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/a.B"}},
            {"type": "object", "additionalProperties": {"$ref": "#/definitions/a.B"}},
        ),
    ],
    ids=["ref", "described-ref", "int-or-string", "quantity", "nullable", "items", "map"],
)
def test_v2_schema_converts_v3_constructs(v3: dict[str, Any], v2: dict[str, Any]) -> None:
    assert v2_schema(v3) == v2


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):  # JSONSchemaProps has a "$ref" property
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_every_reference_resolves_to_a_definition(swagger: dict[str, Any]) -> None:
    refs = set(_refs(swagger))
    assert refs, "the document references no schema"
    for ref in refs:
        assert ref.startswith("#/definitions/"), ref
        assert ref.removeprefix("#/definitions/") in swagger["definitions"], ref


def test_document_header(swagger: dict[str, Any]) -> None:
    assert swagger["swagger"] == "2.0"
    assert swagger["info"] == {"title": "Kubernetes", "version": "v1.32.4"}
    assert swagger["security"] == [{"BearerToken": []}]


def test_kinds_carry_their_group_version_kind(swagger: dict[str, Any]) -> None:
    definitions = swagger["definitions"]
    assert definitions["io.k8s.api.authorization.v1.SubjectAccessReview"][
        "x-kubernetes-group-version-kind"
    ] == [{"group": "authorization.k8s.io", "kind": "SubjectAccessReview", "version": "v1"}]
    assert definitions["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "Pod", "version": "v1"}
    ]


def test_merge_lists_carry_the_patch_extensions(swagger: dict[str, Any]) -> None:
    containers = swagger["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["items"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}


def test_operations_are_swagger_operations(swagger: dict[str, Any]) -> None:
    item = swagger["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
    patch = item["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert patch["x-kubernetes-action"] == "patch"
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert patch["parameters"][0]["in"] == "body"
    assert patch["responses"]["200"]["schema"] == {"$ref": "#/definitions/io.k8s.api.core.v1.Pod"}
    assert {"in": "path", "name": "name", "required": True, "type": "string"}.items() <= item[
        "parameters"
    ][0].items()
    post = swagger["paths"]["/apis/authorization.k8s.io/v1/subjectaccessreviews"]["post"]
    assert post["parameters"][0]["schema"] == {
        "$ref": "#/definitions/io.k8s.api.authorization.v1.SubjectAccessReview"
    }


def test_field_validation_is_not_advertised(swagger: dict[str, Any]) -> None:
    """Rule 4: kubectl must not go looking for CRDs when it falls back to v2."""
    names = {
        param.get("name")
        for item in swagger["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for param in op.get("parameters", ())
    }
    assert "fieldValidation" not in names
    assert {"dryRun", "fieldManager"} <= names


# --- the protobuf form, read back with a generic wire reader ----------------------------------


def _fields(buf: bytes) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    pos = 0
    while pos < len(buf):
        number, wire_type, pos = wire.read_tag(buf, pos)
        if wire_type == wire.VARINT:
            value, pos = wire.read_varint(buf, pos)
        elif wire_type == wire.LENGTH_DELIMITED:
            value, pos = wire.read_length_delimited(buf, pos)
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        out.append((number, value))
    return out


def _one(buf: bytes, number: int) -> Any:
    values = [v for n, v in _fields(buf) if n == number]
    assert len(values) == 1, (number, values)
    return values[0]


def _named(buf: bytes) -> dict[str, bytes]:
    """A gnostic map message: repeated {1 name, 2 value} at field 1."""
    return {_one(pair, 1).decode(): _one(pair, 2) for n, pair in _fields(buf) if n == 1}


def _extensions(buf: bytes, number: int) -> dict[str, Any]:
    out = {}
    for n, pair in _fields(buf):
        if n == number:
            out[_one(pair, 1).decode()] = yaml.safe_load(_one(_one(pair, 2), 2).decode())
    return out


def test_protobuf_document_carries_the_schemas(swagger: dict[str, Any]) -> None:
    data = encode_swagger(swagger)
    assert _one(data, 1) == b"2.0"
    info = _one(data, 2)
    assert (_one(info, 1), _one(info, 2)) == (b"Kubernetes", b"v1.32.4")
    definitions = _named(_one(data, 9))
    assert set(definitions) == set(swagger["definitions"])

    review = definitions["io.k8s.api.authorization.v1.SubjectAccessReview"]
    assert _extensions(review, 31)["x-kubernetes-group-version-kind"] == [
        {"group": "authorization.k8s.io", "kind": "SubjectAccessReview", "version": "v1"}
    ]
    assert [v for n, v in _fields(review) if n == 19] == [b"spec"]  # required
    assert _one(_one(review, 22), 1) == b"object"  # type
    properties = _named(_one(review, 25))
    assert _one(properties["spec"], 1) == (
        b"#/definitions/io.k8s.api.authorization.v1.SubjectAccessReviewSpec"
    )

    pod_spec = _named(_one(definitions["io.k8s.api.core.v1.PodSpec"], 25))
    containers = pod_spec["containers"]
    assert _extensions(containers, 31) == {
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
    }
    item = _one(_one(containers, 23), 1)  # items: ItemsItem{schema}
    assert _one(item, 1) == b"#/definitions/io.k8s.api.core.v1.Container"

    labels = _named(_one(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"], 25))[
        "labels"
    ]
    additional = _one(_one(labels, 21), 1)  # AdditionalPropertiesItem{schema}
    assert _one(_one(additional, 22), 1) == b"string"


def test_protobuf_paths_keep_operations_and_parameters(swagger: dict[str, Any]) -> None:
    paths = {
        _one(pair, 1).decode(): _one(pair, 2)
        for n, pair in _fields(_one(encode_swagger(swagger), 8))
        if n == 2
    }
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    patch = _one(item, 8)
    assert _extensions(patch, 13)["x-kubernetes-group-version-kind"] == {
        "group": "",
        "kind": "Pod",
        "version": "v1",
    }
    parameters = [_one(p, 1) for n, p in _fields(patch) if n == 8]  # ParametersItem.parameter
    body = _one(parameters[0], 1)  # Parameter.body_parameter
    assert (_one(body, 2), _one(body, 3)) == (b"body", b"body")
    query = _one(_one(parameters[1], 2), 3)  # non_body_parameter.query_parameter_sub_schema
    assert (_one(query, 2), _one(query, 4), _one(query, 6)) == (b"query", b"dryRun", b"string")
    first_path_level = next(v for n, v in _fields(item) if n == 9)
    path_param = _one(_one(_one(first_path_level, 1), 2), 4)  # path-level {name}
    assert (_one(path_param, 1), _one(path_param, 4)) == (1, b"name")


def test_protobuf_refuses_an_unknown_schema_keyword() -> None:
    with pytest.raises(ValueError, match="patternProperties"):
        encode_document({"definitions": {"x": {"type": "object", "patternProperties": {}}}})


def test_protobuf_encodes_zero_valued_oneof_and_json_any() -> None:
    data = encode_document(
        {"definitions": {"x": {"type": "object", "additionalProperties": False, "default": {}}}}
    )
    schema = _named(_one(data, 9))["x"]
    assert _fields(_one(schema, 21)) == [(2, 0)]
    assert orjson.loads(_one(_one(schema, 5), 2)) == {}
