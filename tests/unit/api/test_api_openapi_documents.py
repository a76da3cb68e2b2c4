"""The /openapi/v3 root and group-version documents, and the schema catalog behind them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest

from kubeward.api.openapi import (
    OpenAPIResource,
    catalog,
    document_hash,
    documents,
    group_version_document,
    group_version_path,
    parse_group_version_path,
    root_document,
    served_document,
)

CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
R = OpenAPIResource

CORE = (
    R("Namespace", "namespaces", False, CRUD, ("status",)),
    R("Pod", "pods", True, CRUD, ("status", "binding", "eviction", "exec")),
    R("Node", "nodes", False, CRUD, ("status",)),
    R("ConfigMap", "configmaps", True, CRUD),
    R("Secret", "secrets", True, CRUD),
    R("ServiceAccount", "serviceaccounts", True, CRUD, ("token",)),
    R("Event", "events", True, CRUD),
    R("Service", "services", True, CRUD, ("status",)),
)
SERVED: dict[tuple[str, str], tuple[OpenAPIResource, ...]] = {
    ("", "v1"): CORE,
    ("coordination.k8s.io", "v1"): (R("Lease", "leases", True, CRUD),),
    ("apps", "v1"): (R("Deployment", "deployments", True, CRUD, ("status", "scale")),),
    ("rbac.authorization.k8s.io", "v1"): (
        R("Role", "roles", True, CRUD),
        R("RoleBinding", "rolebindings", True, CRUD),
        R("ClusterRole", "clusterroles", False, CRUD),
        R("ClusterRoleBinding", "clusterrolebindings", False, CRUD),
    ),
    ("authorization.k8s.io", "v1"): (
        R("SubjectAccessReview", "subjectaccessreviews", False, ("create",)),
        R("LocalSubjectAccessReview", "localsubjectaccessreviews", True, ("create",)),
        R("SelfSubjectAccessReview", "selfsubjectaccessreviews", False, ("create",)),
        R("SelfSubjectRulesReview", "selfsubjectrulesreviews", False, ("create",)),
    ),
    ("authentication.k8s.io", "v1"): (
        R("TokenReview", "tokenreviews", False, ("create",)),
        R("SelfSubjectReview", "selfsubjectreviews", False, ("create",)),
    ),
    ("certificates.k8s.io", "v1"): (
        R(
            "CertificateSigningRequest",
            "certificatesigningrequests",
            False,
            CRUD,
            ("status", "approval"),
        ),
    ),
    ("networking.k8s.io", "v1"): (R("NetworkPolicy", "networkpolicies", True, CRUD),),
}
ALL_RESOURCES = [(g, v, r) for (g, v), rs in SERVED.items() for r in rs]


def _doc(group: str, version: str) -> Mapping[str, Any]:
    return group_version_document(group, version, SERVED[(group, version)])


def _operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                yield path, method, item[method]


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


# -- the catalog ---------------------------------------------------------------------------

REQUIRED_KINDS = (
    [
        ("", "v1", kind)
        for kind in (
            "Namespace",
            "Pod",
            "Node",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "Event",
            "Binding",
            "Service",
            "Status",
            "DeleteOptions",
            "WatchEvent",
        )
    ]
    + [
        ("coordination.k8s.io", "v1", "Lease"),
        ("apps", "v1", "Deployment"),
        ("rbac.authorization.k8s.io", "v1", "Role"),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
        ("authorization.k8s.io", "v1", "SubjectAccessReview"),
        ("authorization.k8s.io", "v1", "LocalSubjectAccessReview"),
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "v1", "SelfSubjectRulesReview"),
        ("authentication.k8s.io", "v1", "TokenReview"),
        ("authentication.k8s.io", "v1", "SelfSubjectReview"),
        ("authentication.k8s.io", "v1", "TokenRequest"),
        ("certificates.k8s.io", "v1", "CertificateSigningRequest"),
        ("networking.k8s.io", "v1", "NetworkPolicy"),
    ]
    + [
        (g, "v1", f"{k}List")
        for g, k in (
            ("", "Namespace"),
            ("", "Pod"),
            ("", "Node"),
            ("", "ConfigMap"),
            ("", "Secret"),
            ("", "ServiceAccount"),
            ("", "Event"),
            ("", "Service"),
            ("coordination.k8s.io", "Lease"),
            ("apps", "Deployment"),
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ("certificates.k8s.io", "CertificateSigningRequest"),
            ("networking.k8s.io", "NetworkPolicy"),
        )
    ]
)


@pytest.mark.parametrize(
    ("group", "version", "kind"),
    REQUIRED_KINDS,
    ids=[f"{g or 'core'}/{k}" for g, _, k in REQUIRED_KINDS],
)
def test_catalog_has_every_required_kind(group: str, version: str, kind: str) -> None:
    name = catalog.schema_name(group, version, kind)
    assert name is not None
    schema = catalog.all_schemas()[name]
    assert schema["type"] == "object"
    expected = {"object", "type"} if kind == "WatchEvent" else {"apiVersion", "kind"}
    assert expected <= set(schema["properties"])


@pytest.mark.parametrize(
    ("group", "kind", "name"),
    [
        ("", "Pod", "io.k8s.api.core.v1.Pod"),
        ("", "Event", "io.k8s.api.core.v1.Event"),
        ("apps", "Deployment", "io.k8s.api.apps.v1.Deployment"),
        (
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            "io.k8s.api.rbac.v1.ClusterRoleBinding",
        ),
        ("authentication.k8s.io", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest"),
        ("", "Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
        ("apps", "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
    ],
    ids=["pod", "core-event", "deployment", "crb", "token-request", "status", "meta-any-group"],
)
def test_catalog_names_schemas_as_kubernetes_does(group: str, kind: str, name: str) -> None:
    assert catalog.schema_name(group, "v1", kind) == name


@pytest.mark.parametrize(
    ("schema", "field", "expected"),
    [
        ("io.k8s.api.core.v1.Container", "name", None),
        (
            "io.k8s.api.core.v1.PodSpec",
            "nodeSelector",
            {"type": "object", "additionalProperties": {"type": "string"}},
        ),
        (
            "io.k8s.api.core.v1.HTTPGetAction",
            "port",
            {
                "allOf": [
                    {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}
                ]
            },
        ),
        (
            "io.k8s.api.core.v1.ResourceRequirements",
            "limits",
            {
                "type": "object",
                "additionalProperties": {
                    "allOf": [
                        {
                            "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
                        }
                    ]
                },
            },
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "creationTimestamp",
            {"type": "string", "format": "date-time"},
        ),
        (
            "io.k8s.api.core.v1.Secret",
            "data",
            {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
        ),
        (
            "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
            "fieldsV1",
            {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            {
                "type": "array",
                "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}]},
                # kubectl apply reads these to merge containers by name (api.patch's table).
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
        ),
    ],
    ids=[
        "string",
        "map",
        "int-or-string",
        "quantity-map",
        "date-time",
        "bytes",
        "free-form",
        "list-of-refs",
    ],
)
def test_catalog_field_shapes(schema: str, field: str, expected: dict[str, Any] | None) -> None:
    got = catalog.all_schemas()[schema]["properties"][field]
    assert got == (expected if expected is not None else {"type": "string"})


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        ("io.k8s.api.core.v1.Container", ["name"]),
        ("io.k8s.api.core.v1.PodSpec", ["containers"]),
        ("io.k8s.api.rbac.v1.PolicyRule", ["verbs"]),
        ("io.k8s.api.rbac.v1.RoleBinding", ["roleRef"]),
    ],
    ids=["container", "podspec", "policyrule", "rolebinding"],
)
def test_catalog_marks_required_fields(schema: str, required: list[str]) -> None:
    assert catalog.all_schemas()[schema]["required"] == required


def test_catalog_carries_no_field_descriptions() -> None:
    for name, schema in catalog.all_schemas().items():
        for field_name, prop in schema.get("properties", {}).items():
            assert "description" not in prop, f"{name}.{field_name}"
        if "description" in schema:
            assert "x-kubernetes-group-version-kind" in schema or name == catalog.PATCH, name


def test_catalog_references_resolve() -> None:
    schemas = catalog.all_schemas()
    for ref in _refs(dict(schemas)):
        assert ref.removeprefix(catalog.REF_PREFIX) in schemas, ref


# -- group-version documents -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "version", "resource"),
    ALL_RESOURCES,
    ids=[f"{g or 'core'}/{r.resource}" for g, _, r in ALL_RESOURCES],
)
def test_every_write_operation_offers_field_validation(
    group: str, version: str, resource: OpenAPIResource
) -> None:
    doc = _doc(group, version)
    kind = {"group": group, "kind": resource.kind, "version": version}
    ops = [
        (p, m, op) for p, m, op in _operations(doc) if op["x-kubernetes-group-version-kind"] == kind
    ]
    assert ops, f"no operation for {kind}"
    if "patch" in resource.verbs:
        assert any(m == "patch" for _, m, _ in ops)
    for path, method, op in ops:
        names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        if method in ("post", "put", "patch"):
            assert {"dryRun", "fieldManager", "fieldValidation"} <= names, (path, method)
        if method == "patch":
            assert "force" in names


def test_namespaced_resource_paths() -> None:
    paths = _doc("rbac.authorization.k8s.io", "v1")["paths"]
    prefix = "/apis/rbac.authorization.k8s.io/v1"
    assert set(paths[f"{prefix}/namespaces/{{namespace}}/roles"]) == {
        "get",
        "post",
        "delete",
        "parameters",
    }
    assert set(paths[f"{prefix}/namespaces/{{namespace}}/roles/{{name}}"]) == {
        "get",
        "put",
        "patch",
        "delete",
        "parameters",
    }
    assert set(paths[f"{prefix}/roles"]) == {"get"}
    assert paths[f"{prefix}/roles"]["get"]["operationId"] == (
        "listRbacAuthorizationV1RoleForAllNamespaces"
    )
    item = paths[f"{prefix}/namespaces/{{namespace}}/roles/{{name}}"]
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace"]
    assert item["patch"]["operationId"] == "patchRbacAuthorizationV1NamespacedRole"
    assert item["patch"]["tags"] == ["rbacAuthorization_v1"]


def test_cluster_scoped_resource_paths() -> None:
    paths = _doc("", "v1")["paths"]
    assert "/api/v1/namespaces/{name}" in paths
    assert "/api/v1/nodes/{name}/status" in paths
    assert not any(p.startswith("/api/v1/namespaces/{namespace}/nodes") for p in paths)
    assert paths["/api/v1/nodes/{name}"]["parameters"][0]["name"] == "name"


def test_list_operation_returns_the_list_kind_and_watches() -> None:
    op = _doc("", "v1")["paths"]["/api/v1/namespaces/{namespace}/pods"]["get"]
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("io.k8s.api.core.v1.PodList")
    assert content["application/json;stream=watch"]["schema"]["$ref"].endswith(".WatchEvent")
    assert op["x-kubernetes-action"] == "list"
    assert op["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}


def test_review_kinds_offer_only_create() -> None:
    paths = _doc("authorization.k8s.io", "v1")["paths"]
    assert set(paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]) == {"post"}
    local = "/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews"
    assert set(paths[local]) == {"post", "parameters"}
    assert not any(p.endswith("{name}") for p in paths)


@pytest.mark.parametrize(
    ("group", "path", "method", "gvk"),
    [
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/binding",
            "post",
            {"group": "", "kind": "Binding", "version": "v1"},
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
            "post",
            {"group": "policy", "kind": "Eviction", "version": "v1"},
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            "post",
            {"group": "authentication.k8s.io", "kind": "TokenRequest", "version": "v1"},
        ),
        (
            "",
            "/api/v1/namespaces/{namespace}/pods/{name}/status",
            "patch",
            {"group": "", "kind": "Pod", "version": "v1"},
        ),
        (
            "apps",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
            "put",
            {"group": "autoscaling", "kind": "Scale", "version": "v1"},
        ),
        (
            "certificates.k8s.io",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval",
            "put",
            {"group": "certificates.k8s.io", "kind": "CertificateSigningRequest", "version": "v1"},
        ),
    ],
    ids=["binding", "eviction", "token", "status", "scale", "approval"],
)
def test_subresources(group: str, path: str, method: str, gvk: dict[str, str]) -> None:
    doc = _doc(group, "v1")
    op = doc["paths"][path][method]
    assert op["x-kubernetes-group-version-kind"] == gvk
    name = catalog.schema_name(gvk["group"], gvk["version"], gvk["kind"])
    assert name in doc["components"]["schemas"]


def test_connect_subresources_are_left_out() -> None:
    assert "/api/v1/namespaces/{namespace}/pods/{name}/exec" not in _doc("", "v1")["paths"]


@pytest.mark.parametrize(("group", "version"), list(SERVED), ids=[g or "core" for g, _ in SERVED])
def test_components_are_exactly_the_closure(group: str, version: str) -> None:
    doc = _doc(group, version)
    components = doc["components"]["schemas"]
    referenced = {r.removeprefix(catalog.REF_PREFIX) for r in _refs(doc["paths"])}
    expected = set(catalog.closure(referenced | set(documents._META_SCHEMAS)))
    assert set(components) == expected
    for ref in _refs(components):
        assert ref.removeprefix(catalog.REF_PREFIX) in components


def test_group_documents_do_not_carry_other_groups_kinds() -> None:
    schemas = _doc("rbac.authorization.k8s.io", "v1")["components"]["schemas"]
    assert "io.k8s.api.rbac.v1.Role" in schemas
    assert "io.k8s.api.core.v1.Pod" not in schemas
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas


def test_a_kind_the_catalog_lacks_publishes_its_own_schema() -> None:
    """Rule 5: custom resources, named as upstream names CRD schemas."""
    own = '{"type": "object", "properties": {"spec": {"type": "object"}}}'
    served = served_document(
        "gizmos.example.org", "v1", (R("Gizmo", "gizmos", True, CRUD, (), own),)
    )
    schemas = served.document["components"]["schemas"]
    gizmo = schemas["org.example.gizmos.v1.Gizmo"]
    assert set(gizmo["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert gizmo["x-kubernetes-group-version-kind"] == [
        {"group": "gizmos.example.org", "kind": "Gizmo", "version": "v1"}
    ]
    assert schemas["org.example.gizmos.v1.GizmoList"]["properties"]["items"]["items"] == {
        "allOf": [{"$ref": "#/components/schemas/org.example.gizmos.v1.Gizmo"}]
    }
    bare = served_document("gizmos.example.org", "v2", (R("Gizmo", "gizmos", True, CRUD),))
    assert bare.document["components"]["schemas"]["org.example.gizmos.v2.Gizmo"][
        "x-kubernetes-preserve-unknown-fields"
    ]


def test_documents_are_cached_and_hashed_deterministically() -> None:
    first = served_document("", "v1", CORE)
    assert served_document("", "v1", list(CORE)) is first
    assert first.hash == document_hash(first.body)
    assert orjson.loads(first.body) == first.document
    documents._build.cache_clear()
    rebuilt = served_document("", "v1", CORE)
    assert rebuilt is not first
    assert rebuilt.hash == first.hash
    assert len(first.hash) == 128 and first.hash == first.hash.upper()


def test_hash_changes_with_the_resources() -> None:
    smaller = served_document("", "v1", CORE[:2])
    assert smaller.hash != served_document("", "v1", CORE).hash


# -- root document ---------------------------------------------------------------------------


def test_root_lists_documents_with_their_hash() -> None:
    built = [served_document(g, v, rs) for (g, v), rs in SERVED.items()]
    root = root_document(built)
    assert list(root) == ["paths"]
    assert list(root["paths"]) == sorted(doc.path for doc in built)
    for doc in built:
        url = root["paths"][doc.path]["serverRelativeURL"]
        assert url == f"/openapi/v3/{doc.path}?hash={doc.hash}"


def test_root_gives_a_bare_path_the_hash_of_the_last_document_served() -> None:
    served_document("", "v1", CORE[:2])
    latest = served_document("", "v1", CORE)
    root = root_document(["api/v1"])
    assert root["paths"]["api/v1"]["serverRelativeURL"] == latest.server_relative_url
    assert latest.server_relative_url.endswith(f"?hash={latest.hash}")


def test_root_without_a_built_document_has_no_hash() -> None:
    # The last documents served are remembered process-wide (a server in another test may have
    # served example.com's): a group nothing serves.
    path = "apis/never-served.kubeward.test/v1"
    root = root_document([path])
    assert root == {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}"}}}


@pytest.mark.parametrize(
    ("group", "version", "path"),
    [
        ("", "v1", "api/v1"),
        ("apps", "v1", "apis/apps/v1"),
        ("rbac.authorization.k8s.io", "v1", "apis/rbac.authorization.k8s.io/v1"),
    ],
    ids=["core", "apps", "rbac"],
)
def test_group_version_paths_round_trip(group: str, version: str, path: str) -> None:
    assert group_version_path(group, version) == path
    assert parse_group_version_path(path) == (group, version)
    assert parse_group_version_path("/" + path + "/") == (group, version)


@pytest.mark.parametrize(
    "path",
    ["", "api", "apis/apps", "apis/apps/v1/pods", "version", "api//"],
    ids=["empty", "api", "group-only", "too-long", "other", "blank-version"],
)
def test_parse_group_version_path_refuses_other_paths(path: str) -> None:
    assert parse_group_version_path(path) is None
