"""Server-side apply on a custom resource with a structural schema, with the real kubectl.

The CRD's schema says how lists merge (``x-kubernetes-list-type: map`` keyed by ``name``,
``set``, and an atomic list by default); ownership, conflicts and pruning follow it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.ssa.example"},
    "spec": {
        "group": "ssa.example",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "ports": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string"},
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
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"ready": {"type": "boolean"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "ssa.example/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("ssa-crd")
    with running_cluster(data_dir=data_dir, controller_manager=False) as running:
        yield running


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))
    path = tmp_path_factory.mktemp("crd") / "crd.yaml"
    path.write_text(yaml.safe_dump(CRD))
    kubectl.run("apply", "--server-side", "-f", str(path))
    deadline = time.monotonic() + 30
    while kubectl.run("get", "widgets", check=False).returncode != 0:
        assert time.monotonic() < deadline, "the Widget kind was never served"
        time.sleep(0.1)
    return kubectl


def _apply(kubectl: Kubectl, tmp_path: Path, doc: dict[str, Any], *flags: str, check: bool = True):  # type: ignore[no-untyped-def]
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(doc))
    return kubectl.run("apply", "--server-side", *flags, "-f", str(path), check=check)


def _get(kubectl: Kubectl) -> dict[str, Any]:
    out = kubectl.run("get", "widget", "w", "-o", "json", "--show-managed-fields").stdout
    obj: dict[str, Any] = json.loads(out)
    return obj


def test_lists_merge_by_their_schema_and_owners_conflict(kubectl: Kubectl, tmp_path: Path) -> None:
    first = widget(size=1, ports=[{"name": "http", "port": 80}], tags=["a"], args=["--x"])
    _apply(kubectl, tmp_path, first)
    second = widget(ports=[{"name": "metrics", "port": 9090}], tags=["b"])
    _apply(kubectl, tmp_path, second, "--field-manager=sidecar")
    obj = _get(kubectl)
    assert obj["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]
    assert obj["spec"]["tags"] == ["a", "b"]
    managed = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
    assert managed["sidecar"] == {
        "f:spec": {
            "f:ports": {'k:{"name":"metrics"}': {".": {}, "f:name": {}, "f:port": {}}},
            "f:tags": {'v:"b"': {}},
        }
    }
    assert managed["kubectl"]["f:spec"]["f:args"] == {}  # an atomic list is owned whole
    # The sidecar changing the port kubectl owns conflicts; an atomic list too.
    clash = widget(ports=[{"name": "http", "port": 8080}], args=["--y"])
    refused = _apply(kubectl, tmp_path, clash, "--field-manager=sidecar", check=False)
    assert refused.returncode == 1
    assert "Apply failed with 2 conflicts" in refused.stderr
    assert '.spec.ports[name="http"].port' in refused.stderr
    assert ".spec.args" in refused.stderr
    # kubectl stops applying its port: it goes; the sidecar's stays.
    _apply(kubectl, tmp_path, widget(size=1, tags=["a"], args=["--x"]))
    obj = _get(kubectl)
    assert obj["spec"]["ports"] == [{"name": "metrics", "port": 9090}]


def test_status_writes_record_their_subresource(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run(
        "patch", "widget", "w", "--subresource=status", "--type=merge",
        "-p", '{"status": {"ready": true}}', "--field-manager=operator",
    )  # fmt: skip
    obj = _get(kubectl)
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == "operator")
    assert entry["operation"] == "Update"
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {".": {}, "f:ready": {}}}
    # Status sent to the main resource is reset, and no one owns it from there.
    _apply(
        kubectl, tmp_path, {**widget(size=1, tags=["a"], args=["--x"]), "status": {"ready": False}}
    )
    obj = _get(kubectl)
    assert obj["status"] == {"ready": True}
    kubectl_entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == "kubectl")
    assert "f:status" not in kubectl_entry["fieldsV1"]


def test_status_applied_through_its_subresource(kubectl: Kubectl, tmp_path: Path) -> None:
    doc = {**widget(), "status": {"ready": False}}
    del doc["spec"]
    flags = ("--subresource=status", "--field-manager=status-owner")
    refused = _apply(kubectl, tmp_path, doc, *flags, check=False)
    assert (
        'conflict with "operator" with subresource "status" using ssa.example/v1: .status.ready'
        in refused.stderr
    )
    _apply(kubectl, tmp_path, doc, *flags, "--force-conflicts")
    obj = _get(kubectl)
    assert obj["status"] == {"ready": False}
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == "status-owner")
    assert (entry["operation"], entry["subresource"]) == ("Apply", "status")
    assert entry["fieldsV1"] == {"f:status": {"f:ready": {}}}
    assert obj["spec"]["size"] == 1  # the main resource's fields are untouched
