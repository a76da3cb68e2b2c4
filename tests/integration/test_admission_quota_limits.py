"""LimitRanger, ResourceQuota, DefaultTolerationSeconds, StorageObjectInUseProtection and
AlwaysPullImages with the real kubectl, refusals worded as kube-apiserver words them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with running_cluster(enable_admission_plugins=("AlwaysPullImages",)) as cluster:
        yield Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("home"))


def apply(kubectl: Kubectl, doc: dict[str, Any], *, check: bool = True) -> Any:
    return kubectl.run("create", "-f", "-", input=json.dumps(doc), check=check)


def pod(name: str, namespace: str, **resources: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": "nginx:1.27"}
    if resources:
        container["resources"] = resources
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container]},
    }


def test_limit_ranges_default_and_bound_containers(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "limited")
    apply(
        kubectl,
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "cpu", "namespace": "limited"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "500m"},
                        "defaultRequest": {"cpu": "250m"},
                        "max": {"cpu": "1"},
                    }
                ]
            },
        },
    )
    apply(kubectl, pod("defaulted", "limited"))
    got = json.loads(kubectl.run("get", "pod", "defaulted", "-n", "limited", "-o", "json").stdout)
    assert got["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m"},
        "requests": {"cpu": "250m"},
    }
    assert got["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu request for container web; cpu limit for container web"
    )
    refused = apply(kubectl, pod("greedy", "limited", limits={"cpu": "2"}), check=False)
    assert (
        'pods "greedy" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
        in refused.stderr
    )


def test_a_quota_refuses_beyond_its_limit_and_recovers_after_a_delete(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "quoted")
    kubectl.run("create", "quota", "two-pods", "-n", "quoted", "--hard=pods=2,configmaps=5")
    wait_for(
        lambda: (
            json.loads(kubectl.run("get", "quota", "two-pods", "-n", "quoted", "-o", "json").stdout)
            .get("status", {})
            .get("used")
        ),
        "the quota's usage counted",
    )
    for name in ("a", "b"):
        apply(kubectl, pod(name, "quoted"))
    refused = apply(kubectl, pod("c", "quoted"), check=False)
    assert (
        'pods "c" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2'
        in refused.stderr
    )
    described = kubectl.run("describe", "quota", "two-pods", "-n", "quoted").stdout
    assert "pods        2     2" in described
    kubectl.run("delete", "pod", "a", "-n", "quoted", "--wait=true")
    wait_for(
        lambda: apply(kubectl, pod("c", "quoted"), check=False).returncode == 0, "room in the quota"
    )


def test_a_compute_quota_needs_requests(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "compute")
    kubectl.run("create", "quota", "cpu", "-n", "compute", "--hard=requests.cpu=1")
    refused = apply(kubectl, pod("bare", "compute"), check=False)
    assert (
        'pods "bare" is forbidden: failed quota: cpu: must specify requests.cpu for: web'
        in refused.stderr
    )
    apply(kubectl, pod("small", "compute", requests={"cpu": "600m"}))
    over = apply(kubectl, pod("big", "compute", requests={"cpu": "600m"}), check=False)
    assert (
        "exceeded quota: cpu, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1"
        in over.stderr
    )


def test_pods_get_default_tolerations_and_always_pull(kubectl: Kubectl) -> None:
    apply(kubectl, pod("plain", "default"))
    got = json.loads(kubectl.run("get", "pod", "plain", "-o", "json").stdout)
    tolerations = {(t["key"], t["tolerationSeconds"]) for t in got["spec"]["tolerations"]}
    assert tolerations == {
        ("node.kubernetes.io/not-ready", 300),
        ("node.kubernetes.io/unreachable", 300),
    }
    assert got["spec"]["containers"][0]["imagePullPolicy"] == "Always"


def test_claims_are_protected(kubectl: Kubectl) -> None:
    apply(
        kubectl,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    finalizers = kubectl.run("get", "pvc", "data", "-o", "jsonpath={.metadata.finalizers}").stdout
    assert json.loads(finalizers) == ["kubernetes.io/pvc-protection"]
    user = pod("uses-data", "default")
    user["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    apply(kubectl, user)
    kubectl.run("delete", "pvc", "data", "--wait=false")
    time.sleep(0.5)  # the controller has had time to act: the claim in use must still be there
    phase = kubectl.run("get", "pvc", "data", "-o", "jsonpath={.metadata.deletionTimestamp}").stdout
    assert phase  # marked, kept while the pod uses it
    kubectl.run("delete", "pod", "uses-data", "--wait=true")
    wait_for(
        lambda: kubectl.run("get", "pvc", "data", check=False).returncode != 0, "the claim released"
    )
