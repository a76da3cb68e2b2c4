"""Custom resources and deletion, driven by events: a namespace and a definition each wait for
objects held by finalizers and finish when those go (the informers bring them back; nothing
polls)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

HOLD = "example.org/hold"


def definition(plural: str, kind: str, group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "string"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def instance(group: str, kind: str, name: str, namespace: str, *, held: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if held:
        meta["finalizers"] = [HOLD]
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": meta, "spec": {"size": "s"}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # Of the controller-manager, only the namespace controller: it empties a deleted namespace.
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("crd-events"), controllers=("namespace",)
    ) as running:
        yield running


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def apply(kubectl: Kubectl, *docs: dict[str, Any]) -> None:
    kubectl.run("apply", "-f", "-", input=yaml.safe_dump_all(docs))


def exists(kubectl: Kubectl, *args: str) -> bool:
    return kubectl.run("get", *args, check=False).returncode == 0


def established(kubectl: Kubectl, name: str) -> bool:
    out = kubectl.run("get", "crd", name, "-o", "json", check=False)
    if out.returncode != 0:
        return False
    conditions = json.loads(out.stdout).get("status", {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def test_a_namespace_with_custom_objects_finishes_when_the_last_one_goes(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path)
    apply(kubectl, definition("widgets", "Widget", "example.org"))
    assert eventually(lambda: established(kubectl, "widgets.example.org"))
    kubectl.run("create", "namespace", "crs")
    apply(
        kubectl,
        instance("example.org", "Widget", "plain", "crs", held=False),
        instance("example.org", "Widget", "held", "crs", held=True),
    )
    kubectl.run("delete", "namespace", "crs", "--wait=false")
    assert eventually(lambda: not exists(kubectl, "widget", "plain", "-n", "crs"))
    held = json.loads(kubectl.run("get", "widget", "held", "-n", "crs", "-o", "json").stdout)
    assert held["metadata"].get("deletionTimestamp")
    namespace = json.loads(kubectl.run("get", "namespace", "crs", "-o", "json").stdout)
    assert namespace["status"]["phase"] == "Terminating"
    kubectl.run(
        "patch", "widget", "held", "-n", "crs", "--type=merge",
        "-p", '{"metadata":{"finalizers":null}}',
    )  # fmt: skip
    assert eventually(lambda: not exists(kubectl, "namespace", "crs"))


def test_a_definition_waits_for_its_held_objects_and_goes_with_the_last(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path)
    apply(kubectl, definition("gizmos", "Gizmo", "example.net"))
    assert eventually(lambda: established(kubectl, "gizmos.example.net"))
    apply(kubectl, instance("example.net", "Gizmo", "held", "default", held=True))
    kubectl.run("delete", "crd", "gizmos.example.net", "--wait=false")
    assert eventually(
        lambda: (
            "Terminating" in kubectl.run("get", "crd", "gizmos.example.net", "-o", "json").stdout
        )
    )
    assert exists(kubectl, "gizmo", "held", "-n", "default")
    kubectl.run(
        "patch", "gizmo", "held", "-n", "default", "--type=merge",
        "-p", '{"metadata":{"finalizers":null}}',
    )  # fmt: skip
    assert eventually(lambda: not exists(kubectl, "crd", "gizmos.example.net"))
    assert "example.net/v1" not in kubectl.run("api-versions").stdout.split()
