"""CustomResourceDefinitions with the real kubectl and the official Python client.

A definition is created, becomes Established, and its kind is served: discovery, create with
defaults and pruning, schema validation with upstream's wording, printer columns, the status
subresource, selectable fields, a watch, ``kubectl get all`` through categories, ``kubectl
edit``, RBAC through a ClusterRole aggregated into ``edit``; deleting the definition deletes its
objects first and then stops serving the kind. A restart serves established kinds from the
first request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kubectl_runner import Kubectl

from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "flighttickets.flights.com"},
    "spec": {
        "group": "flights.com",
        "scope": "Namespaced",
        "names": {"plural": "flighttickets", "kind": "FlightTicket", "shortNames": ["ft"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.number",
                        "statusReplicasPath": ".status.seats",
                    },
                },
                "selectableFields": [{"jsonPath": ".spec.to"}],
                "additionalPrinterColumns": [
                    {"name": "From", "type": "string", "jsonPath": ".spec.from"},
                    {"name": "To", "type": "string", "jsonPath": ".spec.to"},
                    {"name": "Seats", "type": "integer", "jsonPath": ".spec.number"},
                    {"name": "Booked", "type": "boolean", "jsonPath": ".status.booked"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["from", "to"],
                                "properties": {
                                    "from": {"type": "string"},
                                    "to": {"type": "string", "enum": ["Mumbai", "Lisbon"]},
                                    "number": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": 10,
                                        "default": 1,
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "booked": {"type": "boolean"},
                                    "seats": {"type": "integer"},
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def ticket(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flights.com/v1",
        "kind": "FlightTicket",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crd-cluster")


@pytest.fixture(scope="module")
def cluster(data_dir: Path) -> Iterator[Cluster]:
    with running_cluster(data_dir=data_dir, controller_manager=False) as running:
        yield running


def _kubectl(cluster: Cluster, home: Path) -> Kubectl:
    return Kubectl(cluster.admin_kubeconfig, home)


def test_the_course_flow_with_kubectl(cluster: Cluster, tmp_path: Path) -> None:
    kubectl = _kubectl(cluster, tmp_path / "home")
    kubectl.run("create", "-f", "-", input=yaml.safe_dump(CRD))
    kubectl.run(
        "wait", "--for", "condition=established", "--timeout=20s",
        "crd/flighttickets.flights.com",
    )  # fmt: skip
    stored = json.loads(kubectl.run("get", "crd", "flighttickets.flights.com", "-o", "json").stdout)
    assert stored["spec"]["names"]["singular"] == "flightticket"
    assert stored["spec"]["names"]["listKind"] == "FlightTicketList"
    assert stored["status"]["acceptedNames"]["kind"] == "FlightTicket"
    assert stored["status"]["storedVersions"] == ["v1"]
    assert "customresourcecleanup.apiextensions.k8s.io" in stored["metadata"]["finalizers"]

    kubectl = _kubectl(cluster, tmp_path / "home-after")  # a fresh discovery cache
    resources = kubectl.run("api-resources", "--api-group=flights.com").stdout
    assert "flighttickets" in resources and "ft" in resources
    kubectl.run(
        "create", "--validate=false", "-f", "-",
        input=json.dumps(ticket("ft-1", **{"from": "Lisbon", "to": "Mumbai", "colour": "red"})),
    )  # fmt: skip
    got = json.loads(kubectl.run("get", "ft", "ft-1", "-o", "json").stdout)
    assert got["spec"] == {"from": "Lisbon", "to": "Mumbai", "number": 1}  # defaulted, pruned
    assert got["metadata"]["generation"] == 1

    table = kubectl.run("get", "flighttickets").stdout.splitlines()
    assert table[0].split() == ["NAME", "FROM", "TO", "SEATS", "BOOKED"]
    assert table[1].split()[:4] == ["ft-1", "Lisbon", "Mumbai", "1"]

    refused = kubectl.run(
        "create", "--validate=false", "-f", "-",
        input=json.dumps(ticket("ft-2", **{"from": "Lisbon", "to": "Paris", "number": 11})),
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert 'The FlightTicket "ft-2" is invalid' in refused.stderr
    assert 'spec.to: Unsupported value: "Paris": supported values: "Mumbai", "Lisbon"' in (
        refused.stderr
    )
    assert (
        "spec.number: Invalid value: 11: spec.number in body should be less than or equal to 10"
        in (refused.stderr)
    )
    missing = kubectl.run(
        "create", "--validate=false", "-f", "-", input=json.dumps(ticket("ft-3", to="Lisbon")),
        check=False,
    )  # fmt: skip
    assert "spec.from: Required value" in missing.stderr

    kubectl.run("patch", "ft", "ft-1", "--type=merge", "-p", '{"spec":{"number":2}}')
    smp = kubectl.run("patch", "ft", "ft-1", "-p", '{"spec":{"number":3}}', check=False)
    assert smp.returncode != 0 and "unknown format" in smp.stderr
    status_via_main = kubectl.run(
        "patch", "ft", "ft-1", "--type=merge", "-p", '{"status":{"booked":true}}'
    )
    assert status_via_main.returncode == 0
    got = json.loads(kubectl.run("get", "ft", "ft-1", "-o", "json").stdout)
    assert "status" not in got  # the main resource cannot change status
    assert got["metadata"]["generation"] == 2
    kubectl.run(
        "patch", "ft", "ft-1", "--subresource=status", "--type=merge",
        "-p", '{"status":{"booked":true}}',
    )  # fmt: skip
    got = json.loads(kubectl.run("get", "ft", "ft-1", "-o", "json").stdout)
    assert got["status"] == {"booked": True}
    assert got["metadata"]["generation"] == 2  # status does not move the generation

    kubectl.run(
        "create", "--validate=false", "-f", "-",
        input=json.dumps(ticket("ft-4", **{"from": "Mumbai", "to": "Lisbon"})),
    )  # fmt: skip
    selected = kubectl.run("get", "ft", "--field-selector", "spec.to=Lisbon", "-o", "name").stdout
    assert selected.split() == ["flightticket.flights.com/ft-4"]

    kubectl.run("scale", "ft", "ft-4", "--replicas=5")
    got = json.loads(kubectl.run("get", "ft", "ft-4", "-o", "json").stdout)
    assert got["spec"]["number"] == 5


def test_kubectl_validates_and_explains_from_the_published_schema(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = _kubectl(cluster, tmp_path / "home")
    explained = kubectl.run("explain", "flighttickets.spec").stdout
    assert "from" in explained and "number" in explained and "<integer>" in explained
    kubectl.run(  # validation on (kubectl's default): the schema comes from /openapi/v3
        "create", "-f", "-", input=json.dumps(ticket("ft-5", **{"from": "Lisbon", "to": "Mumbai"}))
    )
    unknown = kubectl.run(
        "create", "-f", "-",
        input=json.dumps(ticket("ft-6", **{"from": "Lisbon", "to": "Mumbai", "colour": "red"})),
        check=False,
    )  # fmt: skip
    assert unknown.returncode != 0
    assert 'unknown field "spec.colour"' in unknown.stderr


def test_the_python_client_and_deletion(cluster: Cluster, tmp_path: Path) -> None:
    api_client = kubernetes.config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    with api_client:
        extensions = kubernetes.client.ApiextensionsV1Api(api_client)
        custom = kubernetes.client.CustomObjectsApi(api_client)
        crd = json.loads(json.dumps(CRD))
        crd["metadata"]["name"] = "gadgets.example.com"
        crd["spec"]["group"] = "example.com"
        crd["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget"}
        crd["spec"]["scope"] = "Cluster"
        extensions.create_custom_resource_definition(crd)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            conditions = (
                extensions.read_custom_resource_definition("gadgets.example.com").status.conditions
                or []
            )
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            time.sleep(0.1)
        body = {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g1"},
            "spec": {"from": "a", "to": "Lisbon"},
        }
        created = custom.create_cluster_custom_object("example.com", "v1", "gadgets", body)
        assert created["spec"]["number"] == 1
        listed = custom.list_cluster_custom_object("example.com", "v1", "gadgets")
        assert [i["metadata"]["name"] for i in listed["items"]] == ["g1"]
        # Custom-resource list items are typed, as the apiextensions server writes them.
        assert [(i["apiVersion"], i["kind"]) for i in listed["items"]] == [
            ("example.com/v1", "Gadget")
        ]
        with pytest.raises(kubernetes.client.ApiException) as refused:
            custom.create_cluster_custom_object(
                "example.com",
                "v1",
                "gadgets",
                {**body, "metadata": {"name": "g2"}, "spec": {"from": 1, "to": "Lisbon"}},
            )
        assert refused.value.status == 422
        assert 'spec.from in body must be of type string: \\"integer\\"' in refused.value.body

        extensions.delete_custom_resource_definition("gadgets.example.com")
        deadline = time.monotonic() + 20
        gone = False
        while time.monotonic() < deadline and not gone:
            try:
                extensions.read_custom_resource_definition("gadgets.example.com")
                time.sleep(0.1)
            except kubernetes.client.ApiException as exc:
                gone = exc.status == 404
        assert gone
        with pytest.raises(kubernetes.client.ApiException) as after:
            custom.list_cluster_custom_object("example.com", "v1", "gadgets")
        assert after.value.status == 404
    kubectl = _kubectl(cluster, tmp_path / "home")
    assert "example.com/v1" not in kubectl.run("api-versions").stdout.split()


def test_an_invalid_definition_is_refused_with_upstreams_words(
    cluster: Cluster, tmp_path: Path
) -> None:
    kubectl = _kubectl(cluster, tmp_path / "home")
    bad = json.loads(json.dumps(CRD))
    bad["metadata"]["name"] = "widgets.flights.com"
    bad["spec"]["versions"][0]["storage"] = False
    del bad["spec"]["versions"][0]["schema"]
    result = kubectl.run(
        "create", "--validate=false", "-f", "-", input=json.dumps(bad), check=False
    )
    assert result.returncode != 0
    assert (
        'metadata.name: Invalid value: "widgets.flights.com": must be spec.names.plural+"."+spec.group'
        in result.stderr
    )
    assert (
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
        in result.stderr
    )
    assert "must have exactly one version marked as storage version" in result.stderr


GADGETS = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "trinkets.shop.example.com"},
    "spec": {
        "group": "shop.example.com",
        "scope": "Namespaced",
        "names": {"plural": "trinkets", "kind": "Trinket", "categories": ["all"]},
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
                                "properties": {"price": {"type": "integer", "minimum": 0}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


def trinket(name: str, price: int) -> str:
    return json.dumps(
        {
            "apiVersion": "shop.example.com/v1",
            "kind": "Trinket",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"price": price},
        }
    )


@pytest.fixture(scope="module")
def trinkets(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    kubectl = _kubectl(cluster, tmp_path_factory.mktemp("trinkets-home"))
    kubectl.run("create", "-f", "-", input=json.dumps(GADGETS))
    kubectl.run(
        "wait", "--for", "condition=established", "--timeout=20s", "crd/trinkets.shop.example.com"
    )
    return "trinkets.shop.example.com"


def test_kubectl_get_all_shows_custom_resources_in_the_all_category(
    cluster: Cluster, trinkets: str, tmp_path: Path
) -> None:
    kubectl = _kubectl(cluster, tmp_path / "home")
    kubectl.run("create", "-f", "-", input=trinket("lamp", 3))
    everything = kubectl.run("get", "all", "-n", "default", "-o", "name").stdout.split()
    assert "trinket.shop.example.com/lamp" in everything
    # FlightTickets are not in the category.
    assert not any(name.startswith("flightticket") for name in everything)


def test_kubectl_edit_changes_a_custom_object_and_reports_schema_errors(
    cluster: Cluster, trinkets: str, tmp_path: Path
) -> None:
    kubectl = _kubectl(cluster, tmp_path / "home")
    kubectl.run("create", "-f", "-", input=trinket("vase", 10))
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, sys, yaml\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        "open(os.environ['SEEN'], 'a').write(text + '\\n----\\n')\n"
        "obj = yaml.safe_load(text)\n"
        "obj['spec']['price'] = int(os.environ['NEW_PRICE'])\n"
        "open(path, 'w').write(yaml.safe_dump(obj))\n"
    )
    env_editor = f"{sys.executable} {editor}"
    seen = tmp_path / "seen.txt"
    edited = subprocess.run(
        ["kubectl", "edit", "trinket", "vase", "-n", "default"],
        env={**kubectl.env(), "KUBE_EDITOR": env_editor, "NEW_PRICE": "12", "SEEN": str(seen)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert edited.returncode == 0, edited.stderr
    assert "trinket.shop.example.com/vase edited" in edited.stdout
    got = json.loads(kubectl.run("get", "trinket", "vase", "-o", "json").stdout)
    assert got["spec"]["price"] == 12
    refused = subprocess.run(
        ["kubectl", "edit", "trinket", "vase", "-n", "default"],
        env={**kubectl.env(), "KUBE_EDITOR": env_editor, "NEW_PRICE": "-1", "SEEN": str(seen)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert 'trinkets.shop.example.com "vase" is invalid' in refused.stderr
    # kubectl reopens the editor with the server's causes as comments above the object.
    assert (
        "# * spec.price: Invalid value: -1: spec.price in body should be greater than or equal to 0"
        in seen.read_text()
    )
    got = json.loads(kubectl.run("get", "trinket", "vase", "-o", "json").stdout)
    assert got["spec"]["price"] == 12  # nothing stored on a failed edit


def test_a_role_aggregated_into_edit_lets_its_holders_create_the_custom_resource(
    cluster: Cluster, trinkets: str, tmp_path: Path
) -> None:
    admin = _kubectl(cluster, tmp_path / "admin-home")
    admin.run("create", "rolebinding", "shopkeeper-edit", "--clusterrole=edit",
              "--user=shopkeeper", "-n", "default")  # fmt: skip
    user = Kubectl(cluster.kubeconfig_for("shopkeeper"), tmp_path / "user-home")
    before = user.run("create", "-f", "-", input=trinket("cup", 1), check=False)
    assert before.returncode != 0
    assert (
        'trinkets.shop.example.com is forbidden: User "shopkeeper" cannot create resource '
        '"trinkets" in API group "shop.example.com" in the namespace "default"'
    ) in before.stderr

    admin.run(
        "create", "-f", "-",
        input=json.dumps({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": "trinkets-edit",
                "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
            },
            "rules": [{
                "apiGroups": ["shop.example.com"],
                "resources": ["trinkets"],
                "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
            }],
        }),
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:  # the aggregation controller adds the rule to edit
        edit = json.loads(admin.run("get", "clusterrole", "edit", "-o", "json").stdout)
        if any("trinkets" in (rule.get("resources") or []) for rule in edit["rules"]):
            break
        assert time.monotonic() < deadline, "trinkets-edit was never aggregated into edit"
        time.sleep(0.1)
    user.run("create", "-f", "-", input=trinket("cup", 1))
    assert user.run("auth", "can-i", "delete", "trinkets.shop.example.com").stdout.strip() == "yes"
    elsewhere = user.run(
        "auth", "can-i", "delete", "trinkets.shop.example.com", "-n", "kube-system", check=False
    )  # fmt: skip
    assert elsewhere.stdout.startswith("no")  # the RoleBinding grants in "default" only


def test_established_kinds_are_served_after_a_restart(
    data_dir: Path, cluster: Cluster, tmp_path: Path
) -> None:
    cluster.stop()
    with running_cluster(data_dir=data_dir, controller_manager=False, port=cluster.port) as again:
        kubectl = _kubectl(again, tmp_path / "home")
        names = kubectl.run("get", "flighttickets", "-o", "name").stdout.split()
        assert "flightticket.flights.com/ft-1" in names
