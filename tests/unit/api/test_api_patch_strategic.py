"""Strategic merge patch for built-in kinds.

Expected results follow Kubernetes' ``strategicpatch`` package; the same cases (and more) are
checked against kubectl's compiled-in implementation in
tests/integration/test_api_patch_kubectl.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubeward.api.patch.strategic import apply_strategic_merge_patch
from kubeward.api.patch.strategies import KINDS, TYPES, root_type
from kubeward.errors import BadRequest, Invalid


def container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, **fields}


POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web",
        "labels": {"app": "web"},
        "annotations": {"keep": "me"},
        "finalizers": ["a", "b"],
        "ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "name": "rs"}],
    },
    "spec": {
        "containers": [
            container(
                "nginx",
                image="nginx:1.27",
                env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                ports=[{"containerPort": 80}],
            ),
            container("side", image="busybox"),
        ],
        "volumes": [{"name": "cfg", "emptyDir": {}}],
        "tolerations": [{"key": "t", "operator": "Exists"}],
        "nodeSelector": {"disk": "ssd"},
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
}


def patched(patch: dict[str, Any], obj: dict[str, Any] = POD, type_name: str = "Pod") -> Any:
    return apply_strategic_merge_patch(obj, json.dumps(patch).encode(), type_name)


def test_kubectl_apply_pod_patch_from_the_wire_notes() -> None:
    patch = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
            "labels": {"tier": "fe"},
        },
        "spec": {
            "$setElementOrder/containers": [{"name": "nginx"}],
            "containers": [
                {"image": "nginx:1.28", "name": "nginx"},
                {"$patch": "delete", "name": "side"},
            ],
        },
    }
    result = patched(patch)
    assert result["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    assert result["metadata"]["annotations"] == {
        "keep": "me",
        "kubectl.kubernetes.io/last-applied-configuration": "{...}",
    }
    assert result["spec"]["containers"] == [
        container(
            "nginx",
            image="nginx:1.28",
            env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            ports=[{"containerPort": 80}],
        )
    ]
    assert result["spec"]["tolerations"] == POD["spec"]["tolerations"]


CONTAINER_LISTS = [
    (
        "merge-by-name-keeps-others",
        {"spec": {"containers": [{"name": "side", "image": "busybox:2"}]}},
        ["nginx", "side"],
        {"side": {"name": "side", "image": "busybox:2"}},
    ),
    (
        "new-item-goes-first",
        {"spec": {"containers": [{"name": "log", "image": "fluent"}]}},
        ["log", "nginx", "side"],
        {},
    ),
    (
        "patch-order-for-mentioned-items",
        {"spec": {"containers": [{"name": "side"}, {"name": "nginx"}]}},
        ["side", "nginx"],
        {},
    ),
    (
        "set-element-order-places-new-item",
        {
            "spec": {
                "$setElementOrder/containers": [
                    {"name": "nginx"},
                    {"name": "log"},
                    {"name": "side"},
                ],
                "containers": [{"name": "log", "image": "fluent"}],
            }
        },
        ["nginx", "log", "side"],
        {},
    ),
    (
        "set-element-order-alone-reorders",
        {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "nginx"}]}},
        ["side", "nginx"],
        {},
    ),
    (
        "delete-directive",
        {"spec": {"containers": [{"name": "nginx", "$patch": "delete"}]}},
        ["side"],
        {},
    ),
    (
        "delete-missing-item-is-harmless",
        {"spec": {"containers": [{"name": "ghost", "$patch": "delete"}]}},
        ["nginx", "side"],
        {},
    ),
    (
        "replace-directive",
        {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}},
        ["only"],
        {"only": {"name": "only", "image": "x"}},
    ),
]


@pytest.mark.parametrize(
    ("patch", "names", "exact"),
    [(p, n, e) for _, p, n, e in CONTAINER_LISTS],
    ids=[c[0] for c in CONTAINER_LISTS],
)
def test_containers_merge_by_name(
    patch: dict[str, Any], names: list[str], exact: dict[str, Any]
) -> None:
    containers = patched(patch)["spec"]["containers"]
    assert [c["name"] for c in containers] == names
    for item in containers:
        if item["name"] in exact:
            assert item == exact[item["name"]]


def test_nested_lists_merge_by_their_own_keys() -> None:
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "nginx",
                    "env": [{"name": "B", "value": "22"}, {"name": "A", "$patch": "delete"}],
                    "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                }
            ]
        }
    }
    nginx = patched(patch)["spec"]["containers"][0]
    assert nginx["env"] == [{"name": "B", "value": "22"}]
    assert nginx["ports"] == [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]
    assert nginx["image"] == "nginx:1.27"


def test_set_element_order_inside_a_merged_item() -> None:
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "nginx",
                    "$setElementOrder/env": [{"name": "C"}, {"name": "A"}, {"name": "B"}],
                    "env": [{"name": "C", "value": "3"}],
                }
            ]
        }
    }
    env = patched(patch)["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["C", "A", "B"]


SCALAR_LISTS = [
    ("set-merge-prepends-new", {"metadata": {"finalizers": ["c"]}}, ["c", "a", "b"]),
    ("set-merge-no-duplicates", {"metadata": {"finalizers": ["b", "c"]}}, ["a", "b", "c"]),
    (
        "delete-from-primitive-list",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zzz"]}},
        ["b"],
    ),
    (
        "set-element-order-for-scalars",
        {"metadata": {"$setElementOrder/finalizers": ["b", "c", "a"], "finalizers": ["c"]}},
        ["b", "c", "a"],
    ),
    (
        "order-and-deletion-together",
        {
            "metadata": {
                "$setElementOrder/finalizers": ["b"],
                "$deleteFromPrimitiveList/finalizers": ["a"],
            }
        },
        ["b"],
    ),
]


@pytest.mark.parametrize(
    ("patch", "finalizers"),
    [(p, f) for _, p, f in SCALAR_LISTS],
    ids=[s[0] for s in SCALAR_LISTS],
)
def test_finalizers_merge_as_a_set(patch: dict[str, Any], finalizers: list[str]) -> None:
    assert patched(patch)["metadata"]["finalizers"] == finalizers


def test_delete_from_primitive_list_of_absent_list_adds_nothing() -> None:
    obj = {"metadata": {"name": "x"}}
    result = patched({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, obj)
    assert result == {"metadata": {"name": "x"}}


def test_lists_without_strategy_are_replaced() -> None:
    result = patched({"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}})
    assert result["spec"]["tolerations"] == [{"key": "other", "operator": "Exists"}]


def test_owner_references_merge_by_uid() -> None:
    patch = {"metadata": {"ownerReferences": [{"uid": "u1", "name": "rs2"}, {"uid": "u2"}]}}
    assert patched(patch)["metadata"]["ownerReferences"] == [
        {"uid": "u1", "kind": "ReplicaSet", "name": "rs2"},
        {"uid": "u2"},
    ]


def test_status_conditions_merge_by_type() -> None:
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X"}]}}
    assert patched(patch)["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "X"},
    ]


MAPS = [
    (
        "null-deletes-keys",
        {"metadata": {"labels": {"app": None, "n": "1"}}, "spec": {"nodeSelector": None}},
        lambda r: r["metadata"]["labels"] == {"n": "1"} and "nodeSelector" not in r["spec"],
    ),
    (
        "null-for-missing-key",
        {"metadata": {"labels": {"ghost": None}}},
        lambda r: r["metadata"]["labels"] == {"app": "web"},
    ),
    (
        "map-replace-directive",
        {"metadata": {"labels": {"$patch": "replace", "only": "this"}}},
        lambda r: r["metadata"]["labels"] == {"only": "this"},
    ),
    (
        "map-delete-directive-empties",
        {"status": {"$patch": "delete"}},
        lambda r: r["status"] == {},
    ),
    (
        "new-section-taken-whole",
        {"spec": {"affinity": {"nodeAffinity": {"x": [1]}}}},
        lambda r: r["spec"]["affinity"] == {"nodeAffinity": {"x": [1]}},
    ),
    (
        "type-change-replaces",
        {"spec": {"volumes": "none"}},
        lambda r: r["spec"]["volumes"] == "none",
    ),
    (
        "retain-keys-clears-unlisted",
        {
            "spec": {
                "volumes": [
                    {
                        "name": "cfg",
                        "$retainKeys": ["configMap", "name"],
                        "configMap": {"name": "c"},
                    }
                ]
            }
        },
        lambda r: r["spec"]["volumes"] == [{"name": "cfg", "configMap": {"name": "c"}}],
    ),
]


@pytest.mark.parametrize(("patch", "check"), [(p, c) for _, p, c in MAPS], ids=[m[0] for m in MAPS])
def test_object_rules(patch: dict[str, Any], check: Any) -> None:
    assert check(patched(patch))


def test_top_level_replace_directive() -> None:
    assert patched({"$patch": "replace", "kind": "Pod"}) == {"kind": "Pod"}


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"spec": {"containers": [container("a", image="a:1"), container("b")]}},
    },
}


def test_deployment_template_containers_merge() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}}}}
    result = patched(patch, DEPLOYMENT, "Workload")
    assert result["spec"]["template"]["spec"]["containers"] == [
        container("a", image="a:2"),
        container("b"),
    ]


def test_deployment_strategy_retain_keys() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = patched(patch, DEPLOYMENT, "Workload")
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_replace_strategy_on_an_object_field() -> None:
    pdb = {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "1"}}}}
    result = patched(
        {"spec": {"selector": {"matchLabels": {"b": "2"}}}}, pdb, "PodDisruptionBudget"
    )
    assert result == {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"b": "2"}}}}


def test_untyped_kind_merges_maps_and_replaces_lists() -> None:
    role = {"metadata": {"name": "r", "labels": {"a": "1"}}, "rules": [{"verbs": ["get"]}]}
    result = patched(
        {"metadata": {"labels": {"b": "2"}}, "rules": [{"verbs": ["list"]}]}, role, "Object"
    )
    assert result == {
        "metadata": {"name": "r", "labels": {"a": "1", "b": "2"}},
        "rules": [{"verbs": ["list"]}],
    }


def test_input_is_not_mutated() -> None:
    original = copy.deepcopy(POD)
    result = patched({"spec": {"containers": [{"name": "nginx", "image": "x"}]}})
    result["spec"]["containers"][1]["image"] = "changed"
    assert original == POD


ERRORS = [
    ("not-json", b"{", BadRequest, "error decoding patch"),
    ("not-an-object", b"[]", BadRequest, "must be a JSON object"),
    (
        "missing-merge-key",
        b'{"spec": {"containers": [{"image": "x"}]}}',
        BadRequest,
        "map: map[image:x] does not contain declared merge key: name",
    ),
    (
        "delete-without-merge-key",
        b'{"spec": {"containers": [{"$patch": "delete"}]}}',
        BadRequest,
        "does not contain declared merge key: name",
    ),
    (
        "unknown-map-directive",
        b'{"metadata": {"labels": {"$patch": "boom"}}}',
        BadRequest,
        "unknown patch type: boom in map: map[$patch:boom]",
    ),
    (
        "unknown-list-directive",
        b'{"spec": {"containers": [{"$patch": "boom", "name": "x"}]}}',
        BadRequest,
        "unknown patch type: boom",
    ),
    (
        "merge-directive-in-list",
        b'{"spec": {"containers": [{"$patch": "merge"}]}}',
        BadRequest,
        "merging lists cannot yet be specified in the patch",
    ),
    (
        "retain-keys-not-a-list",
        b'{"spec": {"volumes": [{"name": "cfg", "$retainKeys": "name"}]}}',
        BadRequest,
        "invalid patch format of retainKeys",
    ),
    (
        "patch-key-not-retained",
        b'{"spec": {"volumes": [{"name": "cfg", "$retainKeys": ["name"], "secret": {}}]}}',
        BadRequest,
        "invalid patch format of retainKeys",
    ),
    (
        "set-element-order-not-a-list",
        b'{"spec": {"$setElementOrder/containers": {}}}',
        BadRequest,
        "invalid patch format of setElementOrder list",
    ),
    (
        "set-element-order-without-field",
        b'{"spec": {"$setElementOrder": []}}',
        BadRequest,
        "invalid patch format of setElementOrder list",
    ),
    (
        "order-contradicts-patch",
        b'{"spec": {"$setElementOrder/containers": [{"name": "nginx"}],'
        b' "containers": [{"name": "side"}]}}',
        BadRequest,
        "doesn't match $setElementOrder list",
    ),
    (
        "delete-list-not-a-list",
        b'{"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}',
        BadRequest,
        "invalid patch format of primitive list",
    ),
    (
        "delete-list-without-field",
        b'{"metadata": {"$deleteFromPrimitiveList": ["a"]}}',
        BadRequest,
        "invalid patch format of primitive list",
    ),
    (
        "mixed-element-types",
        b'{"metadata": {"finalizers": [1]}}',
        BadRequest,
        "list element types are not identical",
    ),
]


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [(b, e, m) for _, b, e, m in ERRORS],
    ids=[e[0] for e in ERRORS],
)
def test_bad_patches(body: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        apply_strategic_merge_patch(POD, body, "Pod")
    assert message in str(caught.value)


def test_lists_of_lists_are_422() -> None:
    obj = {"metadata": {"finalizers": []}}
    with pytest.raises(Invalid) as caught:
        apply_strategic_merge_patch(obj, b'{"metadata": {"finalizers": [["x"]]}}', "Pod")
    assert caught.value.code == 422
    assert caught.value.message == "the server rejected our request due to an error in our request"
    assert str(caught.value.__cause__) == "lists of lists are not supported"


def test_every_type_reference_resolves() -> None:
    referenced = {meta.type for fields in TYPES.values() for meta in fields.values() if meta.type}
    assert referenced <= set(TYPES)
    assert set(KINDS.values()) <= set(TYPES)


def test_strategies_are_merge_or_replace() -> None:
    for fields in TYPES.values():
        for meta in fields.values():
            assert meta.strategy in ("", "merge", "replace")
            assert not meta.merge_key or meta.strategy == "merge"


@pytest.mark.parametrize(
    ("group", "version", "kind", "expected"),
    [
        ("", "v1", "Pod", "Pod"),
        ("apps", "v1", "Deployment", "Workload"),
        ("rbac.authorization.k8s.io", "v1", "Role", "Object"),
        ("example.com", "v1", "Widget", None),
        ("apps", "v1beta1", "Deployment", None),
    ],
)
def test_root_type_lookup(group: str, version: str, kind: str, expected: str | None) -> None:
    assert root_type(group, version, kind) == expected
