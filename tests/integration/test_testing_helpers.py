"""kubeward.testing as an operator author uses it: assert a ClusterRole allows exactly what the code needs."""

from __future__ import annotations

import json
import subprocess

import yaml

OPERATOR_RBAC = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}},
    {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "widget-operator", "namespace": "ops"},
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "widget-operator"},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "verbs": ["get", "list", "watch", "update"],
            },
            {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]},
        ],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "widget-operator"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "widget-operator",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "widget-operator", "namespace": "ops"}],
    },
]

SA = "system:serviceaccount:ops:widget-operator"


def test_cluster_role_allows_exactly_what_the_operator_needs(kubeward_cluster, tmp_path):
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(yaml.safe_dump_all(OPERATOR_RBAC))
    env = {
        "HOME": str(tmp_path),
        "KUBECONFIG": str(kubeward_cluster.admin_kubeconfig),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        ["kubectl", "apply", "-f", str(manifest)], check=True, capture_output=True, env=env
    )

    import time

    deadline = time.monotonic() + 10
    while (
        not kubeward_cluster.can(SA, "list", "configmaps", namespace="default")
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)  # the RBAC index follows the write through a watch
    assert kubeward_cluster.can(SA, "list", "configmaps", namespace="default")
    assert kubeward_cluster.can(SA, "update", "configmaps", namespace="ops", name="settings")
    assert kubeward_cluster.can(
        SA, "patch", "deployments", api_group="apps", namespace="ops", subresource="scale"
    )
    assert not kubeward_cluster.can(SA, "delete", "configmaps", namespace="default")
    assert not kubeward_cluster.can(SA, "patch", "deployments", api_group="apps", namespace="ops")
    assert not kubeward_cluster.can(SA, "get", "secrets", namespace="ops")

    # The same identity, as a real client: allowed and refused where can() said so.
    operator = kubeward_cluster.kubeconfig_for_service_account("ops", "widget-operator")
    env["KUBECONFIG"] = str(operator)
    listed = subprocess.run(
        ["kubectl", "get", "configmaps", "-A", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["kind"] == "List"
    refused = subprocess.run(
        ["kubectl", "get", "secrets", "-n", "ops"], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 1
    assert f'User "{SA}" cannot list resource "secrets"' in refused.stderr
