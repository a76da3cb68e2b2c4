"""The admission chain against a real server with the real kubectl: ServiceAccount and PodSecurity."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def eventually(check: Callable[[], bool], attempts: int = 100) -> bool:
    for _ in range(attempts):
        if check():
            return True
        time.sleep(0.05)
    return False


def pod_spec(kubectl: Any, name: str, namespace: str = "default") -> dict[str, Any]:
    out = kubectl.run("get", "pod", name, "-n", namespace, "-o", "json").stdout
    spec: dict[str, Any] = json.loads(out)["spec"]
    return spec


POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  {extra}
  initContainers: [{{name: init, image: busybox}}]
  containers: [{{name: app, image: nginx}}]
"""


def test_pod_without_service_account_gets_default_and_its_token(kubectl: Any) -> None:
    kubectl.run("create", "-f", "-", input=POD.format(name="plain", extra="restartPolicy: Always"))
    spec = pod_spec(kubectl, "plain")
    assert spec["serviceAccountName"] == "default"
    (volume,) = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
    sources = volume["projected"]["sources"]
    assert sources[0]["serviceAccountToken"] == {"expirationSeconds": 3607, "path": "token"}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert sources[2]["downwardAPI"]["items"][0]["path"] == "namespace"
    for container in spec["containers"] + spec["initContainers"]:
        assert {"name": volume["name"], "readOnly": True, "mountPath": MOUNT} in container[
            "volumeMounts"
        ]


def test_automount_false_gets_no_token(kubectl: Any) -> None:
    kubectl.run(
        "create",
        "-f",
        "-",
        input=POD.format(name="quiet", extra="automountServiceAccountToken: false"),
    )
    spec = pod_spec(kubectl, "quiet")
    assert "volumes" not in spec
    assert all("volumeMounts" not in c for c in spec["containers"])


def test_missing_service_account_is_refused(kubectl: Any) -> None:
    result = kubectl.run(
        "create",
        "-f",
        "-",
        input=POD.format(name="ghostly", extra="serviceAccountName: ghost"),
        check=False,
    )
    assert result.returncode != 0
    assert (
        'error looking up service account default/ghost: serviceaccount "ghost" not found'
        in result.stderr
    )


def test_image_pull_secrets_come_from_the_service_account(kubectl: Any) -> None:
    kubectl.run(
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--docker-server=registry.example",
        "--docker-username=u",
        "--docker-password=p",
    )
    kubectl.run("create", "serviceaccount", "puller")
    kubectl.run(
        "patch", "serviceaccount", "puller", "-p", '{"imagePullSecrets":[{"name":"regcred"}]}'
    )
    kubectl.run(
        "create", "-f", "-", input=POD.format(name="pulls", extra="serviceAccountName: puller")
    )
    assert pod_spec(kubectl, "pulls")["imagePullSecrets"] == [{"name": "regcred"}]


def test_every_namespace_gets_default_account_and_root_ca(cluster: Any, kubectl: Any) -> None:
    kubectl.run("create", "namespace", "fresh")
    assert eventually(
        lambda: kubectl.run("get", "sa", "default", "-n", "fresh", check=False).returncode == 0
    )
    assert eventually(
        lambda: (
            kubectl.run("get", "cm", "kube-root-ca.crt", "-n", "fresh", check=False).returncode == 0
        )
    )
    ca = kubectl.run(
        "get", "cm", "kube-root-ca.crt", "-n", "fresh", "-o", "jsonpath={.data.ca\\.crt}"
    ).stdout
    assert ca.strip() == cluster.ca_file.read_text().strip()
    kubectl.run("delete", "sa", "default", "-n", "fresh")
    assert eventually(
        lambda: kubectl.run("get", "sa", "default", "-n", "fresh", check=False).returncode == 0
    )


@pytest.fixture(scope="module")
def labelled(kubectl: Any) -> None:
    for namespace, mode in (("strict", "enforce"), ("warned", "warn")):
        kubectl.run("create", "namespace", namespace)
        kubectl.run(
            "label", "namespace", namespace, f"pod-security.kubernetes.io/{mode}=restricted"
        )

        def has_default(ns: str = namespace) -> bool:
            return bool(kubectl.run("get", "sa", "default", "-n", ns, check=False).returncode == 0)

        assert eventually(has_default)


RESTRICTED_REASONS = (
    'violates PodSecurity "restricted:latest": '
    'allowPrivilegeEscalation != false (container "root" must set securityContext.allowPrivilegeEscalation=false), '
    'unrestricted capabilities (container "root" must set securityContext.capabilities.drop=["ALL"]), '
    'runAsNonRoot != true (pod or container "root" must set securityContext.runAsNonRoot=true), '
    'seccompProfile (pod or container "root" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
)


def test_root_pod_in_restricted_namespace_is_refused_with_reasons(
    kubectl: Any, labelled: None
) -> None:
    result = kubectl.run("run", "root", "-n", "strict", "--image=nginx", check=False)
    assert result.returncode == 1
    assert (
        f'Error from server (Forbidden): pods "root" is forbidden: {RESTRICTED_REASONS}'
        in result.stderr
    )


def test_warn_namespace_prints_warnings_and_admits(kubectl: Any, labelled: None) -> None:
    result = kubectl.run("run", "root", "-n", "warned", "--image=nginx")
    assert "pod/root created" in result.stdout
    assert "Warning: would " + RESTRICTED_REASONS.replace("violates", "violate", 1) in result.stderr


def test_compliant_pod_is_admitted_in_restricted_namespace(kubectl: Any, labelled: None) -> None:
    manifest = """apiVersion: v1
kind: Pod
metadata: {name: hardened}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: nginx
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""
    result = kubectl.run("create", "-n", "strict", "-f", "-", input=manifest)
    assert "pod/hardened created" in result.stdout and "Warning" not in result.stderr


def test_workloads_are_warned_about_not_refused(kubectl: Any, labelled: None) -> None:
    result = kubectl.run("create", "deployment", "web", "-n", "strict", "--image=nginx")
    assert "deployment.apps/web created" in result.stdout
    assert (
        'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'
        in result.stderr
    )


def test_labelling_a_namespace_warns_about_existing_pods(kubectl: Any) -> None:
    kubectl.run("create", "namespace", "tighten")
    assert eventually(
        lambda: kubectl.run("get", "sa", "default", "-n", "tighten", check=False).returncode == 0
    )
    kubectl.run(
        "run",
        "hostnet",
        "-n",
        "tighten",
        "--image=nginx",
        "--overrides",
        '{"spec":{"hostNetwork":true}}',
    )
    result = kubectl.run(
        "label", "namespace", "tighten", "pod-security.kubernetes.io/enforce=baseline"
    )
    assert (
        'Warning: existing pods in namespace "tighten" violate the new PodSecurity enforce level "baseline:latest"'
        in result.stderr
    )
    assert "Warning: hostnet: host namespaces" in result.stderr


LEVEL_INVALID = (
    'The Namespace "{ns}" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: '
    'Invalid value: "strict": must be one of privileged, baseline, restricted'
)


def test_an_invalid_pod_security_level_is_refused_when_labelled(kubectl: Any) -> None:
    kubectl.run("create", "namespace", "strict-ns")
    refused = kubectl.run(
        "label", "namespace", "strict-ns", "pod-security.kubernetes.io/enforce=strict", check=False
    )
    assert refused.returncode == 1
    assert LEVEL_INVALID.format(ns="strict-ns") in refused.stderr
    labels = json.loads(kubectl.run("get", "ns", "strict-ns", "-o", "json").stdout)["metadata"][
        "labels"
    ]
    assert "pod-security.kubernetes.io/enforce" not in labels
    version = kubectl.run(
        "label",
        "namespace",
        "strict-ns",
        "pod-security.kubernetes.io/warn=baseline",
        "pod-security.kubernetes.io/warn-version=1.29",
        check=False,
    )
    assert version.returncode == 1
    assert (
        "metadata.labels[pod-security.kubernetes.io/warn-version]: "
        'Invalid value: "1.29": must be "latest" or "v1.x"'
    ) in version.stderr
    kubectl.run(
        "label",
        "namespace",
        "strict-ns",
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/enforce-version=v1.29",
    )


def test_an_invalid_pod_security_level_is_refused_at_create(kubectl: Any) -> None:
    manifest = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: strict-new\n"
        "  labels: {pod-security.kubernetes.io/enforce: strict}\n"
    )
    refused = kubectl.run("apply", "-f", "-", input=manifest, check=False)
    assert refused.returncode == 1
    assert LEVEL_INVALID.format(ns="strict-new") in refused.stderr
    assert kubectl.run("get", "ns", "strict-new", check=False).returncode == 1


def test_the_system_namespaces_cannot_be_deleted(kubectl: Any) -> None:
    for name in ("default", "kube-system", "kube-public"):
        refused = kubectl.run("delete", "namespace", name, check=False)
        assert refused.returncode == 1
        assert (
            f'namespaces "{name}" is forbidden: this namespace may not be deleted' in refused.stderr
        )
    assert kubectl.run("get", "namespace", "default").returncode == 0
