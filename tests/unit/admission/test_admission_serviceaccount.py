"""The ServiceAccount admission plugin on pod creation."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.serviceaccount import ServiceAccountPlugin
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class Reader:
    def __init__(self, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        self.objects = objects

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((resource, namespace, name))

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def admit(pod: dict[str, Any], accounts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    reader = Reader({("serviceaccounts", "ns", name): sa for name, sa in accounts.items()})
    request = AdmissionRequest("CREATE", "", "pods", "Pod", "", "ns", "p", UserInfo("u"), pod)
    asyncio.run(ServiceAccountPlugin().admit(request, reader))
    return pod


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx"}],
            "initContainers": [{"name": "init"}],
            **spec,
        },
    }


def test_default_account_volume_and_mounts() -> None:
    result = admit(pod(), {"default": {"metadata": {"name": "default"}}})
    spec = result["spec"]
    assert spec["serviceAccountName"] == "default"
    (volume,) = spec["volumes"]
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", volume["name"])
    sources = volume["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace"
    for container in spec["containers"] + spec["initContainers"]:
        assert container["volumeMounts"] == [
            {"name": volume["name"], "readOnly": True, "mountPath": MOUNT}
        ]


@pytest.mark.parametrize(
    ("pod_value", "sa_value", "mounted"),
    [(False, None, False), (None, False, False), (True, False, True), (None, None, True)],
    ids=["pod-false", "sa-false", "pod-true-wins", "neither"],
)
def test_automount_decided_by_pod_then_account(
    pod_value: bool | None, sa_value: bool | None, mounted: bool
) -> None:
    spec: dict[str, Any] = {} if pod_value is None else {"automountServiceAccountToken": pod_value}
    sa: dict[str, Any] = {"metadata": {"name": "default"}}
    if sa_value is not None:
        sa["automountServiceAccountToken"] = sa_value
    result = admit(pod(**spec), {"default": sa})
    assert bool(result["spec"].get("volumes")) is mounted


def test_missing_account_is_refused_in_kubernetes_words() -> None:
    with pytest.raises(Forbidden) as caught:
        admit(pod(serviceAccountName="ghost"), {})
    assert caught.value.message == (
        'pods "p" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found'
    )


def test_image_pull_secrets_come_from_the_account_unless_set() -> None:
    sa = {"metadata": {"name": "bot"}, "imagePullSecrets": [{"name": "regcred"}]}
    assert admit(pod(serviceAccountName="bot"), {"bot": sa})["spec"]["imagePullSecrets"] == [
        {"name": "regcred"}
    ]
    own = admit(pod(serviceAccountName="bot", imagePullSecrets=[{"name": "mine"}]), {"bot": sa})
    assert own["spec"]["imagePullSecrets"] == [{"name": "mine"}]


def test_existing_mount_at_the_token_path_is_kept() -> None:
    custom = pod()
    custom["spec"]["containers"][0]["volumeMounts"] = [{"name": "mine", "mountPath": MOUNT}]
    custom["spec"]["volumes"] = [{"name": "mine", "emptyDir": {}}]
    spec = admit(custom, {"default": {"metadata": {"name": "default"}}})["spec"]
    assert spec["containers"][0]["volumeMounts"] == [{"name": "mine", "mountPath": MOUNT}]
    assert len(spec["volumes"]) == 2  # the init container still gets the token
