"""Custom objects against their schema, CRD validation, and printer columns."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from kubeward.api.customresources.kinds import CustomResourceStrategy, served_kinds
from kubeward.api.customresources.printer import json_path_steps, printer_for_columns
from kubeward.api.customresources.schema import apply_defaults, prune, validate
from kubeward.api.validation.apiextensions import default_crd, validate_crd, validate_crd_update

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "colour": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "name": {"type": "string", "maxLength": 5, "minLength": 2, "pattern": "^[a-z]+$"},
                "port": {"x-kubernetes-int-or-string": True},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "maybe": {"type": "string", "nullable": True},
            },
        }
    },
}


def messages(obj: dict[str, Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in validate(obj, SCHEMA)]


CASES = [
    ({"size": 3}, []),
    ({"size": 3.0}, []),
    ({"size": "3"}, ['spec.size: Invalid value: "3": spec.size in body must be of type integer: "string"']),
    ({"size": 11}, ["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]),
    ({"size": 0}, ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]),
    ({}, ["spec.size: Required value"]),
    ({"size": 1, "colour": "pink"}, ['spec.colour: Unsupported value: "pink": supported values: "red", "blue"']),
    ({"size": 1, "name": "abcdefg"}, ["spec.name: Too long: may not be more than 5 bytes"]),
    ({"size": 1, "name": "a"}, ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']),
    ({"size": 1, "name": "AB"}, ["spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"]),
    ({"size": 1, "port": "http"}, []),
    ({"size": 1, "port": 80}, []),
    ({"size": 1, "port": True}, ['spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean"']),
    ({"size": 1, "tags": ["a", "b", "c"]}, ["spec.tags: Too many: 3: must have at most 2 items"]),
    ({"size": 1, "tags": [1]}, ['spec.tags[0]: Invalid value: 1: spec.tags[0] in body must be of type string: "integer"']),
    ({"size": 1, "labels": {"a": 1}}, ['spec.labels.a: Invalid value: 1: spec.labels.a in body must be of type string: "integer"']),
    ({"size": 1, "maybe": None}, []),
    ({"size": None}, ['spec.size: Invalid value: null: spec.size in body must be of type integer: "null"']),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_validation_speaks_kube_apiservers_words(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages({"apiVersion": "x/v1", "kind": "W", "metadata": {}, "spec": spec}) == expected


def test_defaults_then_pruning_keep_what_the_schema_knows() -> None:
    obj = {
        "apiVersion": "x/v1",
        "kind": "W",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "extra": 1, "free": {"anything": {"goes": 1}}},
        "status": {"x": 1},
    }
    apply_defaults(obj, SCHEMA)
    pruned = prune(obj, SCHEMA)
    assert sorted(pruned) == ["spec.extra", "status"]
    assert obj == {
        "apiVersion": "x/v1",
        "kind": "W",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "colour": "red", "free": {"anything": {"goes": 1}}},
    }


CRD: dict[str, Any] = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA}},
            {
                "name": "v2",
                "served": False,
                "storage": False,
                "schema": {"openAPIV3Schema": SCHEMA},
            },
        ],
    },
}


def crd_messages(change: Any) -> list[str]:
    crd = copy.deepcopy(CRD)
    change(crd)
    default_crd(crd)
    return [f"{c.field}: {c.message}" for c in validate_crd(crd)]


def test_a_valid_definition_is_defaulted_and_accepted() -> None:
    crd = copy.deepcopy(CRD)
    default_crd(crd)
    assert crd["spec"]["names"]["singular"] == "widget"
    assert crd["spec"]["names"]["listKind"] == "WidgetList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert validate_crd(crd) == []


BAD_CRDS = [
    (lambda c: c["metadata"].update(name="x.example.com"), 'metadata.name: Invalid value: "x.example.com": must be spec.names.plural+"."+spec.group'),
    (lambda c: c["spec"].update(group="example"), 'spec.group: Invalid value: "example": should be a domain with at least one dot'),
    (lambda c: c["spec"].update(scope="Global"), 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'),
    (lambda c: c["spec"]["versions"][1].update(storage=True), "spec.versions: Invalid value: [\"v1\", \"v2\"]: must have exactly one version marked as storage version"),
    (lambda c: c["spec"]["versions"][0].pop("schema"), "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"),
    (lambda c: c["spec"]["versions"][0].update(schema={"openAPIV3Schema": {"type": "string"}}), 'spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root'),
    (lambda c: c["spec"]["versions"][0].update(schema={"openAPIV3Schema": {"type": "object", "properties": {"spec": {}}}}), "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"),
    (lambda c: c["spec"]["names"].update(kind="Widget", listKind="Widget"), 'spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same'),
    (lambda c: c["spec"]["names"].update(shortNames=["W!"]), 'spec.names.shortNames[0]: Invalid value: "W!"'),
    (lambda c: c["spec"]["versions"][0].update(additionalPrinterColumns=[{"name": "A", "type": "money", "jsonPath": ".spec.a"}]), 'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "money"'),
    (lambda c: c["spec"]["versions"][0].update(subresources={"scale": {"specReplicasPath": ".replicas", "statusReplicasPath": ".status.r"}}), 'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".replicas": should be a json path under .spec'),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), BAD_CRDS, ids=[b[1][:60] for b in BAD_CRDS])
def test_an_invalid_definition_is_refused_as_upstream_words_it(change: Any, expected: str) -> None:
    assert any(m.startswith(expected) for m in crd_messages(change)), crd_messages(change)


def test_group_and_plural_never_change_and_stored_versions_stay() -> None:
    old = copy.deepcopy(CRD)
    old["status"] = {
        "storedVersions": ["v2"],
        "conditions": [{"type": "Established", "status": "True"}],
    }
    new = copy.deepcopy(old)
    new["spec"]["group"] = "example.org"
    new["spec"]["scope"] = "Cluster"
    new["spec"]["versions"] = [new["spec"]["versions"][0]]
    found = [f"{c.field}: {c.message}" for c in validate_crd_update(new, old)]
    assert 'spec.group: Invalid value: "example.org": field is immutable' in found
    assert 'spec.scope: Invalid value: "Cluster": field is immutable' in found
    assert 'status.storedVersions[0]: Invalid value: "v2": must appear in spec.versions' in found


def test_only_served_versions_become_kinds() -> None:
    crd = copy.deepcopy(CRD)
    default_crd(crd)
    kinds = served_kinds(crd)
    assert [(k.group, k.version, k.kind, k.resource, k.namespaced) for k in kinds] == [
        ("example.com", "v1", "Widget", "widgets", True)
    ]
    assert kinds[0].merge_root is None  # strategic merge is refused for custom resources
    strategy = CustomResourceStrategy(kinds[0])
    assert strategy.has_status is False


def test_generation_ignores_metadata_and_status_with_the_subresource() -> None:
    crd = copy.deepcopy(CRD)
    crd["spec"]["versions"][0]["subresources"] = {"status": {}}
    default_crd(crd)
    strategy = CustomResourceStrategy(served_kinds(crd)[0])
    old = {"metadata": {"labels": {}}, "spec": {"size": 1}, "status": {"a": 1}}
    assert not strategy.generation_changed({**old, "metadata": {"labels": {"x": "y"}}}, old)
    assert not strategy.generation_changed({**old, "status": {"a": 2}}, old)
    assert strategy.generation_changed({**old, "spec": {"size": 2}}, old)


def test_printer_columns_follow_json_paths() -> None:
    assert json_path_steps(".status.conditions[0]['type']") == ["status", "conditions", 0, "type"]
    printer = printer_for_columns(
        [
            {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[0].status"},
            {"name": "Tags", "type": "string", "jsonPath": ".spec.tags", "priority": 1},
        ]
    )
    assert [c.name for c in printer.columns] == ["Name", "Size", "Ready", "Tags"]
    row = printer.print_row(
        {"metadata": {"name": "w"}, "spec": {"size": 3, "tags": ["a"]}}, datetime(2026, 1, 1)
    )
    assert row.cells == ("w", 3, None, '["a"]')
    default = printer_for_columns(None)
    assert [(c.name, c.type) for c in default.columns] == [("Name", "string"), ("Age", "date")]
