"""The controllers that moved from the API server to the controller-manager (issue 14): each
runs as its own service account, and users see what they saw before.

namespace (deletion of a terminating namespace's contents), serviceaccount, root-ca-cert-publisher,
serviceaccount-token, resourcequota, pv-protection and pvc-protection.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

NS_ACCOUNT = "system:serviceaccount:kube-system:namespace-controller"
SA_ACCOUNT = "system:serviceaccount:kube-system:service-account-controller"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from kubeward.testing import running_cluster

    with running_cluster(data_dir=tmp_path_factory.mktemp("cluster")) as running:
        yield running


def exists(kubectl: Kubectl, *args: str) -> bool:
    return kubectl.run("get", *args, "-o", "name", check=False).returncode == 0


def restore(kubectl: Kubectl, binding: dict[str, Any]) -> None:
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        binding["metadata"].pop(key, None)
    kubectl.run("create", "-f", "-", input=json.dumps(binding))


def test_the_initial_namespaces_are_ready_at_once(kubectl: Kubectl) -> None:
    """running_cluster returns once the default accounts exist: a pod can be created at once."""
    kubectl.run("run", "first", "--image=nginx", "--restart=Never")
    pod = get_json(kubectl, "pod", "first")
    assert pod["spec"]["serviceAccountName"] == "default"
    assert exists(kubectl, "configmap", "kube-root-ca.crt", "-n", "kube-system")


def test_a_new_namespace_gets_its_account_and_ca_and_is_emptied_on_deletion(
    cluster: Any, kubectl: Kubectl
) -> None:
    kubectl.run("create", "namespace", "lifecycle")
    wait_for(lambda: exists(kubectl, "sa", "default", "-n", "lifecycle"), "the default SA")
    wait_for(
        lambda: exists(kubectl, "configmap", "kube-root-ca.crt", "-n", "lifecycle"),
        "kube-root-ca.crt",
    )
    configmap = get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", "lifecycle")
    assert configmap["data"]["ca.crt"] == cluster.ca_file.read_text()
    kubectl.run("create", "configmap", "plain", "-n", "lifecycle", "--from-literal=a=b")
    kubectl.run("create", "secret", "generic", "kept", "-n", "lifecycle", "--from-literal=a=b")
    kubectl.run("delete", "namespace", "lifecycle", "--timeout=60s")
    assert not exists(kubectl, "namespace", "lifecycle")


def test_revoking_the_namespace_controllers_binding_refuses_it_only(
    kubectl: Kubectl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kubeward.controllers")
    name = "system:controller:namespace-controller"
    binding = get_json(kubectl, "clusterrolebinding", name)
    kubectl.run("create", "namespace", "stuck")
    kubectl.run("create", "configmap", "content", "-n", "stuck")
    kubectl.run("delete", "clusterrolebinding", name)
    try:
        kubectl.run("delete", "namespace", "stuck", "--wait=false")

        def refusal_logged() -> Any:
            return (
                any(f'User "{NS_ACCOUNT}" cannot' in r.getMessage() for r in caplog.records) or None
            )

        wait_for(refusal_logged, "the namespace controller's 403 in its log")
        # Its contents stay, and so does the namespace ...
        assert exists(kubectl, "configmap", "content", "-n", "stuck")
        assert get_json(kubectl, "namespace", "stuck")["status"]["phase"] == "Terminating"
        # ... while the other controllers, each with its own binding, still work.
        kubectl.run("create", "namespace", "unaffected")
        wait_for(lambda: exists(kubectl, "sa", "default", "-n", "unaffected"), "the default SA")
        others = [
            r.getMessage()
            for r in caplog.records
            if "forbidden" in r.getMessage() and NS_ACCOUNT not in r.getMessage()
        ]
        assert others == [], "no other controller was refused"
    finally:
        restore(kubectl, binding)
    # The binding back, the controller's retries finish the deletion.
    wait_for(lambda: not exists(kubectl, "namespace", "stuck"), "the namespace to go")


def test_revoking_the_service_account_controllers_binding_leaves_the_ca_publisher(
    kubectl: Kubectl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kubeward.controllers")
    name = "system:controller:service-account-controller"
    binding = get_json(kubectl, "clusterrolebinding", name)
    kubectl.run("delete", "clusterrolebinding", name)
    try:
        kubectl.run("create", "namespace", "no-account")
        wait_for(
            lambda: exists(kubectl, "configmap", "kube-root-ca.crt", "-n", "no-account"),
            "kube-root-ca.crt, from its own identity",
        )
        wait_for(
            lambda: (
                any(
                    f'User "{SA_ACCOUNT}" cannot create resource "serviceaccounts"'
                    in r.getMessage()
                    for r in caplog.records
                )
                or None
            ),
            "the serviceaccount controller's 403",
        )
        assert not exists(kubectl, "sa", "default", "-n", "no-account")
    finally:
        restore(kubectl, binding)
    wait_for(lambda: exists(kubectl, "sa", "default", "-n", "no-account"), "the default SA")


def test_a_quota_tracks_usage_down_as_well_as_up(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "quota")
    kubectl.run("create", "quota", "maps", "-n", "quota", "--hard=count/configmaps=5")

    def used() -> str | None:
        quota = get_json(kubectl, "resourcequota", "maps", "-n", "quota")
        return ((quota.get("status") or {}).get("used") or {}).get("count/configmaps")

    # kube-root-ca.crt is counted once the controller recalculates.
    wait_for(lambda: used() == "1" or None, "usage counted by the controller")
    kubectl.run("create", "configmap", "extra", "-n", "quota")
    wait_for(lambda: used() == "2" or None, "usage raised")
    kubectl.run("delete", "configmap", "extra", "-n", "quota")
    wait_for(lambda: used() == "1" or None, "usage back down after the delete")


def test_protected_claims_and_volumes_go_once_unused(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "storage")
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "storage"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "moved-pv"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/moved-pv"},
        },
    }
    for obj in (claim, volume):
        kubectl.run("create", "-f", "-", input=json.dumps(obj))
    assert get_json(kubectl, "pvc", "data", "-n", "storage")["metadata"]["finalizers"] == [
        "kubernetes.io/pvc-protection"
    ]
    assert get_json(kubectl, "pv", "moved-pv")["metadata"]["finalizers"] == [
        "kubernetes.io/pv-protection"
    ]
    kubectl.run("delete", "pvc", "data", "-n", "storage", "--timeout=60s")
    kubectl.run("delete", "pv", "moved-pv", "--timeout=60s")
    assert not exists(kubectl, "pvc", "data", "-n", "storage")
    assert not exists(kubectl, "pv", "moved-pv")


def test_a_legacy_token_secret_is_filled_and_authenticates(
    cluster: Any, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("create", "namespace", "legacy")
    kubectl.run("create", "serviceaccount", "bot", "-n", "legacy")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "bot-token",
            "namespace": "legacy",
            "annotations": {"kubernetes.io/service-account.name": "bot"},
        },
        "type": "kubernetes.io/service-account-token",
    }
    kubectl.run("create", "-f", "-", input=json.dumps(secret))

    def filled() -> Any:
        data = get_json(kubectl, "secret", "bot-token", "-n", "legacy").get("data") or {}
        return data if data.get("token") else None

    data = wait_for(filled, "the token controller to fill the Secret")
    assert base64.b64decode(data["ca.crt"]).decode() == cluster.ca_file.read_text()
    token = base64.b64decode(data["token"]).decode()
    empty = tmp_path / "empty.conf"  # so that only the flags' credential is used
    empty.write_text("apiVersion: v1\nkind: Config\n")
    result = subprocess.run(
        [
            "kubectl",
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
            f"--server={cluster.url}",
            f"--certificate-authority={cluster.ca_file}",
            f"--token={token}",
            f"--kubeconfig={empty}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == "system:serviceaccount:legacy:bot", result.stderr
