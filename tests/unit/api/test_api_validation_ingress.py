"""networking.k8s.io/v1 Ingress and IngressClass validation as upstream's
(pkg/apis/networking/validation/validation_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.validation.ingress import (
    validate_ingress,
    validate_ingress_class,
    validate_ingress_class_update,
)


def _backend(name: str = "web", **port: Any) -> dict[str, Any]:
    return {"service": {"name": name, "port": port or {"number": 80}}}


def _ingress(path: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    entry = {"path": "/app", "pathType": "Prefix", "backend": _backend(), **(path or {})}
    return {
        "metadata": {"name": "ing"},
        "spec": {"rules": [{"host": "foo.example.com", "http": {"paths": [entry]}}], **spec},
    }


def test_valid_ingresses() -> None:
    assert validate_ingress(_ingress()) == []
    assert validate_ingress({"spec": {"defaultBackend": _backend()}}) == []
    assert (
        validate_ingress(_ingress(ingressClassName="nginx", tls=[{"hosts": ["*.foo.com"]}])) == []
    )
    assert validate_ingress(_ingress({"pathType": "ImplementationSpecific", "path": ""})) == []
    named = _ingress({"backend": {"service": {"name": "web", "port": {"name": "http"}}}})
    assert validate_ingress(named) == []


P = "spec.rules[0].http.paths[0]"
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "no pathType",
        {"pathType": None},
        f"{P}.pathType",
        "Required value: pathType must be specified",
    ),
    (
        "unknown pathType",
        {"pathType": "Regex"},
        f"{P}.pathType",
        'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ),
    (
        "relative path",
        {"path": "app"},
        f"{P}.path",
        'Invalid value: "app": must be an absolute path',
    ),
    (
        "double slash",
        {"path": "/a//b"},
        f"{P}.path",
        "Invalid value: \"/a//b\": must not contain '//'",
    ),
    ("dot suffix", {"path": "/a/."}, f"{P}.path", "Invalid value: \"/a/.\": cannot end with '/.'"),
    (
        "both backends",
        {"backend": {**_backend(), "resource": {"kind": "Bucket", "name": "b"}}},
        f"{P}.backend",
        'Invalid value: "": cannot set both resource and service backends',
    ),
    (
        "no backend kind",
        {"backend": {}},
        f"{P}.backend",
        'Invalid value: "": resource or service backend is required',
    ),
    (
        "no port",
        {"backend": {"service": {"name": "web", "port": {}}}},
        f"{P}.backend",
        "Required value: port name or number is required",
    ),
    (
        "both ports",
        {"backend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}},
        f"{P}.backend",
        'Invalid value: "": cannot set both port name & port number',
    ),
    (
        "port out of range",
        {"backend": _backend(number=70000)},
        f"{P}.backend.service.port.number",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
    (
        "bad service name",
        {"backend": _backend(name="1web")},
        f"{P}.backend.service.name",
        'Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric '
        "characters or '-', start with an alphabetic character, and end with an alphanumeric "
        "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
        "'[a-z]([-a-z0-9]*[a-z0-9])?')",
    ),
]


@pytest.mark.parametrize(
    ("path", "field", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_ingress_path_validation(path: dict[str, Any], field: str, message: str) -> None:
    obj = _ingress(path)
    entry = obj["spec"]["rules"][0]["http"]["paths"][0]
    for key in [k for k, v in entry.items() if v is None]:
        del entry[key]
    causes = validate_ingress(obj)
    assert (field, message) in [(c.field, c.message) for c in causes], causes


def test_ingress_spec_level_rules() -> None:
    causes = validate_ingress({"spec": {}})
    assert [(c.field, c.message) for c in causes] == [
        ("spec", "Invalid value: []: either `defaultBackend` or `rules` must be specified")
    ]
    ip_host = _ingress()
    ip_host["spec"]["rules"][0]["host"] = "10.0.0.1"
    assert [(c.field, c.message) for c in validate_ingress(ip_host)] == [
        ("spec.rules[0].host", 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address')
    ]
    no_paths = _ingress()
    no_paths["spec"]["rules"][0]["http"]["paths"] = []
    assert [c.field for c in validate_ingress(no_paths)] == ["spec.rules[0].http.paths"]


def test_ingress_class() -> None:
    good = {
        "spec": {
            "controller": "example.com/ingress",
            "parameters": {"kind": "Config", "name": "c", "scope": "Namespace", "namespace": "ns"},
        }
    }
    assert validate_ingress_class(good) == []
    assert [c.field for c in validate_ingress_class({"spec": {}})] == ["spec.controller"]
    cluster_with_ns = {
        "spec": {
            "controller": "example.com/x",
            "parameters": {"kind": "Config", "name": "c", "scope": "Cluster", "namespace": "ns"},
        }
    }
    assert [c.field for c in validate_ingress_class(cluster_with_ns)] == [
        "spec.parameters.namespace"
    ]
    moved = {"spec": {"controller": "example.com/other"}}
    assert [c.field for c in validate_ingress_class_update(moved, good)] == ["spec.controller"]
