"""lightkube end to end: CRDs listed, custom objects through lightkube's generic resources.

lightkube (httpx, its own kubeconfig loader and models) lists CustomResourceDefinitions, creates
one, then creates, reads, patches (merge, JSON, and the status subresource), watches and deletes
custom objects through ``create_namespaced_resource`` and through the generic resources
``load_in_cluster_generic_resources`` builds from the server's definitions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import ApiError, Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.generic_resource import (
    create_namespaced_resource,
    get_generic_resource,
    load_in_cluster_generic_resources,
)
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.types import PatchType

from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "lamps.light.example.com"},
    "spec": {
        "group": "light.example.com",
        "scope": "Namespaced",
        "names": {"plural": "lamps", "kind": "Lamp", "shortNames": ["lp"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "watts": {"type": "integer", "default": 40},
                                    "colour": {"type": "string"},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"on": {"type": "boolean"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("lightkube"), controller_manager=False
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> Iterator[Client]:
    config = KubeConfig.from_file(Path(cluster.admin_kubeconfig))
    yield Client(config=config, field_manager="lightkube-e2e")


def established(client: Client, name: str) -> bool:
    crd = client.get(CustomResourceDefinition, name)
    return any(
        c.type == "Established" and c.status == "True" for c in (crd.status.conditions or [])
    )


def test_custom_objects_through_lightkubes_generic_resources(client: Client) -> None:
    client.create(from_dict(CRD))
    deadline = time.monotonic() + 20
    while not established(client, "lamps.light.example.com"):
        assert time.monotonic() < deadline, "the definition was never established"
        time.sleep(0.1)
    names = [crd.metadata.name for crd in client.list(CustomResourceDefinition)]
    assert "lamps.light.example.com" in names

    Lamp = create_namespaced_resource("light.example.com", "v1", "Lamp", "lamps")
    empty = client.list(Lamp, namespace="default")
    assert list(empty) == []
    start = empty.resourceVersion
    created = client.create(
        Lamp(metadata=ObjectMeta(name="desk", namespace="default"), spec={"colour": "red"})
    )
    assert created.spec == {"colour": "red", "watts": 40}  # defaulted by the schema
    assert client.get(Lamp, "desk", namespace="default").metadata.uid == created.metadata.uid

    merged = client.patch(
        Lamp, "desk", {"spec": {"watts": 60}}, namespace="default", patch_type=PatchType.MERGE
    )
    assert merged.spec["watts"] == 60
    json_patched = client.patch(
        Lamp, "desk", [{"op": "replace", "path": "/spec/colour", "value": "blue"}],
        namespace="default", patch_type=PatchType.JSON,
    )  # fmt: skip
    assert json_patched.spec["colour"] == "blue"
    with pytest.raises(ApiError) as refused:  # strategic merge is not for custom resources
        client.patch(Lamp, "desk", {"spec": {"watts": 1}}, namespace="default")
    assert refused.value.status.code == 415
    on = client.patch(
        Lamp.Status, "desk", {"status": {"on": True}}, namespace="default",
        patch_type=PatchType.MERGE,
    )  # fmt: skip
    assert on.status == {"on": True}

    load_in_cluster_generic_resources(client)
    Discovered = get_generic_resource("light.example.com/v1", "Lamp")
    assert Discovered is not None
    listed = client.list(Discovered, namespace="default")
    assert [lamp.metadata.name for lamp in listed] == ["desk"]

    client.delete(Lamp, "desk", namespace="default")
    with pytest.raises(ApiError) as missing:
        client.get(Lamp, "desk", namespace="default")
    assert missing.value.status.code == 404

    events = []  # lightkube's watch goes on past the server's timeout: stop at the deletion
    for kind, obj in client.watch(Lamp, namespace="default", resource_version=start):
        events.append((kind, obj.metadata.name, (obj.status or {}).get("on")))
        if kind == "DELETED":
            break
    assert [e[0] for e in events] == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    assert events[-1] == ("DELETED", "desk", True)
