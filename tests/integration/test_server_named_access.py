"""Named objects stay named: ``resourceNames`` grants never reach another object.

A matrix of every verb and URL form — collection, named path, the ``/watch/`` prefix,
``?watch=`` on a named path, ``metadata.name`` field selectors (``=``, ``==``, ``!=``, two terms),
cluster-wide and namespaced, JSON, Table and protobuf ``Accept`` headers, deletecollection and
every write — is sent by identities whose only grants name one object. The assertion is on the
raw response bytes: no marker of an object outside the grant ever appears, whatever the status,
and nothing stored changes through a refused request.

Watches run while the administrator keeps changing every object, so both the initial events and
the live event path are covered.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

# Every secret carries its marker in its data and in a label (which Table rows and partial
# metadata keep); a leak of any of them shows in the raw bytes.
SECRETS = {
    ("team-a", "s-foo"): "marker-a-foo",
    ("team-a", "s-bar"): "marker-a-bar",
    ("team-b", "s-foo"): "marker-b-foo",
    ("team-b", "s-other"): "marker-b-other",
    ("kube-system", "s-sys"): "marker-sys",
}
ACCEPTS = {
    "json": "application/json",
    "table": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    "protobuf": "application/vnd.kubernetes.protobuf,application/json",
}


def _marker_bytes(marker: str) -> list[bytes]:
    return [marker.encode(), base64.b64encode(marker.encode())]


@dataclass
class Caller:
    cluster: Cluster
    credentials: ClientCredentials

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        accept: str = "application/json",
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.cluster.port, context=self.credentials.ssl_context, timeout=30
        )
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Accept": accept}
            if payload is not None:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster(controller_manager=False) as running:
        admin = Caller(running, ClientCredentials.from_kubeconfig(running.admin_kubeconfig))
        for namespace in ("team-a", "team-b"):
            status, _ = admin.call("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
            assert status == 201
        for (namespace, name), marker in SECRETS.items():
            status, body = admin.call(
                "POST",
                f"/api/v1/namespaces/{namespace}/secrets",
                {
                    "metadata": {"name": name, "labels": {"marker": marker}},
                    "stringData": {"marker": marker},
                },
            )
            assert status == 201, body
        verbs = ["get", "list", "watch", "update", "patch", "delete", "deletecollection"]
        rule = {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s-foo"]}
        rule["verbs"] = verbs  # type: ignore[assignment]
        grants = [
            ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
             {"metadata": {"name": "one-secret"}, "rules": [rule]}),
            ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings",
             {"metadata": {"name": "one-secret"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "one-secret"},
              "subjects": [{"kind": "User", "name": "named-ns", "apiGroup": "rbac.authorization.k8s.io"}]}),
            ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
             {"metadata": {"name": "one-secret-everywhere"}, "rules": [rule]}),
            ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
             {"metadata": {"name": "one-secret-everywhere"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "one-secret-everywhere"},
              "subjects": [{"kind": "User", "name": "named-cluster", "apiGroup": "rbac.authorization.k8s.io"}]}),
            # A Role in one namespace that names cluster-scoped kinds: it must reach none of them.
            ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
             {"metadata": {"name": "cluster-kinds"},
              "rules": [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["*"]},
                        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["*"]}]}),
            ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings",
             {"metadata": {"name": "cluster-kinds"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cluster-kinds"},
              "subjects": [{"kind": "User", "name": "ns-admin", "apiGroup": "rbac.authorization.k8s.io"}]}),
        ]  # fmt: skip
        for method, path, body in grants:
            status, answer = admin.call(method, path, body)
            assert status == 201, answer
        status, _ = admin.call(
            "POST", "/api/v1/nodes", {"metadata": {"name": "node-secret-marker-node"}}
        )
        assert status == 201
        yield running


def _caller(cluster: Cluster, user: str) -> Caller:
    return Caller(cluster, ClientCredentials.from_kubeconfig(cluster.kubeconfig_for(user)))


def _stored(cluster: Cluster) -> dict[tuple[str, str], str]:
    """Every secret's resourceVersion, as the administrator sees it."""
    admin = Caller(cluster, ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig))
    status, body = admin.call("GET", "/api/v1/secrets")
    assert status == 200
    return {
        (i["metadata"]["namespace"], i["metadata"]["name"]): i["metadata"]["resourceVersion"]
        for i in json.loads(body)["items"]
        if (i["metadata"]["namespace"], i["metadata"]["name"]) in SECRETS
    }


def _leaks(body: bytes, allowed: set[tuple[str, str]]) -> list[str]:
    return [
        marker
        for key, marker in SECRETS.items()
        if key not in allowed and any(m in body for m in _marker_bytes(marker))
    ]


# (user, path, the secrets that user may see through it)
A_FOO = {("team-a", "s-foo")}
EVERY_FOO = {("team-a", "s-foo"), ("team-b", "s-foo")}
READS = [
    ("named-ns", "/api/v1/namespaces/team-a/secrets", A_FOO),
    ("named-ns", "/api/v1/secrets", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets/s-foo", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets/s-bar", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets/s-foo?watch=true", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets/s-bar?watch=true", A_FOO),
    ("named-ns", "/api/v1/secrets/s-foo", A_FOO),
    ("named-ns", "/api/v1/secrets/s-foo?watch=true", A_FOO),
    ("named-ns", "/api/v1/watch/secrets/s-foo", A_FOO),
    ("named-ns", "/api/v1/watch/namespaces/team-a/secrets/s-foo", A_FOO),
    ("named-ns", "/api/v1/watch/namespaces/team-a/secrets/s-bar", A_FOO),
    ("named-ns", "/api/v1/watch/namespaces/team-a/secrets", A_FOO),
    ("named-ns", "/api/v1/watch/namespaces/team-a/secrets/s-foo?fieldSelector=metadata.name%3Ds-bar", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3D%3Ds-foo", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-bar", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name!%3Ds-foo", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo,metadata.name%3Ds-bar", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo,metadata.namespace!%3Dx", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo&watch=true", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo&watch=yes", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-bar&watch=true", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3D..&watch=true", A_FOO),
    ("named-ns", "/api/v1/namespaces/team-b/secrets?fieldSelector=metadata.name%3Ds-foo", A_FOO),
    ("named-ns", "/api/v1/namespaces/kube-system/secrets?fieldSelector=metadata.name%3Ds-foo&watch=1", A_FOO),
    ("named-ns", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-foo", A_FOO),
    ("named-ns", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-foo&watch=true", A_FOO),
    ("named-cluster", "/api/v1/secrets", EVERY_FOO),
    ("named-cluster", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-foo", EVERY_FOO),
    ("named-cluster", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-foo&watch=true", EVERY_FOO),
    ("named-cluster", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-sys&watch=true", EVERY_FOO),
    ("named-cluster", "/api/v1/secrets/s-foo", EVERY_FOO),
    ("named-cluster", "/api/v1/secrets/s-foo?watch=true", EVERY_FOO),
    ("named-cluster", "/api/v1/watch/secrets/s-foo", EVERY_FOO),
    ("named-cluster", "/api/v1/watch/secrets?fieldSelector=metadata.name%3Ds-foo", EVERY_FOO),
    ("named-cluster", "/api/v1/watch/namespaces/kube-system/secrets/s-foo", EVERY_FOO),
    ("named-cluster", "/api/v1/namespaces/kube-system/secrets?fieldSelector=metadata.name%3Ds-foo&watch=true", EVERY_FOO),
    ("named-cluster", "/api/v1/namespaces/kube-system/secrets/s-sys", EVERY_FOO),
]  # fmt: skip


def _is_watch(path: str) -> bool:
    return "/watch/" in path or "watch=" in path


def _with_rv(path: str, rv: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}resourceVersion={rv}&timeoutSeconds=1"


@contextlib.contextmanager
def _churn(cluster: Cluster) -> Iterator[None]:
    """The administrator relabels every secret until the block ends, so watches see events."""
    admin = Caller(cluster, ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig))
    stop = threading.Event()

    def run() -> None:
        round_ = 0
        while not stop.is_set():
            round_ += 1
            for namespace, name in SECRETS:
                admin.call(
                    "PATCH",
                    f"/api/v1/namespaces/{namespace}/secrets/{name}",
                    {"metadata": {"labels": {"round": str(round_)}}},
                    content_type="application/merge-patch+json",
                )
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@pytest.mark.parametrize("accept", list(ACCEPTS), ids=list(ACCEPTS))
@pytest.mark.parametrize(("user", "path", "allowed"), READS, ids=[f"{u}:{p}" for u, p, _ in READS])
def test_reads_return_nothing_outside_the_grant(
    cluster: Cluster, user: str, path: str, allowed: set[tuple[str, str]], accept: str
) -> None:
    caller = _caller(cluster, user)
    if not _is_watch(path):
        status, body = caller.call("GET", path, accept=ACCEPTS[accept])
        assert status in (200, 400, 403, 404), body
        assert _leaks(body, allowed) == []
        return
    # From the start (initial events) and from now (live events while everything changes).
    now = json.loads(
        Caller(cluster, ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig)).call(
            "GET", "/api/v1/namespaces/team-a/secrets?limit=1"
        )[1]
    )["metadata"]["resourceVersion"]
    with _churn(cluster):
        for rv in ("0", now):
            status, body = caller.call("GET", _with_rv(path, rv), accept=ACCEPTS[accept])
            assert status in (200, 400, 403, 404), body
            assert _leaks(body, allowed) == []


def test_the_grant_itself_is_served(cluster: Cluster) -> None:
    """The matrix is not vacuous: the granted object does come back through each form."""
    caller = _caller(cluster, "named-ns")
    status, body = caller.call("GET", "/api/v1/namespaces/team-a/secrets/s-foo")
    assert status == 200 and b"marker-a-foo" in base64.b64decode(json.loads(body)["data"]["marker"])
    status, body = caller.call(
        "GET", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo"
    )
    assert status == 200
    assert [i["metadata"]["name"] for i in json.loads(body)["items"]] == ["s-foo"]
    with _churn(cluster):
        status, body = caller.call(
            "GET", _with_rv("/api/v1/watch/namespaces/team-a/secrets/s-foo", "0")
        )
    assert status == 200
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    names = {
        (e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in events
    }
    assert names == A_FOO
    assert len(events) >= 2  # the initial ADDED and at least one live MODIFIED
    status, body = caller.call(
        "GET", "/api/v1/namespaces/team-a/secrets/s-foo?watch=true"
    )  # a named GET stays a GET, as kube-apiserver routes it
    assert status == 200 and json.loads(body)["kind"] == "Secret"
    everywhere = _caller(cluster, "named-cluster")
    status, body = everywhere.call("GET", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-foo")
    assert status == 200
    assert {
        (i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(body)["items"]
    } == EVERY_FOO


def test_a_path_name_and_another_selected_name_are_a_bad_request(cluster: Cluster) -> None:
    status, body = _caller(cluster, "named-ns").call(
        "GET",
        "/api/v1/watch/namespaces/team-a/secrets/s-foo?fieldSelector=metadata.name%3Ds-bar",
    )
    assert status == 400
    assert json.loads(body)["message"] == "fieldSelector metadata.name doesn't match requested name"


WRITES = [
    ("POST", "/api/v1/namespaces/team-a/secrets", {"metadata": {"name": "s-new"}}, "application/json"),
    ("PUT", "/api/v1/namespaces/team-a/secrets/s-bar", {"metadata": {"name": "s-bar", "namespace": "team-a"}}, "application/json"),
    ("PATCH", "/api/v1/namespaces/team-a/secrets/s-bar", {"metadata": {"labels": {"x": "y"}}}, "application/merge-patch+json"),
    ("PATCH", "/api/v1/namespaces/team-a/secrets/s-bar", [{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}], "application/json-patch+json"),
    ("PATCH", "/api/v1/namespaces/team-a/secrets/s-bar", {"metadata": {"labels": {"x": "y"}}}, "application/strategic-merge-patch+json"),
    ("PATCH", "/api/v1/namespaces/team-a/secrets/s-bar?fieldManager=x", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s-bar"}}, "application/apply-patch+yaml"),
    ("DELETE", "/api/v1/namespaces/team-a/secrets/s-bar", None, "application/json"),
    ("DELETE", "/api/v1/namespaces/team-a/secrets", None, "application/json"),
    ("DELETE", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-foo", None, "application/json"),
    ("DELETE", "/api/v1/namespaces/team-a/secrets?fieldSelector=metadata.name%3Ds-bar", None, "application/json"),
    ("DELETE", "/api/v1/secrets/s-foo", None, "application/json"),
    ("PATCH", "/api/v1/secrets/s-foo", {"metadata": {"labels": {"x": "y"}}}, "application/merge-patch+json"),
    ("PUT", "/api/v1/namespaces/team-b/secrets/s-foo", {"metadata": {"name": "s-foo", "namespace": "team-b"}}, "application/json"),
    ("DELETE", "/api/v1/namespaces/team-b/secrets/s-foo", None, "application/json"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type"),
    WRITES,
    ids=[f"{m} {p} {c.split('/')[-1]}" for m, p, _, c in WRITES],
)
def test_writes_outside_the_grant_change_nothing(
    cluster: Cluster, method: str, path: str, body: object, content_type: str
) -> None:
    before = _stored(cluster)
    status, answer = _caller(cluster, "named-ns").call(
        method, path, body, content_type=content_type
    )
    assert status in (403, 404), answer
    assert _leaks(answer, A_FOO) == []
    assert _stored(cluster) == before


def test_writes_on_the_grant_are_allowed(cluster: Cluster) -> None:
    caller = _caller(cluster, "named-ns")
    status, body = caller.call(
        "PATCH",
        "/api/v1/namespaces/team-a/secrets/s-foo?dryRun=All",
        {"metadata": {"labels": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    assert status == 200, body
    status, body = caller.call("DELETE", "/api/v1/namespaces/team-a/secrets/s-foo?dryRun=All")
    assert status == 200, body


NAMESPACED_PATHS_TO_CLUSTER_KINDS = [
    ("GET", "/api/v1/namespaces/team-a/nodes"),
    ("GET", "/api/v1/namespaces/team-a/nodes/node-secret-marker-node"),
    ("GET", "/api/v1/namespaces/team-a/nodes?watch=true&timeoutSeconds=1"),
    ("GET", "/api/v1/watch/namespaces/team-a/nodes/node-secret-marker-node?timeoutSeconds=1"),
    ("GET", "/api/v1/namespaces/team-a/namespaces"),
    ("GET", "/api/v1/namespaces/team-a/namespaces/team-b"),
    ("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/clusterroles"),
    ("DELETE", "/api/v1/namespaces/team-a/nodes/node-secret-marker-node"),
    ("DELETE", "/api/v1/namespaces/team-a/namespaces/team-b"),
    ("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/clusterroles/admin"),
]


@pytest.mark.parametrize(("method", "path"), NAMESPACED_PATHS_TO_CLUSTER_KINDS)
def test_a_role_never_reaches_cluster_scoped_kinds(
    cluster: Cluster, method: str, path: str
) -> None:
    admin = Caller(cluster, ClientCredentials.from_kubeconfig(cluster.admin_kubeconfig))
    before = [admin.call("GET", p)[1] for p in ("/api/v1/nodes", "/api/v1/namespaces")]
    status, body = _caller(cluster, "ns-admin").call(method, path)
    assert status == 404, body
    assert b"node-secret-marker-node" not in body and b"team-b" not in body
    assert b"cluster-admin" not in body
    after = [admin.call("GET", p)[1] for p in ("/api/v1/nodes", "/api/v1/namespaces")]
    assert after == before
