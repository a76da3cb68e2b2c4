"""The garbage collector follows custom resources it discovers after it started (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

from kubeward.controllers import garbagecollector
from kubeward.testing import running_cluster

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.gctest.kubeward.io"},
    "spec": {
        "group": "gctest.kubeward.io",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kubectl]:
    monkeypatch.setattr(garbagecollector, "DISCOVERY_PERIOD", 0.2)
    with running_cluster(data_dir=tmp_path / "cluster") as cluster:
        home = tmp_path / "home"
        home.mkdir()
        yield Kubectl(cluster.admin_kubeconfig, home)


def owned_by(owner: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
        }
    ]


def test_custom_resources_are_collected_and_collect_their_dependents(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", input=json.dumps(CRD))
    wait_for(
        lambda: kubectl.run("get", "widgets", check=False).returncode == 0 or None,
        "the widgets kind to be served",
    )
    kubectl.run("create", "configmap", "owner")
    owner = get_json(kubectl, "configmap", "owner")
    widget = {
        "apiVersion": "gctest.kubeward.io/v1",
        "kind": "Widget",
        "metadata": {"name": "dependent", "ownerReferences": owned_by(owner)},
    }
    kubectl.run("create", "-f", "-", input=json.dumps(widget))
    parent = {
        "apiVersion": "gctest.kubeward.io/v1",
        "kind": "Widget",
        "metadata": {"name": "parent"},
    }
    kubectl.run("create", "-f", "-", input=json.dumps(parent))
    parent = get_json(kubectl, "widget", "parent")
    child = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "child", "ownerReferences": owned_by(parent)},
    }
    kubectl.run("create", "-f", "-", input=json.dumps(child))

    # A widget whose owner goes is collected; so is a ConfigMap whose owner widget goes.
    kubectl.run("delete", "configmap", "owner")
    kubectl.run("delete", "widget", "parent")
    wait_for(
        lambda: kubectl.run("get", "widget", "dependent", check=False).returncode != 0 or None,
        "the dependent widget to be collected",
    )
    wait_for(
        lambda: kubectl.run("get", "configmap", "child", check=False).returncode != 0 or None,
        "the widget's configmap to be collected",
    )
