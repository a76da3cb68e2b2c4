import pytest

from kubeward.api.request_info import parse_request_info

CASES = [
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "v1", "default", "pods", "", "")),
    (
        "GET",
        "/api/v1/namespaces/default/pods/web",
        {},
        ("get", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "true"},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "True"},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/watch/namespaces/default/pods",
        {},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    (
        "POST",
        "/api/v1/namespaces/default/pods",
        {},
        ("create", "", "v1", "default", "pods", "", ""),
    ),
    (
        "PUT",
        "/api/v1/namespaces/default/pods/web/status",
        {},
        ("update", "", "v1", "default", "pods", "status", "web"),
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/ns1/deployments/d",
        {},
        ("patch", "apps", "v1", "ns1", "deployments", "", "d"),
    ),
    (
        "DELETE",
        "/api/v1/namespaces/default/pods/web",
        {},
        ("delete", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "DELETE",
        "/api/v1/namespaces/default/pods",
        {},
        ("deletecollection", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/kube-system",
        {},
        ("get", "", "v1", "kube-system", "namespaces", "", "kube-system"),
    ),
    ("GET", "/api/v1/namespaces", {}, ("list", "", "v1", "", "namespaces", "", "")),
    (
        "PUT",
        "/api/v1/namespaces/ns1/finalize",
        {},
        ("update", "", "v1", "ns1", "namespaces", "finalize", "ns1"),
    ),
    ("GET", "/api/v1/nodes/n1", {}, ("get", "", "v1", "", "nodes", "", "n1")),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "metadata.name=web"},
        ("list", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "metadata.name==web", "watch": "1"},
        ("watch", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "metadata.name!=web"},
        ("list", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "status.phase=Running,metadata.name=a,metadata.name=b"},
        ("list", "", "v1", "default", "pods", "", "a"),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "metadata.name=.."},
        ("list", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"fieldSelector": "metadata.name=web,broken"},
        ("list", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "yes"},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "false"},
        ("list", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods/web",
        {"watch": "true"},
        ("get", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "GET",
        "/api/v1/watch/namespaces/default/pods/web",
        {"fieldSelector": "metadata.name=other"},
        ("watch", "", "v1", "default", "pods", "", "web"),
    ),
    (
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {},
        ("create", "authorization.k8s.io", "v1", "", "selfsubjectaccessreviews", "", ""),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "want"), CASES, ids=[f"{c[0]} {c[1]} {c[2]}" for c in CASES]
)
def test_resource_requests_are_classified_as_kubernetes_does(method, path, query, want):
    info = parse_request_info(method, path, query)
    assert info.is_resource_request
    got = (
        info.verb,
        info.api_group,
        info.api_version,
        info.namespace,
        info.resource,
        info.subresource,
        info.name,
    )
    assert got == want


@pytest.mark.parametrize(
    "path", ["/version", "/healthz", "/api", "/apis", "/apis/apps", "/openapi/v3", "/apis/apps/v1"]
)
def test_non_resource_requests_use_the_lowercased_method(path):
    info = parse_request_info("GET", path, {})
    assert not info.is_resource_request
    assert info.verb == "get"
    assert info.path == path
