"""Each controller is its own service account (``--use-service-account-credentials``), authorized
by its bootstrap ``system:controller:*`` role only (issue 14)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from kubectl_runner import Kubectl
from workloads import get_json, wait_for

RS_ACCOUNT = "system:serviceaccount:kube-system:replicaset-controller"


def test_the_manager_creates_one_service_account_per_controller(kubectl: Kubectl) -> None:
    def accounts() -> Any:
        names = {
            sa["metadata"]["name"] for sa in get_json(kubectl, "sa", "-n", "kube-system")["items"]
        }
        wanted = {
            "certificate-controller",
            "deployment-controller",
            "generic-garbage-collector",
            "replicaset-controller",
        }
        return names >= wanted or None

    wait_for(accounts, "the controllers' service accounts")


def test_who_can_create_pods_lists_the_replicaset_controller(cluster: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kubeward", "rbac", "who-can", "create", "pods"],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(cluster.admin_kubeconfig)},
        timeout=60,
        check=True,
    )
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [
        "ServiceAccount",
        "kube-system/replicaset-controller",
        "ClusterRoleBinding/system:controller:replicaset-controller",
        "ClusterRole/system:controller:replicaset-controller",
    ] in rows


def test_revoking_one_controllers_binding_refuses_that_controller_only(
    cluster: Any, kubectl: Kubectl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kubeward.controllers")
    binding = get_json(kubectl, "clusterrolebinding", "system:controller:replicaset-controller")
    kubectl.run("delete", "clusterrolebinding", "system:controller:replicaset-controller")
    kubectl.run("create", "deployment", "refused", "--image=nginx", "--replicas=2")

    def refusal_logged() -> Any:
        return any(
            f'User "{RS_ACCOUNT}" cannot create resource "pods"' in r.getMessage()
            for r in caplog.records
        )

    # The deployment controller (its own account, still bound) created the ReplicaSet and
    # stamped its revision; the replicaset controller was refused creating pods (and writing
    # the ReplicaSet's status), and its log says who it was.
    wait_for(refusal_logged, "the replicaset controller's 403 in its log")
    (rs,) = get_json(kubectl, "rs", "-l", "app=refused")["items"]
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert not get_json(kubectl, "pods", "-l", "app=refused")["items"]
    d = get_json(kubectl, "deployment", "refused")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    others = [
        r.getMessage()
        for r in caplog.records
        if "forbidden" in r.getMessage() and RS_ACCOUNT not in r.getMessage()
    ]
    assert others == [], "no other controller was refused"

    # Restoring the binding is noticed by the controller's retries.
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        binding["metadata"].pop(key, None)
    kubectl.run("create", "-f", "-", input=json.dumps(binding))
    wait_for(
        lambda: len(get_json(kubectl, "pods", "-l", "app=refused")["items"]) == 2 or None,
        "pods once the binding is back",
    )
