"""ValidatingAdmissionPolicy with the real kubectl: a policy with a ConfigMap parameter refusing a
Deployment with the policy's message, a binding's namespaceSelector, the Warn action as a
kubectl warning, and the policy's own validation (CEL compile errors at their field path)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster

V1 = "admissionregistration.k8s.io/v1"
DEADLINE_SECONDS = 20.0


def deployment(name: str, replicas: int) -> str:
    labels = {"app": name}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )


def rules(group: str, resource: str) -> list[dict[str, Any]]:
    return [
        {
            "operations": ["CREATE", "UPDATE"],
            "apiGroups": [group],
            "apiVersions": ["v1"],
            "resources": [resource],
        }
    ]


MAX_REPLICAS = {
    "apiVersion": V1,
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "max-replicas"},
    "spec": {
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {"resourceRules": rules("apps", "deployments")},
        "validations": [
            {
                "expression": "object.spec.replicas <= int(params.data.maxReplicas)",
                "messageExpression": "'replicas must be no greater than ' + params.data.maxReplicas",
            }
        ],
    },
}
MAX_REPLICAS_BINDING = {
    "apiVersion": V1,
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "max-replicas-limited"},
    "spec": {
        "policyName": "max-replicas",
        "validationActions": ["Deny"],
        "paramRef": {"name": "replica-limit", "parameterNotFoundAction": "Deny"},
        "matchResources": {"namespaceSelector": {"matchLabels": {"replicas": "limited"}}},
    },
}
TEAM_LABEL = {
    "apiVersion": V1,
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "team-label"},
    "spec": {
        "matchConstraints": {"resourceRules": rules("", "configmaps")},
        "validations": [
            {
                "expression": "has(object.metadata.labels) && 'team' in object.metadata.labels",
                "message": "every configmap should carry a team label",
            }
        ],
    },
}
TEAM_LABEL_BINDING = {
    "apiVersion": V1,
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "team-label-warn"},
    "spec": {
        "policyName": "team-label",
        "validationActions": ["Warn"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"team-label": "warn"}}},
    },
}


def until(check: Any, what: str) -> Any:
    """Poll ``check`` until it returns something truthy, for at most DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    base = tmp_path_factory.mktemp("admission-policy")
    with running_cluster(controller_manager=False, scheduler=False) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, base / "home")
        kubectl.run("create", "namespace", "limited")
        kubectl.run("label", "namespace", "limited", "replicas=limited", "team-label=warn")
        kubectl.run(
            "create", "configmap", "replica-limit", "-n", "limited", "--from-literal=maxReplicas=3"
        )
        for doc in (MAX_REPLICAS, MAX_REPLICAS_BINDING, TEAM_LABEL, TEAM_LABEL_BINDING):
            kubectl.run("create", "-f", "-", input=json.dumps(doc))

        def refused_dry_run() -> bool:
            result = kubectl.run(
                "create",
                "-n",
                "limited",
                "--dry-run=server",
                "-f",
                "-",
                input=deployment("probe", 9),
                check=False,
            )
            return result.returncode != 0

        until(refused_dry_run, "the policy to be in effect")
        yield kubectl


def test_the_policy_refuses_with_its_message(kubectl: Kubectl) -> None:
    refused = kubectl.run(
        "create", "-n", "limited", "-f", "-", input=deployment("big", 5), check=False
    )
    assert refused.returncode != 0
    assert (
        "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-limited' denied"
        " request: replicas must be no greater than 3"
    ) in refused.stderr
    assert 'The deployments "big" is invalid' in refused.stderr  # 422 Invalid, as upstream
    assert kubectl.run("get", "deployment", "big", "-n", "limited", check=False).returncode != 0
    kubectl.run("create", "-n", "limited", "-f", "-", input=deployment("small", 2))


def test_the_parameter_is_read_live(kubectl: Kubectl) -> None:
    kubectl.run(
        "patch", "configmap", "replica-limit", "-n", "limited", "-p", '{"data":{"maxReplicas":"6"}}'
    )

    def admitted() -> subprocess.CompletedProcess[str] | None:
        result = kubectl.run(
            "create", "-n", "limited", "-f", "-", input=deployment("medium", 5), check=False
        )
        return result if result.returncode == 0 else None

    until(admitted, "the new maxReplicas to be used")
    kubectl.run(
        "patch", "configmap", "replica-limit", "-n", "limited", "-p", '{"data":{"maxReplicas":"3"}}'
    )


def test_the_bindings_namespace_selector_limits_it(kubectl: Kubectl) -> None:
    kubectl.run("create", "-n", "default", "-f", "-", input=deployment("elsewhere", 5))


def test_the_warn_action_is_a_kubectl_warning(kubectl: Kubectl) -> None:
    created = kubectl.run(
        "create", "configmap", "unlabelled", "-n", "limited", "--from-literal=a=b"
    )
    assert (
        "Warning: Validation failed for ValidatingAdmissionPolicy 'team-label' with binding"
        " 'team-label-warn': every configmap should carry a team label"
    ) in created.stderr
    assert kubectl.run("get", "configmap", "unlabelled", "-n", "limited").returncode == 0


def test_kubectl_gets_policies_and_bindings(kubectl: Kubectl) -> None:
    names = kubectl.run(
        "get", "validatingadmissionpolicies", "-o", "jsonpath={.items[*].metadata.name}"
    ).stdout.split()
    assert names == ["max-replicas", "team-label"]
    table = kubectl.run("get", "validatingadmissionpolicies").stdout.splitlines()
    assert table[0].split() == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
    assert table[1].split()[:3] == ["max-replicas", "1", "v1/ConfigMap"]
    bindings = kubectl.run("get", "validatingadmissionpolicybindings").stdout.splitlines()
    assert bindings[0].split() == ["NAME", "POLICYNAME", "PARAMREF", "AGE"]
    assert bindings[1].split()[:3] == ["max-replicas-limited", "max-replicas", "*/replica-limit"]
    got = json.loads(
        kubectl.run("get", "validatingadmissionpolicy", "max-replicas", "-o", "json").stdout
    )
    assert got["spec"]["failurePolicy"] == "Fail"
    binding = json.loads(
        kubectl.run(
            "get", "validatingadmissionpolicybinding", "max-replicas-limited", "-o", "json"
        ).stdout
    )
    assert binding["spec"]["paramRef"]["parameterNotFoundAction"] == "Deny"


def test_a_policy_that_does_not_compile_is_refused(kubectl: Kubectl) -> None:
    bad = json.loads(json.dumps(TEAM_LABEL))
    bad["metadata"]["name"] = "broken"
    bad["spec"]["validations"] = [{"expression": "object.spec.replicas <"}]
    refused = kubectl.run("create", "-f", "-", input=json.dumps(bad), check=False)
    assert refused.returncode != 0
    assert 'The ValidatingAdmissionPolicy "broken" is invalid' in refused.stderr
    assert (
        'spec.validations[0].expression: Invalid value: "object.spec.replicas <": compilation'
        " failed: ERROR: <input>:1:"
    ) in refused.stderr


def test_the_status_reports_type_checking(kubectl: Kubectl) -> None:
    typo = json.loads(json.dumps(MAX_REPLICAS))
    typo["metadata"]["name"] = "typo"
    typo["spec"]["validations"] = [{"expression": "object.spec.replicass <= 3"}]
    kubectl.run("create", "-f", "-", input=json.dumps(typo))

    def status(name: str) -> dict[str, Any]:
        got = json.loads(kubectl.run("get", "validatingadmissionpolicy", name, "-o", "json").stdout)
        found: dict[str, Any] = got.get("status") or {}
        return found if found.get("observedGeneration") == got["metadata"]["generation"] else {}

    assert until(lambda: status("max-replicas"), "max-replicas' status")["typeChecking"] == {}
    warnings = until(lambda: status("typo"), "typo's status")["typeChecking"]["expressionWarnings"]
    assert warnings[0]["fieldRef"] == "spec.validations[0].expression"
    assert warnings[0]["warning"].startswith(
        "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replicass'"
    )
    kubectl.run("delete", "validatingadmissionpolicy", "typo")


@pytest.mark.parametrize("mode", ["--server-side", "--server-side=false"], ids=["ssa", "csa"])
def test_policies_are_applied_with_kubectl(kubectl: Kubectl, mode: str) -> None:
    applied = json.loads(json.dumps(TEAM_LABEL))
    applied["metadata"]["name"] = "applied-csa" if mode.endswith("false") else "applied-ssa"
    kubectl.run("apply", mode, "-f", "-", input=json.dumps(applied))
    applied["spec"]["validations"][0]["message"] = "changed"
    kubectl.run("apply", mode, "-f", "-", input=json.dumps(applied))
    got = json.loads(
        kubectl.run(
            "get", "validatingadmissionpolicy", applied["metadata"]["name"], "-o", "json"
        ).stdout
    )
    assert got["spec"]["validations"][0]["message"] == "changed"
    assert got["metadata"]["generation"] == 2
    kubectl.run("delete", "validatingadmissionpolicy", applied["metadata"]["name"])
