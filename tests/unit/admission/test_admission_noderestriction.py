"""The NodeRestriction admission plugin: upstream's refusals, with upstream's messages."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.noderestriction import NodeRestrictionPlugin, forbidden_labels
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden, NotFound

NODE0 = UserInfo("system:node:node0", groups=("system:nodes",))
NODE_UID = "uid-node0"
OBJECTS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("nodes", "", "node0"): {"metadata": {"name": "node0", "uid": NODE_UID}},
    ("pods", "ns", "mine"): {
        "metadata": {"name": "mine", "uid": "p1"},
        "spec": {"nodeName": "node0"},
    },
    ("pods", "ns", "theirs"): {
        "metadata": {"name": "theirs", "uid": "p2"},
        "spec": {"nodeName": "node1"},
    },
}


class Reader:
    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = OBJECTS.get((resource, namespace, name))
        return copy.deepcopy(found) if found else None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def admit(
    operation: str,
    resource: str,
    obj: dict[str, Any] | None = None,
    *,
    name: str = "",
    namespace: str = "",
    subresource: str = "",
    group: str = "",
    old: dict[str, Any] | None = None,
    user: UserInfo = NODE0,
) -> None:
    request = AdmissionRequest(
        operation, group, resource, "", subresource, namespace, name, user, obj or {}, old
    )
    asyncio.run(NodeRestrictionPlugin().admit(request, Reader()))


def mirror_pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "static-web",
            "annotations": {"kubernetes.io/config.mirror": "hash"},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": "node0",
                    "uid": NODE_UID,
                    "controller": True,
                }
            ],
        },
        "spec": {"nodeName": "node0", "containers": [{"name": "c", "image": "x"}], **spec},
    }


def node(labels: dict[str, str] | None = None, taints: list[Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "node0", "labels": labels or {}}, "spec": {"taints": taints or []}}


def test_a_mirror_pod_bound_to_itself_and_owned_by_its_node_is_admitted() -> None:
    admit("CREATE", "pods", mirror_pod(), namespace="ns")


def test_other_users_are_not_its_business() -> None:
    admit("CREATE", "pods", {"metadata": {}, "spec": {"nodeName": "node1"}}, user=UserInfo("alice"))
    admit(
        "UPDATE",
        "nodes",
        node({"node-restriction.kubernetes.io/x": "y"}),
        name="node0",
        old=node(),
        user=UserInfo("system:node:node0"),
    )


POD_REFUSALS = [
    (
        "not-mirror",
        {"metadata": {"name": "p"}, "spec": {"nodeName": "node0"}},
        'pod does not have "kubernetes.io/config.mirror" annotation, node "node0" can only create mirror pods',
    ),
    (
        "other-node",
        {**mirror_pod(), "spec": {"nodeName": "node1"}},
        'node "node0" can only create pods with spec.nodeName set to itself',
    ),
    (
        "no-owner",
        {**mirror_pod(), "metadata": {"annotations": {"kubernetes.io/config.mirror": "h"}}},
        'node "node0" can only create pods with an owner reference set to itself',
    ),
    (
        "service-account",
        mirror_pod(serviceAccountName="default"),
        'node "node0" can not create pods that reference a service account',
    ),
    (
        "secret-volume",
        mirror_pod(volumes=[{"name": "s", "secret": {"secretName": "db"}}]),
        'node "node0" can not create pods that reference secrets',
    ),
    (
        "secret-env",
        mirror_pod(
            containers=[
                {
                    "name": "c",
                    "env": [
                        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}}
                    ],
                }
            ]
        ),
        'node "node0" can not create pods that reference secrets',
    ),
    (
        "configmap",
        mirror_pod(volumes=[{"name": "c", "configMap": {"name": "cfg"}}]),
        'node "node0" can not create pods that reference configmaps',
    ),
    (
        "pvc",
        mirror_pod(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]),
        'node "node0" can not create pods that reference persistentvolumeclaims',
    ),
]


@pytest.mark.parametrize(
    ("pod", "message"), [c[1:] for c in POD_REFUSALS], ids=[c[0] for c in POD_REFUSALS]
)
def test_a_node_creates_only_harmless_mirror_pods_of_its_own(
    pod: dict[str, Any], message: str
) -> None:
    with pytest.raises(Forbidden) as caught:
        admit("CREATE", "pods", pod, namespace="ns")
    assert str(caught.value).endswith(message)


def test_a_mirror_pod_with_a_stale_node_uid_is_refused() -> None:
    pod = mirror_pod()
    pod["metadata"]["ownerReferences"][0]["uid"] = "old"
    with pytest.raises(Forbidden, match=f"node node0 UID mismatch: expected old got {NODE_UID}"):
        admit("CREATE", "pods", pod, namespace="ns")


def test_a_node_deletes_and_updates_status_only_of_its_own_pods() -> None:
    admit("DELETE", "pods", name="mine", namespace="ns")
    with pytest.raises(
        Forbidden,
        match=re.escape('node "node0" can only delete pods with spec.nodeName set to itself'),
    ):
        admit("DELETE", "pods", name="theirs", namespace="ns")
    with pytest.raises(NotFound):
        admit("DELETE", "pods", name="gone", namespace="ns")
    mine, theirs = OBJECTS[("pods", "ns", "mine")], OBJECTS[("pods", "ns", "theirs")]
    admit("UPDATE", "pods", mine, old=mine, name="mine", namespace="ns", subresource="status")
    with pytest.raises(
        Forbidden,
        match=re.escape("can only update pod status for pods with spec.nodeName set to itself"),
    ):
        admit(
            "UPDATE",
            "pods",
            theirs,
            old=theirs,
            name="theirs",
            namespace="ns",
            subresource="status",
        )
    relabelled = {**mine, "metadata": {**mine["metadata"], "labels": {"a": "b"}}}
    with pytest.raises(Forbidden, match='node "node0" cannot update labels through pod status'):
        admit(
            "UPDATE",
            "pods",
            relabelled,
            old=mine,
            name="mine",
            namespace="ns",
            subresource="status",
        )
    with pytest.raises(
        Forbidden,
        match="unexpected pod subresource \"binding\", only 'status' and 'eviction' are allowed",
    ):
        admit("CREATE", "pods", {}, name="mine", namespace="ns", subresource="binding")


@pytest.mark.parametrize(
    ("new", "old", "refused"),
    [
        ({"node-restriction.kubernetes.io/x": "1"}, {}, ["node-restriction.kubernetes.io/x"]),
        ({"a.node-restriction.kubernetes.io/x": "1"}, {}, ["a.node-restriction.kubernetes.io/x"]),
        (
            {"node-role.kubernetes.io/control-plane": ""},
            {},
            ["node-role.kubernetes.io/control-plane"],
        ),
        ({"example.k8s.io/x": "1"}, {}, ["example.k8s.io/x"]),
        ({}, {"node-restriction.kubernetes.io/x": "1"}, ["node-restriction.kubernetes.io/x"]),
        (
            {
                "kubernetes.io/hostname": "n",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "m",
            },
            {},
            [],
        ),
        ({"x.kubelet.kubernetes.io/y": "1", "team": "a", "example.com/x": "1"}, {}, []),
        ({"node-restriction.kubernetes.io/x": "1"}, {"node-restriction.kubernetes.io/x": "1"}, []),
    ],
    ids=[
        "node-restriction",
        "node-restriction-subdomain",
        "node-role",
        "k8s-io",
        "removal",
        "kubelet-labels",
        "kubelet-namespace-and-others",
        "unchanged",
    ],
)
def test_forbidden_labels(new: dict[str, str], old: dict[str, str], refused: list[str]) -> None:
    assert forbidden_labels(new, old) == refused


def test_a_node_cannot_label_itself_restricted_or_touch_its_taints_or_another_node() -> None:
    with pytest.raises(Forbidden) as caught:
        admit(
            "UPDATE",
            "nodes",
            node({"node-restriction.kubernetes.io/x": "y"}),
            name="node0",
            old=node(),
        )
    assert (
        str(caught.value)
        == 'nodes "node0" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x'
    )
    with pytest.raises(Forbidden, match='node "node0" is not allowed to modify taints'):
        admit(
            "UPDATE",
            "nodes",
            node(taints=[]),
            name="node0",
            old=node(taints=[{"key": "k", "effect": "NoSchedule"}]),
        )
    with pytest.raises(Forbidden, match='node "node0" is not allowed to modify node "node1"'):
        admit("UPDATE", "nodes", node(), name="node1", old=node())
    with pytest.raises(
        Forbidden,
        match=re.escape(
            'node "node0" is not allowed to set the following labels: '
            "node-restriction.kubernetes.io/x"
        ),
    ):
        admit("CREATE", "nodes", node({"node-restriction.kubernetes.io/x": "y"}))
    admit("CREATE", "nodes", node({"kubernetes.io/hostname": "node0"}))
    admit("UPDATE", "nodes", node({"team": "a"}), name="node0", old=node())


def test_leases_and_csinodes_only_its_own() -> None:
    lease = {"metadata": {"name": "node0"}}
    admit("CREATE", "leases", lease, group="coordination.k8s.io", namespace="kube-node-lease")
    with pytest.raises(
        Forbidden, match='can only access leases in the "kube-node-lease" system namespace'
    ):
        admit("CREATE", "leases", lease, group="coordination.k8s.io", namespace="default")
    with pytest.raises(
        Forbidden, match="can only access node lease with the same name as the requesting node"
    ):
        admit(
            "UPDATE",
            "leases",
            lease,
            group="coordination.k8s.io",
            namespace="kube-node-lease",
            name="node1",
        )
    with pytest.raises(
        Forbidden, match="can only access CSINode with the same name as the requesting node"
    ):
        admit("CREATE", "csinodes", {"metadata": {"name": "node1"}}, group="storage.k8s.io")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({}, "node requested token not bound to a pod"),
        (
            {"apiVersion": "v1", "kind": "Pod", "name": "mine"},
            "node requested token with a pod binding without a uid",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "name": "mine", "uid": "x"},
            r"the UID in the bound object reference \(x\) does not match",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "name": "theirs", "uid": "p2"},
            "node requested token bound to a pod scheduled on a different node",
        ),
    ],
    ids=["unbound", "no-uid", "wrong-uid", "other-node"],
)
def test_tokens_only_for_pods_on_the_node(ref: dict[str, Any], message: str) -> None:
    request = {"spec": {"boundObjectRef": ref}}
    with pytest.raises(Forbidden, match=message):
        admit("CREATE", "serviceaccounts", request, name="sa", namespace="ns", subresource="token")


def test_a_token_bound_to_its_own_pod_is_admitted() -> None:
    ref = {"apiVersion": "v1", "kind": "Pod", "name": "mine", "uid": "p1"}
    admit(
        "CREATE",
        "serviceaccounts",
        {"spec": {"boundObjectRef": ref}},
        name="sa",
        namespace="ns",
        subresource="token",
    )
