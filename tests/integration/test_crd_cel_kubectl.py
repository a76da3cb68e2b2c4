"""CEL validation rules of a CRD with the real kubectl.

A definition whose rule does not compile, and one whose rule costs too much, are refused at
creation with upstream's messages; a valid one is established, and a custom object that
breaks a rule is refused with the rule's message naming the field — on create, and on update
for a transition rule (``oldSelf``).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {
                    "rule": "self.minReplicas <= self.replicas",
                    "message": "replicas must be at least minReplicas",
                    "fieldPath": ".replicas",
                },
                {
                    "rule": "self.tier == oldSelf.tier",
                    "message": "tier is immutable",
                    "reason": "FieldValueForbidden",
                    "fieldPath": ".tier",
                },
            ],
            "properties": {
                "replicas": {"type": "integer"},
                "minReplicas": {"type": "integer"},
                "tier": {"type": "string", "maxLength": 16},
                "memory": {
                    "type": "string",
                    "maxLength": 16,
                    "x-kubernetes-validations": [
                        {
                            "rule": "quantity(self).isLessThan(quantity('1Gi'))",
                            "messageExpression": "'memory ' + self + ' is over 1Gi'",
                        }
                    ],
                },
            },
        }
    },
}


def crd(schema: dict[str, Any], plural: str = "databases") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.cel.example.com"},
        "spec": {
            "group": "cel.example.com",
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": plural.capitalize()[:-1]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def database(name: str, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "cel.example.com/v1",
            "kind": "Database",
            "metadata": {"name": name, "namespace": "default"},
            "spec": spec,
        }
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("crd-cel-cluster")
    with running_cluster(data_dir=data_dir, controller_manager=False) as running:
        yield running


def test_bad_rules_are_refused_at_creation(cluster: Cluster, tmp_path: Path) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    broken = copy.deepcopy(SCHEMA)
    broken["properties"]["spec"]["x-kubernetes-validations"] = [{"rule": "self.replicas >"}]
    refused = kubectl.run("create", "-f", "-", input=yaml.safe_dump(crd(broken)), check=False)
    assert refused.returncode != 0
    assert (
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: "
        'Invalid value: apiextensions.ValidationRule{Rule:"self.replicas >"' in refused.stderr
    )
    assert "compilation failed: ERROR: <input>:1:16: Syntax error:" in refused.stderr

    costly = {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "x-kubernetes-validations": [{"rule": "self.all(x, self.exists(y, x == y))"}],
            }
        },
    }
    refused = kubectl.run(
        "create", "-f", "-", input=yaml.safe_dump(crd(costly, "costlies")), check=False
    )
    assert refused.returncode != 0
    assert (
        "Forbidden: estimated rule cost exceeds budget by factor of more than 100x"
        in refused.stderr
    )
    listed = kubectl.run("get", "crd", "-o", "name").stdout
    assert "databases.cel.example.com" not in listed and "costlies" not in listed


def test_a_custom_object_breaking_a_rule_is_refused_naming_the_field(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    kubectl.run("create", "-f", "-", input=yaml.safe_dump(crd(SCHEMA)))
    kubectl.run(
        "wait", "--for", "condition=established", "--timeout=20s",
        "crd/databases.cel.example.com",
    )  # fmt: skip
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home-after")  # fresh discovery

    refused = kubectl.run(
        "create", "-f", "-", input=database("db-1", replicas=1, minReplicas=2, tier="gold"),
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert 'The Database "db-1" is invalid: spec.replicas: Invalid value: "object": ' in (
        refused.stderr
    )
    assert "replicas must be at least minReplicas" in refused.stderr

    refused = kubectl.run(
        "create", "-f", "-",
        input=database("db-1", replicas=2, minReplicas=1, tier="gold", memory="2Gi"),
        check=False,
    )  # fmt: skip
    assert 'spec.memory: Invalid value: "string": memory 2Gi is over 1Gi' in refused.stderr

    kubectl.run("create", "-f", "-", input=database("db-1", replicas=2, minReplicas=1, tier="gold"))
    changed = kubectl.run(
        "patch", "databases", "db-1", "--type=merge", "-p", '{"spec":{"tier":"silver"}}',
        check=False,
    )  # fmt: skip
    assert changed.returncode != 0
    assert "spec.tier: Forbidden: tier is immutable" in changed.stderr
    kubectl.run("patch", "databases", "db-1", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    got = json.loads(kubectl.run("get", "databases", "db-1", "-o", "json").stdout)
    assert got["spec"] == {"replicas": 3, "minReplicas": 1, "tier": "gold"}


def test_a_rule_added_later_ratchets_objects_stored_before_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    schema = copy.deepcopy(SCHEMA)
    spec = schema["properties"]["spec"]
    spec["x-kubernetes-validations"] = []
    spec["properties"]["note"] = {"type": "string", "maxLength": 32}
    definition = crd(schema, "caches")
    definition["spec"]["names"]["kind"] = "Cache"
    kubectl.run("create", "-f", "-", input=yaml.safe_dump(definition))
    kubectl.run(
        "wait", "--for", "condition=established", "--timeout=20s", "crd/caches.cel.example.com"
    )
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home-after")
    cache = json.loads(database("old", replicas=1, minReplicas=5, tier="gold"))
    cache["kind"] = "Cache"
    kubectl.run("create", "-f", "-", input=json.dumps(cache))  # no rule yet: accepted

    spec["x-kubernetes-validations"] = [
        {"rule": "self.minReplicas <= self.replicas", "message": "replicas below minimum"}
    ]
    stored = json.loads(kubectl.run("get", "crd", "caches.cel.example.com", "-o", "json").stdout)
    stored["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema
    kubectl.run("replace", "-f", "-", input=json.dumps(stored))

    def refused_now() -> bool:
        probe = kubectl.run(
            "patch", "caches", "old", "--dry-run=server", "--type=merge",
            "-p", '{"spec":{"replicas":2}}', check=False,
        )  # fmt: skip
        return probe.returncode != 0

    deadline = time.monotonic() + 20
    while not refused_now():
        assert time.monotonic() < deadline, "the new rule was not enforced within 20s"
        time.sleep(0.1)
    # The stored value still breaks the rule, but an update that leaves spec as it was passes.
    kubectl.run("label", "caches", "old", "touched=yes")
    kubectl.run(
        "patch", "caches", "old", "--type=merge", "-p", '{"metadata":{"annotations":{"a":"b"}}}'
    )
    refused = kubectl.run(
        "patch", "caches", "old", "--type=merge", "-p", '{"spec":{"replicas":2}}', check=False
    )
    assert 'spec: Invalid value: "object": replicas below minimum' in refused.stderr
