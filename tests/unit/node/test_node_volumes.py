"""A pod's volumes and environment, read through a fake of kubeward's API client."""

from __future__ import annotations

import asyncio
import base64
import datetime
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import SECRETS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import NotFound
from kubeward.node.volumes import VolumeSource


class FakeClient:
    """The two calls VolumeSource makes: get a secret or config map, ask for a token."""

    def __init__(self, objects: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.objects = objects
        self.token_requests: list[tuple[str, dict[str, Any]]] = []

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> dict[str, Any]:
        kind = "secret" if rt is SECRETS else "configmap"
        if (kind, name) not in self.objects:
            raise NotFound(f'{rt.resource} "{name}" not found')
        return self.objects[(kind, name)]

    async def create_raw(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.token_requests.append((path, obj))
        expires = m.now() + datetime.timedelta(seconds=obj["spec"]["expirationSeconds"])
        return {"status": {"token": "a.b.c", "expirationTimestamp": m.format_time(expires)}}


POD = {
    "metadata": {"name": "web", "namespace": "ns", "uid": "u-1", "labels": {"app": "web"}},
    "spec": {
        "serviceAccountName": "builder",
        "volumes": [
            {
                "name": "kube-api-access-x",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3600, "path": "token"}},
                        {
                            "configMap": {
                                "name": "kube-root-ca.crt",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {"fieldPath": "metadata.namespace"},
                                    }
                                ]
                            }
                        },
                    ]
                },
            },
            {"name": "cache", "emptyDir": {}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
        ],
    },
}


def _client(objects: dict[tuple[str, str], dict[str, Any]]) -> tuple[FakeClient, APIClient]:
    fake = FakeClient(objects)
    return fake, fake  # type: ignore[return-value]


def test_the_token_is_bound_to_the_pod_and_refreshed_at_80_percent() -> None:
    fake, client = _client({("configmap", "kube-root-ca.crt"): {"data": {"ca.crt": "PEM"}}})
    before = m.now()
    volumes = asyncio.run(VolumeSource(client, POD).volumes())
    assert volumes.failure == ""
    assert volumes.files["kube-api-access-x"] == {
        "token": b"a.b.c",
        "ca.crt": b"PEM",
        "namespace": b"ns",
    }
    assert volumes.files["cache"] == {}
    assert volumes.files["info"] == {"labels": b'app="web"'}
    path, request = fake.token_requests[0]
    assert path == "/api/v1/namespaces/ns/serviceaccounts/builder/token"
    assert request["spec"]["boundObjectRef"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "web",
        "uid": "u-1",
    }
    assert volumes.refresh_at is not None
    share = (volumes.refresh_at - before).total_seconds() / 3600
    assert 0.79 < share < 0.81


def test_a_missing_secret_fails_the_mount_with_the_kubelets_text() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"volumes": [{"name": "creds", "secret": {"secretName": "db"}}]},
    }
    _, client = _client({})
    volumes = asyncio.run(VolumeSource(client, pod).volumes())
    assert volumes.failure == 'MountVolume.SetUp failed for volume "creds" : secret "db" not found'
    optional = {
        "metadata": pod["metadata"],
        "spec": {"volumes": [{"name": "creds", "secret": {"secretName": "db", "optional": True}}]},
    }
    assert asyncio.run(VolumeSource(client, optional).volumes()).files == {"creds": {}}


def test_the_environment_resolves_references_or_names_what_is_missing() -> None:
    secret = {"data": {"password": base64.b64encode(b"s3cret").decode()}}
    _, client = _client(
        {("secret", "db"): secret, ("configmap", "cfg"): {"data": {"mode": "fast"}}}
    )
    container = {
        "env": [
            {"name": "PLAIN", "value": "1"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
    }
    env = asyncio.run(VolumeSource(client, POD).environment(container))
    assert isinstance(env, dict)
    assert (env["PLAIN"], env["POD"], env["PASS"], env["CFG_mode"]) == (
        "1",
        "web",
        "s3cret",
        "fast",
    )
    missing = {
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k"}}}]
    }
    assert (
        asyncio.run(VolumeSource(client, POD).environment(missing)) == 'configmap "gone" not found'
    )
