"""The Priority, DefaultStorageClass, PersistentVolumeClaimResize and DefaultIngressClass
admission plugins, on by default, driven by the real kubectl (issue 14)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubectl_runner import Kubectl

POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  {extra}
  containers: [{{name: c, image: nginx}}]
"""

CLASSES = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/disk
allowVolumeExpansion: true
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fixed}
provisioner: example.com/disk
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: edge
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: example.com/edge}
"""

CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec:
  {extra}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""


def get(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl.run("get", *args, "-o", "json").stdout)


def create_pod(kubectl: Kubectl, name: str, extra: str = "") -> Any:
    return kubectl.run(
        "create",
        "-f",
        "-",
        input=POD.format(name=name, extra=extra or "restartPolicy: Always"),
        check=False,
    )


@pytest.fixture(scope="module")
def classes(kubectl: Kubectl) -> Kubectl:
    kubectl.run("create", "priorityclass", "high", "--value=1000")
    kubectl.run("apply", "-f", "-", input=CLASSES)
    return kubectl


def test_a_pod_gets_the_value_of_its_priority_class(classes: Kubectl) -> None:
    assert create_pod(classes, "urgent", "priorityClassName: high").returncode == 0
    spec = get(classes, "pod", "urgent")["spec"]
    assert (spec["priority"], spec["preemptionPolicy"]) == (1000, "PreemptLowerPriority")
    assert create_pod(classes, "plain").returncode == 0
    plain = get(classes, "pod", "plain")["spec"]
    assert plain["priority"] == 0 and "priorityClassName" not in plain
    # As Kubernetes 1.32, the system classes are usable outside kube-system.
    assert (
        create_pod(classes, "critical", "priorityClassName: system-cluster-critical").returncode
        == 0
    )
    assert get(classes, "pod", "critical")["spec"]["priority"] == 2000000000


def test_unknown_classes_and_given_priorities_are_refused(classes: Kubectl) -> None:
    refused = create_pod(classes, "lost", "priorityClassName: nope")
    assert refused.returncode != 0
    assert 'pods "lost" is forbidden: no PriorityClass with name nope was found' in refused.stderr
    forged = create_pod(classes, "forged", "priorityClassName: high\n  priority: 5")
    assert forged.returncode != 0
    assert (
        'pods "forged" is forbidden: the integer value of priority (5) must not be provided in '
        "pod spec; priority admission controller computed 1000 from the given PriorityClass name"
    ) in forged.stderr


def test_the_default_priority_class_and_only_one(classes: Kubectl) -> None:
    classes.run("create", "priorityclass", "normal", "--value=100", "--global-default=true")
    assert create_pod(classes, "defaulted").returncode == 0
    spec = get(classes, "pod", "defaulted")["spec"]
    assert (spec["priorityClassName"], spec["priority"]) == ("normal", 100)
    second = classes.run(
        "create", "priorityclass", "other", "--value=10", "--global-default=true", check=False
    )
    assert second.returncode != 0
    assert (
        'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass normal is '
        "already marked as default. Only one default can exist"
    ) in second.stderr
    classes.run("delete", "priorityclass", "normal")


def test_a_claim_without_a_class_gets_the_default_one(classes: Kubectl) -> None:
    classes.run(
        "create", "-f", "-", input=CLAIM.format(name="data", extra="volumeMode: Filesystem")
    )
    assert get(classes, "pvc", "data")["spec"]["storageClassName"] == "standard"
    classes.run("create", "-f", "-", input=CLAIM.format(name="none", extra='storageClassName: ""'))
    assert get(classes, "pvc", "none")["spec"]["storageClassName"] == ""


def _bind(kubectl: Kubectl, name: str) -> None:
    kubectl.run(
        "patch", "pvc", name, "--subresource=status", "--type=merge",
        "-p", '{"status":{"phase":"Bound"}}',
    )  # fmt: skip


def _grow(kubectl: Kubectl, name: str, size: str) -> Any:
    body = json.dumps({"spec": {"resources": {"requests": {"storage": size}}}})
    return kubectl.run("patch", "pvc", name, "--type=merge", "-p", body, check=False)


def test_a_claim_grows_only_when_its_class_allows_it(classes: Kubectl) -> None:
    classes.run(
        "create", "-f", "-", input=CLAIM.format(name="grows", extra="volumeMode: Filesystem")
    )
    classes.run(
        "create", "-f", "-", input=CLAIM.format(name="stuck", extra="storageClassName: fixed")
    )
    _bind(classes, "grows")
    _bind(classes, "stuck")
    assert _grow(classes, "grows", "2Gi").returncode == 0
    assert get(classes, "pvc", "grows")["spec"]["resources"]["requests"]["storage"] == "2Gi"
    refused = _grow(classes, "stuck", "2Gi")
    assert refused.returncode != 0
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): persistentvolumeclaims "stuck" is forbidden: only '
        "dynamically provisioned pvc can be resized and the storageclass that provisions the "
        "pvc must support resize"
    )
    shrink = _grow(classes, "grows", "1Gi")
    assert shrink.returncode != 0
    assert (
        "spec.resources.requests.storage: Forbidden: field can not be less than previous value"
        in (shrink.stderr)
    )


def test_an_ingress_without_a_class_gets_the_default_one(classes: Kubectl) -> None:
    classes.run("create", "ingress", "site", "--rule=site.example/=web:80")
    assert get(classes, "ingress", "site")["spec"]["ingressClassName"] == "edge"
    classes.run("create", "ingress", "named", "--class=other", "--rule=n.example/=web:80")
    assert get(classes, "ingress", "named")["spec"]["ingressClassName"] == "other"
