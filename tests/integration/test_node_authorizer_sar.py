"""The Node authorizer in a real server: the held-out corpus through SubjectAccessReview.

The corpus (node_authorizer_corpus.yaml) re-expresses upstream's node_authorizer_test.go. Its
pods are created through the API with ``spec.nodeName`` set, their resource-claim statuses
written through ``pods/status``, and the graph follows them through the server's informer; every
case whose objects this server can hold (``needs``) is asked as a SubjectAccessReview.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import Cluster, running_cluster

CORPUS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "node_authorizer_corpus.yaml").read_text()
)


class Admin:
    def __init__(self, cluster: Cluster) -> None:
        self.url = cluster.url
        self.context = ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig).ssl_context

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def must(self, method: str, path: str, body: Any = None) -> Any:
        code, answer = self.call(method, path, body)
        assert code < 300, (code, answer)
        return answer

    def review(self, case: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            "verb": case["verb"],
            "group": case.get("group", ""),
            "resource": case["resource"],
            "subresource": case.get("subresource", ""),
            "namespace": case.get("namespace", ""),
            "name": case.get("name", ""),
        }
        resource_attributes: dict[str, Any] = {k: v for k, v in attributes.items() if v}
        if case.get("fieldSelector"):
            resource_attributes["fieldSelector"] = {"rawSelector": case["fieldSelector"]}
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:node:{case['user']}",
                "groups": ["system:nodes", "system:authenticated"],
                "resourceAttributes": resource_attributes,
            },
        }
        status: dict[str, Any] = self.must(
            "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body
        )["status"]
        return status


def served_resources(admin: Admin) -> dict[str, str]:
    """Every resource the server serves, by plural name (the ``needs`` of the corpus), and the
    path of its collection (the preferred version of its group)."""
    served = {r["name"]: f"/api/v1/{r['name']}" for r in admin.must("GET", "/api/v1")["resources"]}
    for group in admin.must("GET", "/apis")["groups"]:
        version = group["preferredVersion"]["groupVersion"]
        for r in admin.must("GET", f"/apis/{version}")["resources"]:
            served.setdefault(r["name"], f"/apis/{version}/{r['name']}")
    return served


# The cluster-scoped kinds of the setup that add edges besides pods, created when served.
OPTIONAL_SETUP = ("persistentvolumes", "volumeattachments", "resourceslices")


def wait_until_allowed(admin: Admin, case: dict[str, Any]) -> None:
    """The graph follows storage through a watch: poll (bounded) until it has caught up."""
    deadline = time.monotonic() + 20
    while not admin.review(case)["allowed"]:
        assert time.monotonic() < deadline, f"graph never caught up for {case}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Admin, set[str]]]:
    with running_cluster(data_dir=tmp_path_factory.mktemp("nodeauthz")) as cluster:
        admin = Admin(cluster)
        pods = CORPUS["setup"]["pods"]
        for namespace in sorted({p["metadata"]["namespace"] for p in pods}):
            admin.must("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
        for pod in pods:
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            account = pod["spec"].get("serviceAccountName")
            if account:  # the ServiceAccount admission plugin wants it to exist
                admin.must(
                    "POST",
                    f"/api/v1/namespaces/{namespace}/serviceaccounts",
                    {"metadata": {"name": account}},
                )
            spec = {k: v for k, v in pod.items() if k != "status"}
            created = admin.must("POST", f"/api/v1/namespaces/{namespace}/pods", spec)
            if "status" in pod:
                created["status"] = {**created.get("status", {}), **pod["status"]}
                admin.must("PUT", f"/api/v1/namespaces/{namespace}/pods/{name}/status", created)
        served = served_resources(admin)
        for resource in OPTIONAL_SETUP:
            if resource in served:
                for obj in CORPUS["setup"][resource]:
                    admin.must("POST", served[resource], obj)
        # The graph follows the writes through watches: wait until each allowed case is.
        for case in askable("populated", set(served)):
            if case["allowed"]:
                wait_until_allowed(admin, case)
        yield admin, set(served)


def askable(phase: str, served: set[str]) -> list[dict[str, Any]]:
    return [
        c
        for c in CORPUS["cases"]
        if c.get("phase", "populated") == phase and set(c.get("needs", ())) <= served
    ]


def test_every_askable_case_matches_upstream(populated: tuple[Admin, set[str]]) -> None:
    admin, served = populated
    cases = askable("populated", served)
    # Everything but the cases that need PersistentVolumes, VolumeAttachments or ResourceSlices.
    assert len(cases) >= 110
    wrong = []
    for case in cases:
        status = admin.review(case)
        if status["allowed"] != case["allowed"]:
            wrong.append((case["case"], status))
    assert wrong == []


def test_a_refusal_carries_the_node_authorizers_reason(
    populated: tuple[Admin, set[str]],
) -> None:
    admin, _ = populated
    case = {"user": "node0", "verb": "get", "resource": "secrets", "namespace": "ns0"}
    status = admin.review({**case, "name": "secret0-pod0-node1"})
    assert status["allowed"] is False
    # The Node authorizer's reason first, then RBAC's explanation (the chain's order).
    first = status["reason"].splitlines()[0]
    assert first == "no relationship found between node 'node0' and this object"


def test_deleting_a_pod_takes_its_secrets_away_from_its_node(
    populated: tuple[Admin, set[str]],
) -> None:
    admin, served = populated
    for gone in CORPUS["phases"]["pod3-deleted"]["delete_pods"]:
        admin.must(
            "DELETE",
            f"/api/v1/namespaces/{gone['namespace']}/pods/{gone['name']}?gracePeriodSeconds=0",
        )
    cases = askable("pod3-deleted", served)
    assert cases
    deadline = time.monotonic() + 20
    for case in cases:
        while admin.review(case)["allowed"] != case["allowed"]:
            assert time.monotonic() < deadline, case["case"]
            time.sleep(0.05)


def test_a_secret_of_an_ephemeral_container_is_its_nodes_once_added(
    populated: tuple[Admin, set[str]],
) -> None:
    """Ephemeral containers arrive through their subresource; the graph follows them."""
    admin, _ = populated
    case = {"verb": "get", "resource": "secrets", "namespace": "ns0", "name": "debug-creds"}
    assert not admin.review({**case, "user": "node0"})["allowed"]
    pod = "/api/v1/namespaces/ns0/pods/pod0-node0"
    current = admin.must("GET", f"{pod}/ephemeralcontainers")
    assert current["kind"] == "Pod"
    current["spec"]["ephemeralContainers"] = [
        {
            "name": "debugger",
            "image": "busybox:1.36",
            "targetContainerName": "c",
            "env": [
                {
                    "name": "TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "debug-creds", "key": "t"}},
                }
            ],
        }
    ]
    admin.must("PUT", f"{pod}/ephemeralcontainers", current)
    wait_until_allowed(admin, {**case, "user": "node0"})
    assert not admin.review({**case, "user": "node1"})["allowed"]
