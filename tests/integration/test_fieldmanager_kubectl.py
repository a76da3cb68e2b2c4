"""Server-side apply and managedFields with the real kubectl 1.32 (real TLS, real SQLite).

The expected ``managedFields`` are those of Kubernetes' documented "Server-Side Apply" examples
(kubernetes.io/docs/reference/using-api/server-side-apply): the ConfigMap shared by ``kubectl``
(Apply) and ``kube-controller-manager`` (Update), and the Deployment whose ``replicas`` is
handed over from ``kubectl`` to another manager.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl

CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
    "data": {"key": "some value"},
}

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]},
        },
    },
}


def _write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _managed(kubectl: Kubectl, *target: str) -> dict[tuple[str, str], dict[str, Any]]:
    out = kubectl.run("get", *target, "-o", "json", "--show-managed-fields").stdout
    entries = json.loads(out)["metadata"]["managedFields"]
    return {(e["manager"], e["operation"]): e for e in entries}


def test_the_documented_configmap_example(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _write(tmp_path / "cm.yaml", CONFIGMAP)
    kubectl.run("apply", "--server-side", "-f", path)
    kubectl.run(
        "patch", "configmap", "test-cm", "--type=merge", "--field-manager=kube-controller-manager",
        "-p", '{"data": {"key": "new value"}}',
    )  # fmt: skip
    managed = _managed(kubectl, "configmap", "test-cm")
    expected = {
        ("kubectl", "Apply"): {"f:metadata": {"f:labels": {"f:test-label": {}}}},
        ("kube-controller-manager", "Update"): {"f:data": {"f:key": {}}},
    }
    assert {k: v["fieldsV1"] for k, v in managed.items()} == expected
    for entry in managed.values():
        assert entry["apiVersion"] == "v1"
        assert entry["fieldsType"] == "FieldsV1"
        assert entry["time"].endswith("Z")
    # Applying the old value again conflicts with the controller's ownership of data.key.
    refused = kubectl.run("apply", "--server-side", "-f", path, check=False)
    assert refused.returncode == 1
    assert (
        'Apply failed with 1 conflict: conflict with "kube-controller-manager" using v1: .data.key'
        in refused.stderr
    )
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", path)
    managed = _managed(kubectl, "configmap", "test-cm")
    assert list(managed) == [("kubectl", "Apply")]
    assert managed["kubectl", "Apply"]["fieldsV1"] == {
        "f:data": {"f:key": {}},
        "f:metadata": {"f:labels": {"f:test-label": {}}},
    }
    shown = json.loads(kubectl.run("get", "configmap", "test-cm", "-o", "json").stdout)
    assert shown["data"] == {"key": "some value"}
    assert "managedFields" not in shown["metadata"]  # kubectl hides them unless asked


def test_the_documented_replicas_hand_over(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _write(tmp_path / "deploy.yaml", DEPLOYMENT)
    kubectl.run("apply", "--server-side", "-f", path)
    # Another manager applying a different replicas count conflicts with kubectl.
    other: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-deployment"},
        "spec": {"replicas": 5},
    }
    refused = kubectl.run(
        "apply", "--server-side", "--field-manager=handover-to-hpa", "--validate=false",
        "-f", _write(tmp_path / "other.yaml", other), check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in refused.stderr
    # The hand-over: the new manager applies the same value (shared), kubectl drops the field.
    other["spec"] = {"replicas": 3}
    kubectl.run(
        "apply", "--server-side", "--field-manager=handover-to-hpa", "--validate=false",
        "-f", _write(tmp_path / "replicas.yaml", other),
    )  # fmt: skip
    mine = json.loads(json.dumps(DEPLOYMENT))
    del mine["spec"]["replicas"]
    kubectl.run("apply", "--server-side", "-f", _write(tmp_path / "deploy.yaml", mine))
    managed = _managed(kubectl, "deployment", "nginx-deployment")
    assert managed["handover-to-hpa", "Apply"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert managed["kubectl", "Apply"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}}
                },
            },
        },
    }
    shown = json.loads(kubectl.run("get", "deployment", "nginx-deployment", "-o", "json").stdout)
    assert shown["spec"]["replicas"] == 3  # still owned by handover-to-hpa: not removed


def test_a_field_dropped_from_the_applied_file_is_removed(kubectl: Kubectl, tmp_path: Path) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "pruned", "labels": {"keep": "yes", "drop": "yes"}},
        "data": {"a": "1", "b": "2"},
    }
    path = tmp_path / "pruned.yaml"
    kubectl.run("apply", "--server-side", "-f", _write(path, doc))
    del doc["data"]["b"]
    del doc["metadata"]["labels"]["drop"]
    kubectl.run("apply", "--server-side", "-f", _write(path, doc))
    shown = json.loads(kubectl.run("get", "configmap", "pruned", "-o", "json").stdout)
    assert shown["data"] == {"a": "1"}
    assert shown["metadata"]["labels"] == {"keep": "yes"}


def test_kubectls_own_managers_are_recorded(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("create", "configmap", "made", "--from-literal=k=v")
    kubectl.run("label", "configmap", "made", "team=a")
    doc = json.loads(kubectl.run("get", "configmap", "made", "-o", "json").stdout)
    doc["data"]["k2"] = "v2"
    kubectl.run("apply", "-f", _write(tmp_path / "made.yaml", doc))  # client-side apply
    managed = _managed(kubectl, "configmap", "made")
    assert managed["kubectl-create", "Update"]["fieldsV1"] == {"f:data": {".": {}, "f:k": {}}}
    assert managed["kubectl-label", "Update"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:team": {}}}
    }
    client_side = managed["kubectl-client-side-apply", "Update"]["fieldsV1"]
    assert client_side["f:data"] == {"f:k2": {}}


def test_the_python_client_applies_and_needs_a_field_manager(cluster: Any) -> None:
    import kubernetes

    core = kubernetes.client.CoreV1Api(
        kubernetes.config.new_client_from_config(str(cluster.admin_kubeconfig))
    )
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"a": "1"}}
    with pytest.raises(kubernetes.client.ApiException) as caught:
        core.patch_namespaced_config_map(
            "py", "default", body, _content_type="application/apply-patch+yaml"
        )
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )
    created = core.patch_namespaced_config_map(
        "py",
        "default",
        body,
        field_manager="operator",
        _content_type="application/apply-patch+yaml",
    )
    assert created.data == {"a": "1"}
    entry = created.metadata.managed_fields[0]
    assert (entry.manager, entry.operation, entry.fields_v1) == (
        "operator",
        "Apply",
        {"f:data": {"f:a": {}}},
    )
    with pytest.raises(kubernetes.client.ApiException) as caught:
        core.patch_namespaced_config_map(
            "py", "default", {**body, "data": {"a": "2"}}, field_manager="rival",
            _content_type="application/apply-patch+yaml",
        )  # fmt: skip
    assert caught.value.status == 409
    status = json.loads(caught.value.body)
    with pytest.raises(kubernetes.client.ApiException) as refused:
        core.patch_namespaced_config_map("py", "default", {"data": {"b": "2"}}, force=True)
    assert refused.value.status == 422
    assert json.loads(refused.value.body)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
        "may not be specified for non-apply patch"
    )
    assert status["reason"] == "Conflict"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "operator"',
            "field": ".data.a",
        }
    ]


def test_edit_and_scale_record_their_managers(
    kubectl: Kubectl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl.run("create", "configmap", "edited", "--from-literal=k=before")
    monkeypatch.setenv("KUBE_EDITOR", "sed -i s/before/after/")
    kubectl.run("edit", "configmap", "edited")
    managed = _managed(kubectl, "configmap", "edited")
    assert managed["kubectl-edit", "Update"]["fieldsV1"] == {"f:data": {"f:k": {}}}
    assert managed["kubectl-create", "Update"]["fieldsV1"] == {"f:data": {}}  # the map alone
    scaled = {**DEPLOYMENT, "metadata": {"name": "scaled", "labels": {"app": "nginx"}}}
    kubectl.run("apply", "--server-side", "-f", _write(tmp_path / "scaled.yaml", scaled))
    kubectl.run("scale", "deployment", "scaled", "--replicas=4")
    out = kubectl.run("get", "deployment", "scaled", "-o", "json", "--show-managed-fields").stdout
    entries = json.loads(out)["metadata"]["managedFields"]
    scale = next(e for e in entries if e.get("subresource") == "scale")
    assert (scale["manager"], scale["operation"], scale["apiVersion"]) == (
        "kubectl",
        "Update",
        "apps/v1",
    )
    assert scale["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    applier = next(e for e in entries if e["operation"] == "Apply")
    assert "f:replicas" not in applier["fieldsV1"]["f:spec"]  # taken by the scale
