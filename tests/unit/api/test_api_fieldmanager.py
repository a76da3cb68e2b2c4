"""api.fieldmanager: field paths and fieldsV1, the typed walks, and the updater's ownership rules.

Cases modelled on structured-merge-diff's own tests (fieldpath/serialize_test, typed/
toset_test, merge/multiple_appliers_test, merge/set_test, merge/obsolete_test), in our words.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.fieldmanager import fieldpath as fp
from kubeward.api.fieldmanager import schema as shapes
from kubeward.api.fieldmanager.fieldpath import FieldSet
from kubeward.api.fieldmanager.manager import FieldManager, manager_from_user_agent
from kubeward.api.fieldmanager.typed import compare, merge, remove_items, to_field_set
from kubeward.errors import BadRequest, Conflict, Invalid

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name", "protocol"],
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "protocol": {"type": "string"},
                            "port": {"type": "integer"},
                        },
                    },
                },
                "tags": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "args": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "selector": {
                    "type": "object",
                    "x-kubernetes-map-type": "atomic",
                    "properties": {"app": {"type": "string"}},
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    },
}
SHAPE = shapes.root(SCHEMA)


def spec(*elements: fp.PathElement) -> fp.Path:
    return (fp.field("spec"), *elements)


@pytest.mark.parametrize(
    ("path", "encoded", "text"),
    [
        (spec(fp.field("replicas")), {"f:spec": {"f:replicas": {}}}, ".spec.replicas"),
        (
            spec(fp.field("ports"), fp.key({"protocol": "TCP", "name": "http"})),
            {"f:spec": {"f:ports": {'k:{"name":"http","protocol":"TCP"}': {}}}},
            '.spec.ports[name="http",protocol="TCP"]',
        ),
        (
            spec(fp.field("tags"), fp.value("a")),
            {"f:spec": {"f:tags": {'v:"a"': {}}}},
            '.spec.tags[="a"]',
        ),
        (spec(fp.field("args"), fp.index(2)), {"f:spec": {"f:args": {"i:2": {}}}}, ".spec.args[2]"),
    ],
    ids=["field", "key", "value", "index"],
)
def test_paths_encode_decode_and_print(path: fp.Path, encoded: dict[str, Any], text: str) -> None:
    assert FieldSet.of(path).to_fields_v1() == encoded
    assert FieldSet.from_fields_v1(encoded) == FieldSet.of(path)
    assert fp.path_text(path) == text


def test_a_member_with_children_writes_dot() -> None:
    labels = (fp.field("metadata"), fp.field("labels"))
    owned = FieldSet.of(labels, (*labels, fp.field("app")))
    encoded = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
    assert owned.to_fields_v1() == encoded
    assert FieldSet.from_fields_v1(encoded) == owned


def test_fields_sort_before_keys_values_and_indices() -> None:
    owned = FieldSet.of((fp.index(0),), (fp.value("x"),), (fp.key({"a": 1}),), (fp.field("z"),))
    assert list(owned.to_fields_v1()) == ["f:z", 'k:{"a":1}', 'v:"x"', "i:0"]


@pytest.mark.parametrize("bad", [{"x:y": {}}, {"k:[1]": {}}, {"f:a": []}, []], ids=str)
def test_bad_fields_v1_is_a_bad_request(bad: Any) -> None:
    with pytest.raises(BadRequest):
        FieldSet.from_fields_v1(bad)


def test_set_algebra() -> None:
    a = FieldSet.of(spec(fp.field("replicas")), spec(fp.field("args")))
    b = FieldSet.of(spec(fp.field("args")), (fp.field("status"),))
    assert a.union(b) == FieldSet.of(
        spec(fp.field("replicas")), spec(fp.field("args")), (fp.field("status"),)
    )
    assert a.intersection(b) == FieldSet.of(spec(fp.field("args")))
    assert a.difference(b) == FieldSet.of(spec(fp.field("replicas")))
    assert a.recursive_difference(FieldSet.of((fp.field("spec"),))).empty()
    assert not a.difference(FieldSet.of((fp.field("spec"),))).empty()


@pytest.mark.parametrize(
    ("obj", "fields"),
    [
        ({"spec": {"replicas": 1}}, {"f:spec": {"f:replicas": {}}}),
        ({"spec": {"labels": {"a": "1"}}}, {"f:spec": {"f:labels": {"f:a": {}}}}),
        ({"spec": {"labels": {}}}, {"f:spec": {"f:labels": {}}}),
        ({"spec": {"selector": {"app": "x"}}}, {"f:spec": {"f:selector": {}}}),
        ({"spec": {"args": ["a", "b"]}}, {"f:spec": {"f:args": {}}}),
        ({"spec": {"tags": ["b", "a"]}}, {"f:spec": {"f:tags": {'v:"a"': {}, 'v:"b"': {}}}}),
        (
            {"spec": {"ports": [{"name": "h", "protocol": "TCP", "port": 1}]}},
            {
                "f:spec": {
                    "f:ports": {
                        'k:{"name":"h","protocol":"TCP"}': {
                            ".": {},
                            "f:name": {},
                            "f:port": {},
                            "f:protocol": {},
                        }
                    }
                }
            },
        ),
        (
            {"spec": {"extra": {"x": {"y": 1}}}},
            {"f:spec": {"f:extra": {"f:x": {".": {}, "f:y": {}}}}},
        ),
    ],
    ids=[
        "scalar",
        "map-entries",
        "empty-map",
        "atomic-map",
        "atomic-list",
        "set",
        "map-list",
        "deduced",
    ],
)
def test_the_fields_an_object_sets(obj: dict[str, Any], fields: dict[str, Any]) -> None:
    assert to_field_set(obj, SHAPE).to_fields_v1() == fields


def test_compare_adds_a_new_map_with_its_entries() -> None:
    cmp = compare({"spec": {"replicas": 1}}, {"spec": {"replicas": 2, "labels": {"a": "1"}}}, SHAPE)
    assert cmp.modified == FieldSet.of(spec(fp.field("replicas")))
    assert cmp.added.to_fields_v1() == {"f:spec": {"f:labels": {".": {}, "f:a": {}}}}
    assert cmp.removed.empty()
    gone = compare({"spec": {"tags": ["a", "b"]}}, {"spec": {"tags": ["a"]}}, SHAPE)
    assert gone.removed == FieldSet.of(spec(fp.field("tags"), fp.value("b")))


@pytest.mark.parametrize(
    ("live", "config", "merged"),
    [
        (
            {"spec": {"tags": ["a", "b"]}},
            {"spec": {"tags": ["c", "a"]}},
            {"spec": {"tags": ["c", "a", "b"]}},
        ),
        ({"spec": {"args": ["a", "b"]}}, {"spec": {"args": ["c"]}}, {"spec": {"args": ["c"]}}),
        (
            {"spec": {"ports": [{"name": "a", "protocol": "TCP", "port": 1}]}},
            {
                "spec": {
                    "ports": [
                        {"name": "a", "protocol": "TCP", "port": 2},
                        {"name": "b", "protocol": "TCP"},
                    ]
                }
            },
            {
                "spec": {
                    "ports": [
                        {"name": "a", "protocol": "TCP", "port": 2},
                        {"name": "b", "protocol": "TCP"},
                    ]
                }
            },
        ),
        (
            {"spec": {"selector": {"app": "x"}}},
            {"spec": {"selector": {}}},
            {"spec": {"selector": {}}},
        ),
        (
            {"spec": {"labels": {"a": "1"}}},
            {"spec": {"labels": {"b": "2"}}},
            {"spec": {"labels": {"a": "1", "b": "2"}}},
        ),
    ],
    ids=[
        "set-keeps-live-items",
        "atomic-replaced",
        "map-list-by-key",
        "atomic-map",
        "granular-map",
    ],
)
def test_merge(live: Any, config: Any, merged: Any) -> None:
    assert merge(live, config, SHAPE) == merged


def test_remove_items_takes_whole_items_and_parts() -> None:
    obj = {"spec": {"tags": ["a", "b"], "labels": {"x": "1", "y": "2"}, "replicas": 1}}
    paths = FieldSet.of(
        spec(fp.field("tags"), fp.value("a")), spec(fp.field("labels"), fp.field("x"))
    )
    assert remove_items(obj, SHAPE, paths) == {
        "spec": {"tags": ["b"], "labels": {"y": "2"}, "replicas": 1}
    }


def _manager() -> FieldManager:
    return FieldManager.for_schema("example.com/v1", SCHEMA, status=True)


def _owners(obj: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


def _obj(**spec_fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "W",
        "metadata": {"name": "w"},
        "spec": spec_fields,
    }


def test_two_appliers_share_a_set_and_each_prunes_only_its_own() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(tags=["a"]), "one")
    live = fm.applied(live, _obj(tags=["b"]), "two")
    assert live["spec"]["tags"] == ["a", "b"]
    live = fm.applied(live, _obj(tags=[]), "one")
    assert live["spec"]["tags"] == ["b"]
    assert _owners(live)["two", "Apply"] == {"f:spec": {"f:tags": {'v:"b"': {}}}}


def test_a_conflict_names_every_manager_and_force_takes_over() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(replicas=1, args=["x"]), "one")
    updated = copy.deepcopy(live)
    updated["spec"]["replicas"] = 2
    fm.updated(live, updated, "hpa")
    with pytest.raises(Conflict) as caught:
        fm.applied(updated, _obj(replicas=3, args=["y"]), "two")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "hpa" using example.com/v1:\n'
        '- .spec.replicas\nconflicts with "one":\n- .spec.args'
    )
    assert [c.field for c in caught.value.details.causes] == [".spec.replicas", ".spec.args"]  # type: ignore[union-attr]
    forced = fm.applied(updated, _obj(replicas=3, args=["y"]), "two", force=True)
    assert list(_owners(forced)) == [("two", "Apply")]


def test_the_same_value_is_shared_without_conflict() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(replicas=1), "one")
    live = fm.applied(live, _obj(replicas=1), "two")
    assert set(_owners(live)) == {("one", "Apply"), ("two", "Apply")}
    live = fm.applied(live, _obj(), "one")  # one lets go; two still owns it: it stays
    assert live["spec"]["replicas"] == 1


def test_an_update_takes_fields_from_appliers_and_keeps_its_earlier_ones() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(replicas=1, labels={"a": "1"}), "one")
    first = copy.deepcopy(live)
    first["spec"]["labels"]["b"] = "2"
    fm.updated(live, first, "editor", time="2026-01-01T00:00:00Z")
    second = copy.deepcopy(first)
    second["spec"]["replicas"] = 5
    fm.updated(first, second, "editor", time="2026-01-02T00:00:00Z")
    owners = _owners(second)
    assert owners["editor", "Update"] == {"f:spec": {"f:labels": {"f:b": {}}, "f:replicas": {}}}
    assert owners["one", "Apply"] == {"f:spec": {"f:labels": {"f:a": {}}}}
    unchanged = copy.deepcopy(second)
    fm.updated(second, unchanged, "other")
    assert unchanged["metadata"]["managedFields"] == second["metadata"]["managedFields"]


def test_status_is_reset_on_the_main_resource_and_spec_on_status() -> None:
    fm = _manager()
    live = fm.applied(None, {**_obj(replicas=1), "status": {"ready": True}}, "one")
    assert _owners(live)["one", "Apply"] == {"f:spec": {"f:replicas": {}}}
    new = copy.deepcopy(live)
    new["status"] = {"ready": False}
    fm.updated(live, new, "op", "status")
    entry = next(e for e in new["metadata"]["managedFields"] if e["manager"] == "op")
    assert (entry["subresource"], entry["fieldsV1"]) == ("status", {"f:status": {"f:ready": {}}})


def test_apply_refuses_managed_fields_in_its_body() -> None:
    body = _obj()
    body["metadata"]["managedFields"] = []
    with pytest.raises(BadRequest, match=r"metadata\.managedFields must be nil"):
        _manager().applied(None, body, "one")


def test_a_client_may_clear_managed_fields() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(replicas=1), "one")
    cleared = copy.deepcopy(live)
    cleared["metadata"]["managedFields"] = [{}]
    fm.updated(live, cleared, "x")
    assert "managedFields" not in cleared["metadata"]


@pytest.mark.parametrize(
    ("agent", "manager"),
    [
        ("kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl"),
        ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
        ("", ""),
    ],
    ids=["kubectl", "python", "none"],
)
def test_the_manager_from_the_user_agent(agent: str, manager: str) -> None:
    assert manager_from_user_agent(agent) == manager


def test_builtin_lists_follow_patch_merge_keys_and_list_map_keys() -> None:
    deployment = shapes.for_builtin("io.k8s.api.apps.v1.Deployment")
    pod_spec = deployment.field_type("spec").field_type("template").field_type("spec")
    containers = pod_spec.field_type("containers")
    assert (containers.list_type, containers.keys) == ("map", ("name",))
    ports = containers.element_type().field_type("ports")
    assert ports.keys == ("containerPort", "protocol")
    assert pod_spec.field_type("containers").element_type().field_type("args").list_type == "atomic"
    assert deployment.field_type("spec").field_type("selector").atomic
    finalizers = deployment.field_type("metadata").field_type("finalizers")
    assert finalizers.list_type == "set"


def test_a_bad_field_manager_is_invalid() -> None:
    from kubeward.api.fieldmanager import check_options

    with pytest.raises(Invalid, match="fieldManager: Too long"):
        check_options("x" * 129, applying=False)


_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "x", "labels": {"app": "x"}},
    "spec": {
        "replicas": 1,
        "paused": False,
        "selector": {"matchLabels": {"app": "x"}},
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {
                "securityContext": {},
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {},
                    }
                ],
            },
        },
    },
    "status": {},
}


@pytest.mark.parametrize(
    ("shape", "obj", "zero_structs"),
    [
        (shapes.for_builtin("io.k8s.api.apps.v1.Deployment"), _DEPLOYMENT, True),
        (
            SHAPE,
            _obj(replicas=1, tags=["a"], labels={}, selector={"app": "y"}, extra={"q": [1]}),
            False,
        ),
    ],
    ids=["builtin-zero-value", "custom"],
)
def test_the_create_walk_is_the_general_comparison(
    shape: shapes.Type, obj: dict[str, Any], zero_structs: bool
) -> None:
    from kubeward.api.fieldmanager.manager import _zero
    from kubeward.api.fieldmanager.typed import created_fields

    zero = _zero(obj, shape) if zero_structs else {}
    assert (
        created_fields(obj, shape, zero_structs=zero_structs) == compare(zero, obj, shape).changed()
    )


def test_a_builtin_create_owns_what_upstream_shows() -> None:
    fm = FieldManager.for_builtin("apps/v1", "io.k8s.api.apps.v1.Deployment", status=True)
    obj = copy.deepcopy(_DEPLOYMENT)
    fm.updated(None, obj, "kubectl-create", time="2026-01-01T00:00:00Z")
    (entry,) = obj["metadata"]["managedFields"]
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    spec_fields = entry["fieldsV1"]["f:spec"]
    assert "." not in spec_fields and "." not in spec_fields["f:template"]  # Go zero value
    assert spec_fields["f:selector"] == {}
    assert "f:status" not in entry["fieldsV1"]


def test_past_ten_updaters_the_oldest_become_ancient_changes() -> None:
    fm = _manager()
    live = fm.applied(None, _obj(labels={}), "owner")
    for i in range(12):
        new = copy.deepcopy(live)
        new["spec"]["labels"][f"k{i}"] = "v"
        fm.updated(live, new, f"writer-{i:02}", time=f"2026-01-01T00:00:{i:02}Z")
        live = new
    owners = _owners(live)
    updaters = [k for k in owners if k[1] == "Update"]
    assert len(updaters) == 10
    assert ("writer-00", "Update") not in owners and ("writer-02", "Update") not in owners
    assert owners["ancient-changes", "Update"] == {
        "f:spec": {"f:labels": {"f:k0": {}, "f:k1": {}, "f:k2": {}}}
    }


def test_a_key_field_left_out_takes_its_default() -> None:
    fm = FieldManager.for_builtin("apps/v1", "io.k8s.api.apps.v1.Deployment", status=True)
    config = copy.deepcopy(_DEPLOYMENT)
    del config["status"]
    config["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    live = fm.applied(None, copy.deepcopy(config), "kubectl")
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = "TCP"  # defaulted
    again = fm.applied(live, copy.deepcopy(config), "kubectl")
    assert again["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    (entry,) = again["metadata"]["managedFields"]
    container = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert container['k:{"name":"nginx"}']["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }
