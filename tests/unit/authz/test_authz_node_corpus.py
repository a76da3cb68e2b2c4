"""The Node authorizer against the held-out corpus of upstream's decisions, on a graph fed directly.

The integration test (tests/integration/test_node_authorizer_sar.py) asks the same questions of a
real server through SubjectAccessReview; this one also covers the cases whose kinds the server
does not serve yet (PersistentVolumes, VolumeAttachments, ResourceSlices), since the graph takes
any object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.api.user import ALL_AUTHENTICATED, NODES_GROUP, UserInfo
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.modes import build_authorizer
from kubeward.authz.node import NodeAuthorizer

CORPUS_FILE = Path(__file__).parents[2] / "integration" / "node_authorizer_corpus.yaml"
CORPUS: dict[str, Any] = yaml.safe_load(CORPUS_FILE.read_text())


def attributes_of(case: dict[str, Any]) -> Attributes:
    return Attributes(
        user=UserInfo(f"system:node:{case['user']}", groups=(NODES_GROUP, ALL_AUTHENTICATED)),
        verb=case["verb"],
        api_group=case.get("group", ""),
        resource=case["resource"],
        subresource=case.get("subresource", ""),
        namespace=case.get("namespace", ""),
        name=case.get("name", ""),
        field_selector=case.get("fieldSelector", ""),
    )


def populated(phase: str = "populated") -> NodeAuthorizer:
    node = build_authorizer(["Node"]).node
    assert node is not None
    setup = CORPUS["setup"]
    for pod in setup["pods"]:
        node.graph.set_pod(pod)
    for pv in setup["persistentvolumes"]:
        node.graph.set_pv(pv)
    for attachment in setup["volumeattachments"]:
        node.graph.set_bound_to_node("volumeattachment", attachment)
    for slice_ in setup["resourceslices"]:
        node.graph.set_bound_to_node("resourceslice", slice_)
    if phase != "populated":
        for gone in CORPUS["phases"][phase]["delete_pods"]:
            node.graph.delete_pod(gone["namespace"], gone["name"])
    return node


AUTHORIZERS = {phase: populated(phase) for phase in ("populated", *CORPUS["phases"])}


@pytest.mark.parametrize("case", CORPUS["cases"], ids=[c["case"] for c in CORPUS["cases"]])
def test_decision_matches_upstream(case: dict[str, Any]) -> None:
    result = AUTHORIZERS[case.get("phase", "populated")].authorize(attributes_of(case))
    expected = Decision.ALLOW if case["allowed"] else Decision.NO_OPINION
    assert result.decision is expected, result.reason


def test_a_refused_secret_names_the_missing_relationship() -> None:
    case = {"user": "node0", "verb": "get", "resource": "secrets", "namespace": "ns0"}
    result = AUTHORIZERS["populated"].authorize(
        attributes_of({**case, "name": "secret0-pod0-node1"})
    )
    assert result.reason == "no relationship found between node 'node0' and this object"


@pytest.mark.parametrize(
    ("user", "groups"),
    [("system:node:node0", ()), ("node0", (NODES_GROUP,)), ("system:serviceaccount:a:b", ())],
    ids=["not-in-system-nodes", "no-prefix", "service-account"],
)
def test_anyone_but_a_node_gets_no_opinion_and_no_reason(
    user: str, groups: tuple[str, ...]
) -> None:
    attributes = Attributes(
        UserInfo(user, groups=groups),
        "get",
        resource="secrets",
        namespace="ns0",
        name="secret0-pod0-node0",
    )
    result = AUTHORIZERS["populated"].authorize(attributes)
    assert (result.decision, result.reason) == (Decision.NO_OPINION, "")


def test_a_node_user_without_a_name_is_an_unknown_node() -> None:
    attributes = Attributes(
        UserInfo("system:node:", groups=(NODES_GROUP,)), "get", resource="nodes"
    )
    assert (
        AUTHORIZERS["populated"].authorize(attributes).reason
        == 'unknown node for user "system:node:"'
    )


def test_a_mirror_pod_grants_nothing_but_itself() -> None:
    node = build_authorizer(["Node"]).node
    assert node is not None
    node.graph.set_pod(
        {
            "metadata": {
                "name": "static",
                "namespace": "ns0",
                "annotations": {"kubernetes.io/config.mirror": "x"},
            },
            "spec": {
                "nodeName": "node0",
                "volumes": [{"name": "s", "secret": {"secretName": "s"}}],
            },
        }
    )
    secret = {
        "user": "node0",
        "verb": "get",
        "resource": "secrets",
        "namespace": "ns0",
        "name": "s",
    }
    pod = {**secret, "resource": "pods", "name": "static"}
    assert node.authorize(attributes_of(secret)).decision is Decision.NO_OPINION
    assert node.authorize(attributes_of(pod)).decision is Decision.ALLOW


def test_rebinding_a_pod_moves_its_secrets_to_the_new_node() -> None:
    node = build_authorizer(["Node"]).node
    assert node is not None
    pod: dict[str, Any] = {
        "metadata": {"name": "p", "namespace": "ns0"},
        "spec": {
            "nodeName": "node0",
            "ephemeralContainers": [
                {
                    "name": "debug",
                    "env": [
                        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "dbg", "key": "k"}}}
                    ],
                }
            ],
        },
    }
    node.graph.set_pod(pod)
    secret = {"verb": "get", "resource": "secrets", "namespace": "ns0", "name": "dbg"}
    assert node.authorize(attributes_of({**secret, "user": "node0"})).allowed
    pod["spec"]["nodeName"] = "node1"
    node.graph.set_pod(pod)
    assert not node.authorize(attributes_of({**secret, "user": "node0"})).allowed
    assert node.authorize(attributes_of({**secret, "user": "node1"})).allowed


def test_a_deleted_pod_takes_its_edges_and_lonely_vertices_with_it() -> None:
    node = build_authorizer(["Node"]).node
    assert node is not None
    pod = {
        "metadata": {"name": "p", "namespace": "ns0"},
        "spec": {"nodeName": "node0", "volumes": [{"name": "s", "secret": {"secretName": "s1"}}]},
    }
    node.graph.set_pod(pod)
    assert node.graph.has_path("node0", "secret", "ns0", "s1")
    node.graph.delete_pod("ns0", "p")
    assert not node.graph.has_path("node0", "secret", "ns0", "s1")
    assert not node.graph.has_vertex("secret", "ns0", "s1")
    assert not node.graph.has_vertex("node", "", "node0")


def test_an_unbound_pod_adds_nothing() -> None:
    node = build_authorizer(["Node"]).node
    assert node is not None
    node.graph.set_pod(
        {"metadata": {"name": "p", "namespace": "ns0"}, "spec": {"serviceAccountName": "sa"}}
    )
    assert not node.graph.has_vertex("pod", "ns0", "p")
