"""MutatingAdmissionPolicy with the real kubectl, on a server started with
``--feature-gates=MutatingAdmissionPolicy=true`` and
``--runtime-config=admissionregistration.k8s.io/v1alpha1=true``: a JSONPatch policy and an
ApplyConfiguration policy labelling ConfigMaps and Deployments created in a labelled namespace
(seen on the stored objects), a ConfigMap parameter driving a mutation, the kinds' validation and
tables; and, on a server without the gate, kubectl's refusal of the unknown kind."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.api.features import Features
from kubeward.testing import running_cluster

V1ALPHA1 = "admissionregistration.k8s.io/v1alpha1"
DEADLINE_SECONDS = 20.0
FEATURES = Features(frozenset({"MutatingAdmissionPolicy"}), frozenset({V1ALPHA1}))


def rules(group: str, resource: str) -> list[dict[str, Any]]:
    return [
        {
            "operations": ["CREATE", "UPDATE"],
            "apiGroups": [group],
            "apiVersions": ["v1"],
            "resources": [resource],
        }
    ]


def policy(name: str, match: list[dict[str, Any]], mutation: dict[str, Any], **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": V1ALPHA1,
            "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "matchConstraints": {"resourceRules": match},
                "reinvocationPolicy": "IfNeeded",
                "mutations": [mutation],
                **spec,
            },
        }
    )


def binding(name: str, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": V1ALPHA1,
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "matchResources": {"namespaceSelector": {"matchLabels": {"mutate": "yes"}}},
                **spec,
            },
        }
    )


# A JSONPatch on ConfigMaps and Deployments; an ApplyConfiguration on Deployments; a parameter.
JSONPATCH_LABEL = policy(
    "add-env-label",
    rules("", "configmaps") + rules("apps", "deployments"),
    {
        "patchType": "JSONPatch",
        "jsonPatch": {
            "expression": (
                "has(object.metadata.labels) ? "
                '[JSONPatch{op: "add", path: "/metadata/labels/environment", value: "test"}] : '
                '[JSONPatch{op: "add", path: "/metadata/labels", value: {"environment": "test"}}]'
            )
        },
    },
)
APPLY_LABEL = policy(
    "apply-owner-label",
    rules("apps", "deployments"),
    {
        "patchType": "ApplyConfiguration",
        "applyConfiguration": {
            "expression": (
                "Object{metadata: Object.metadata{labels: {'owner': request.userInfo.username}},"
                " spec: Object.spec{replicas: 2}}"
            )
        },
    },
)
PARAM_TIER = policy(
    "tier-from-param",
    rules("", "configmaps"),
    {
        "patchType": "JSONPatch",
        "jsonPatch": {
            "expression": (
                '[JSONPatch{op: "add", path: "/metadata/annotations", '
                'value: {"example.com/tier": params.data.tier}}]'
            )
        },
    },
    paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    matchConditions=[{"name": "not-the-param", "expression": "object.metadata.name != 'tiers'"}],
)


def deployment(name: str) -> str:
    labels = {"app": name}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )


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


def stored(kubectl: Kubectl, *args: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kubectl.run("get", *args, "-o", "json").stdout)
    return found


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    base = tmp_path_factory.mktemp("mutating-policy")
    with running_cluster(
        controller_manager=False, scheduler=False, server_options={"features": FEATURES}
    ) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, base / "home")
        kubectl.run("create", "namespace", "mutated")
        kubectl.run("label", "namespace", "mutated", "mutate=yes")
        kubectl.run("create", "configmap", "tiers", "-n", "mutated", "--from-literal=tier=gold")
        for doc in (
            JSONPATCH_LABEL,
            binding("add-env-label"),
            APPLY_LABEL,
            binding("apply-owner-label"),
            PARAM_TIER,
            binding(
                "tier-from-param",
                paramRef={"name": "tiers", "parameterNotFoundAction": "Deny"},
            ),
        ):
            kubectl.run("create", "-f", "-", input=doc)

        def in_effect() -> bool:
            probe = kubectl.run(
                "create", "configmap", "probe", "-n", "mutated", "--dry-run=server", "-o", "json"
            )
            labels = json.loads(probe.stdout)["metadata"].get("labels") or {}
            return labels.get("environment") == "test"

        until(in_effect, "the policies to be in effect")
        yield kubectl


def test_a_json_patch_labels_a_created_configmap(kubectl: Kubectl) -> None:
    kubectl.run("create", "configmap", "settings", "-n", "mutated", "--from-literal=a=b")
    got = stored(kubectl, "configmap", "settings", "-n", "mutated")
    assert got["metadata"]["labels"] == {"environment": "test"}


def test_a_parameter_drives_a_mutation(kubectl: Kubectl) -> None:
    got = stored(kubectl, "configmap", "settings", "-n", "mutated")
    assert got["metadata"]["annotations"] == {"example.com/tier": "gold"}
    kubectl.run("patch", "configmap", "tiers", "-n", "mutated", "-p", '{"data":{"tier":"silver"}}')

    def silver() -> bool:
        probe = kubectl.run(
            "create", "configmap", "probe", "-n", "mutated", "--dry-run=server", "-o", "json"
        )
        annotations = json.loads(probe.stdout)["metadata"].get("annotations") or {}
        return annotations.get("example.com/tier") == "silver"

    until(silver, "the new parameter to be used")


def test_json_patch_and_apply_configuration_mutate_a_created_deployment(kubectl: Kubectl) -> None:
    kubectl.run("create", "-n", "mutated", "-f", "-", input=deployment("web"))
    got = stored(kubectl, "deployment", "web", "-n", "mutated")
    labels = got["metadata"]["labels"]
    assert set(labels) == {"environment", "owner"}
    assert labels["environment"] == "test"  # by the JSON patch
    whoami = json.loads(kubectl.run("auth", "whoami", "-o", "json").stdout)
    assert labels["owner"] == whoami["status"]["userInfo"]["username"]  # by the apply config
    assert got["spec"]["replicas"] == 2  # set by the apply configuration
    assert got["spec"]["template"]["spec"]["containers"][0]["name"] == "c"  # the rest kept


def test_writes_outside_the_labelled_namespace_are_left_alone(kubectl: Kubectl) -> None:
    kubectl.run("create", "configmap", "plain", "-n", "default", "--from-literal=a=b")
    got = stored(kubectl, "configmap", "plain", "-n", "default")
    assert "labels" not in got["metadata"]


def test_kubectl_gets_the_policies_and_bindings(kubectl: Kubectl) -> None:
    table = kubectl.run("get", "mutatingadmissionpolicies").stdout.splitlines()
    assert table[0].split() == ["NAME", "MUTATIONS", "PARAMKIND", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in table[1:]}
    assert rows["tier-from-param"] == ["1", "v1/ConfigMap"]
    bindings = kubectl.run("get", "mutatingadmissionpolicybindings").stdout.splitlines()
    assert bindings[0].split() == ["NAME", "POLICYNAME", "PARAMREF", "AGE"]
    resources = kubectl.run("api-resources", "--api-group=admissionregistration.k8s.io").stdout
    assert "mutatingadmissionpolicies" in resources
    got = stored(kubectl, "mutatingadmissionpolicy", "add-env-label")
    assert got["spec"]["failurePolicy"] == "Fail"


def test_a_policy_that_does_not_compile_is_refused(kubectl: Kubectl) -> None:
    bad = json.loads(JSONPATCH_LABEL)
    bad["metadata"]["name"] = "broken"
    bad["spec"]["mutations"][0]["jsonPatch"]["expression"] = "'not a list'"
    refused = kubectl.run("create", "-f", "-", input=json.dumps(bad), check=False)
    assert refused.returncode != 0
    assert 'The MutatingAdmissionPolicy "broken" is invalid' in refused.stderr
    assert "must evaluate to list(JSONPatch) but got string" in refused.stderr


def test_without_the_gate_the_kinds_are_not_served(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.mktemp("mutating-policy-off")
    off = Features(frozenset(), frozenset({V1ALPHA1}))  # the version alone is not enough
    with running_cluster(
        controller_manager=False, scheduler=False, server_options={"features": off}
    ) as cluster:
        kubectl = Kubectl(cluster.admin_kubeconfig, base / "home")
        refused = kubectl.run("get", "mutatingadmissionpolicies", check=False)
        assert refused.returncode != 0
        assert 'the server doesn\'t have a resource type "mutatingadmissionpolicies"' in (
            refused.stderr
        )
        created = kubectl.run("create", "-f", "-", input=JSONPATCH_LABEL, check=False)
        assert created.returncode != 0
        assert (
            'no matches for kind "MutatingAdmissionPolicy" in version '
            '"admissionregistration.k8s.io/v1alpha1"'
        ) in created.stderr
        raw = kubectl.run(
            "get", "--raw", f"/apis/{V1ALPHA1}/mutatingadmissionpolicies", check=False
        )
        assert raw.returncode != 0
        assert "the server could not find the requested resource" in raw.stderr


@pytest.mark.parametrize("mode", ["--server-side", "--server-side=false"], ids=["ssa", "csa"])
def test_policies_are_applied_and_explained(kubectl: Kubectl, mode: str) -> None:
    applied = json.loads(APPLY_LABEL)
    applied["metadata"]["name"] = "applied-csa" if mode.endswith("false") else "applied-ssa"
    kubectl.run("apply", mode, "-f", "-", input=json.dumps(applied))
    applied["spec"]["reinvocationPolicy"] = "Never"
    kubectl.run("apply", mode, "-f", "-", input=json.dumps(applied))
    got = stored(kubectl, "mutatingadmissionpolicy", applied["metadata"]["name"])
    assert got["spec"]["reinvocationPolicy"] == "Never"
    kubectl.run("delete", "mutatingadmissionpolicy", applied["metadata"]["name"])
    explained = kubectl.run("explain", "mutatingadmissionpolicy.spec.mutations").stdout
    assert "patchType" in explained


GADGETS_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
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
                                "properties": {
                                    "ports": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string"},
                                                "port": {"type": "integer"},
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}
METRICS_PORT = policy(
    "metrics-port",
    [
        {
            "operations": ["CREATE"],
            "apiGroups": ["example.com"],
            "apiVersions": ["v1"],
            "resources": ["gadgets"],
        }
    ],
    {
        "patchType": "ApplyConfiguration",
        "applyConfiguration": {
            "expression": (
                'Object{spec: Object.spec{ports: [Object.spec.ports{name: "metrics", port: 9090}]}}'
            )
        },
    },
)


def test_a_custom_resource_is_merged_by_its_schema(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", input=json.dumps(GADGETS_CRD))
    until(
        lambda: "gadgets" in kubectl.run("api-resources", "--api-group=example.com").stdout,
        "the Gadget kind to be served",
    )
    kubectl.run("create", "-f", "-", input=METRICS_PORT)
    kubectl.run("create", "-f", "-", input=binding("metrics-port"))
    gadget = {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "spec": {"ports": [{"name": "http", "port": 80}]},
    }

    def merged() -> dict[str, Any] | None:
        created = kubectl.run(
            "create",
            "-n",
            "mutated",
            "--dry-run=server",
            "-o",
            "json",
            "-f",
            "-",
            input=json.dumps(gadget),
        )
        got: dict[str, Any] = json.loads(created.stdout)
        return got if len(got["spec"]["ports"]) == 2 else None

    got = until(merged, "the policy to merge the gadget's ports")
    assert got["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]
