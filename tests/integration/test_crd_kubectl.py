"""CustomResourceDefinitions with the real kubectl and the official Python client.

A definition is created, becomes Established, and its kind is served: discovery, create with
defaults and pruning, schema validation with upstream's wording, printer columns, the status
subresource, selectable fields, a watch; deleting the definition deletes its objects first
and then stops serving the kind. A restart serves established kinds from the first request.
"""

from __future__ import annotations

import json
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


def test_established_kinds_are_served_after_a_restart(
    data_dir: Path, cluster: Cluster, tmp_path: Path
) -> None:
    cluster.stop()
    with running_cluster(data_dir=data_dir, controller_manager=False, port=cluster.port) as again:
        kubectl = _kubectl(again, tmp_path / "home")
        names = kubectl.run("get", "flighttickets", "-o", "name").stdout.split()
        assert "flightticket.flights.com/ft-1" in names
