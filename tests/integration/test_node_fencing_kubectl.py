"""The course's node flow against a real server, with the real kubectl.

A node's identity (CN=system:node:worker-1, O=system:nodes, issued by the cluster CA) reads a
Secret used by a pod bound to it and is refused, with the Node authorizer's reason, one used only
by a pod on another node; it cannot give itself a ``node-restriction.kubernetes.io/`` label nor
patch another node (NodeRestriction). A bootstrap token that is expired or lacks the
authentication usage is 401 with the reason logged; a good one, in kubeadm's default group, may
post a node client CSR that the controller-manager approves and signs.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubectl_runner import Kubectl

from kubeward.kubeconfig.tls import ClientCredentials
from kubeward.testing import Cluster, running_cluster

SECRET_TYPE = "bootstrap.kubernetes.io/token"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(data_dir=tmp_path_factory.mktemp("fencing")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    admin = Kubectl(cluster.admin_kubeconfig, tmp_path_factory.mktemp("admin-home"))
    admin.run("create", "-f", "-", input=json.dumps(_setup()))
    return admin


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Kubectl]]:
    """A cluster without the controller-manager: its tokencleaner would delete an expired token
    before the token could be refused."""
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("quiet"), controller_manager=False
    ) as running:
        yield running, Kubectl(running.admin_kubeconfig, tmp_path_factory.mktemp("quiet-home"))


@pytest.fixture(scope="module")
def worker1(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    config = cluster.kubeconfig_for("system:node:worker-1", ["system:nodes"])
    return Kubectl(config, tmp_path_factory.mktemp("worker-1-home"))


def _pod(name: str, node: str, secret: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
            "volumes": [{"name": "creds", "secret": {"secretName": secret}}],
        },
    }


def _setup() -> dict[str, object]:
    def secret(name: str) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": "default"},
            "stringData": {"password": name},
        }

    def node(name: str) -> dict[str, object]:
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}

    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            node("worker-1"),
            node("worker-2"),
            secret("db-pass"),
            secret("other-pass"),
            _pod("web", "worker-1", "db-pass"),
            _pod("batch", "worker-2", "other-pass"),
        ],
    }


def _eventually(worker: Kubectl, *args: str) -> str:
    """The Node authorizer's graph follows the pods through a watch: wait (bounded) for it."""
    deadline = time.monotonic() + 20
    while True:
        result = worker.run(*args, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result.stdout + result.stderr
        time.sleep(0.1)


def test_a_node_reads_the_secret_of_a_pod_bound_to_it(admin: Kubectl, worker1: Kubectl) -> None:
    out = _eventually(worker1, "get", "secret", "db-pass", "-o", "jsonpath={.data.password}")
    assert base64.b64decode(out).decode() == "db-pass"


def test_a_node_is_refused_a_secret_used_only_on_another_node(
    admin: Kubectl, worker1: Kubectl
) -> None:
    _eventually(worker1, "get", "secret", "db-pass")
    result = worker1.run("get", "secret", "other-pass", check=False)
    assert result.returncode != 0
    assert (
        'Error from server (Forbidden): secrets "other-pass" is forbidden: User '
        '"system:node:worker-1" cannot get resource "secrets" in API group "" in the namespace '
        "\"default\": no relationship found between node 'worker-1' and this object"
    ) in result.stderr


def test_a_node_cannot_give_itself_a_node_restriction_label(
    admin: Kubectl, worker1: Kubectl
) -> None:
    result = worker1.run(
        "label", "node", "worker-1", "node-restriction.kubernetes.io/x=y", check=False
    )
    assert result.returncode != 0
    assert (
        'nodes "worker-1" is forbidden: is not allowed to modify labels: '
        "node-restriction.kubernetes.io/x"
    ) in result.stderr
    worker1.run("label", "node", "worker-1", "team=blue")  # an ordinary label is its own to set


def test_a_node_cannot_patch_another_node(
    cluster: Cluster, admin: Kubectl, worker1: Kubectl
) -> None:
    # kubectl reads the node first, which the Node authorizer refuses (selectors are on in 1.32).
    result = worker1.run(
        "patch", "node", "worker-2", "-p", '{"metadata":{"labels":{"team":"red"}}}', check=False
    )
    assert result.returncode != 0
    assert "node 'worker-1' cannot read 'worker-2', only its own Node object" in result.stderr
    # The PATCH itself is authorized (as upstream's) and refused by NodeRestriction.
    credentials = ClientCredentials.from_kubeconfig(worker1.kubeconfig)
    request = urllib.request.Request(
        f"{cluster.url}/api/v1/nodes/worker-2",
        data=b'{"metadata":{"labels":{"team":"red"}}}',
        method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30)
    status = json.loads(caught.value.read())
    assert (caught.value.code, status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        'nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"'
    )
    labels = admin.run("get", "node", "worker-2", "-o", "jsonpath={.metadata.labels}").stdout
    assert "red" not in labels


# --- bootstrap tokens ---------------------------------------------------------------------


def _token_secret(token_id: str, secret: str, **data: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "stringData": {"token-id": token_id, "token-secret": secret, **data},
    }


def _token_kubeconfig(cluster: Cluster, token: str, home: Path) -> Kubectl:
    config = home / "bootstrap.conf"
    kubectl = Kubectl(config, home)
    kubectl.run(
        "config",
        "set-cluster",
        "k",
        f"--server={cluster.url}",
        f"--certificate-authority={cluster.ca_file}",
        "--embed-certs",
    )
    kubectl.run("config", "set-credentials", "bootstrap", f"--token={token}")
    kubectl.run("config", "set-context", "k", "--cluster=k", "--user=bootstrap")
    kubectl.run("config", "use-context", "k")
    return kubectl


def _future(hours: int) -> str:
    stamp = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("token_id", "data", "reason"),
    [
        (
            "expird",
            {"expiration": _future(-1), "usage-bootstrap-authentication": "true"},
            "expired at",
        ),
        (
            "signon",
            {"expiration": _future(1), "usage-bootstrap-signing": "true"},
            "not marked usage-bootstrap-authentication=true",
        ),
    ],
    ids=["expired", "signing-usage-only"],
)
def test_a_bad_bootstrap_token_is_401_with_the_reason_logged(
    quiet: tuple[Cluster, Kubectl],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    token_id: str,
    data: dict[str, str],
    reason: str,
) -> None:
    cluster, admin = quiet
    admin.run(
        "create", "-f", "-", input=json.dumps(_token_secret(token_id, "0123456789abcdef", **data))
    )
    kubectl = _token_kubeconfig(cluster, f"{token_id}.0123456789abcdef", tmp_path)
    with caplog.at_level(logging.WARNING, logger="kubeward.apiserver"):
        result = kubectl.run("auth", "whoami", check=False)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert (
        f"Bootstrap secret kube-system/bootstrap-token-{token_id} matching bearer token" in logged
    )
    assert reason in logged


def _node_csr(name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{name}"),
        ]
    )
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    return base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode()


def test_a_good_bootstrap_token_posts_a_node_csr_that_is_approved_and_signed(
    cluster: Cluster, admin: Kubectl, tmp_path: Path
) -> None:
    admin.run(
        "create",
        "-f",
        "-",
        input=json.dumps(
            _token_secret(
                "abcdef",
                "0123456789abcdef",
                expiration=_future(1),
                **{
                    "usage-bootstrap-authentication": "true",
                    "usage-bootstrap-signing": "true",
                    "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
                },
            )
        ),
    )
    kubectl = _token_kubeconfig(cluster, "abcdef.0123456789abcdef", tmp_path)
    who = json.loads(kubectl.run("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == "system:bootstrap:abcdef"
    assert "system:bootstrappers:kubeadm:default-node-token" in who["groups"]
    csr = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "node-csr-worker-3"},
        "spec": {
            "request": _node_csr("worker-3"),
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"],
        },
    }
    kubectl.run("create", "-f", "-", input=json.dumps(csr))
    deadline = time.monotonic() + 30
    while True:
        got = json.loads(kubectl.run("get", "csr", "node-csr-worker-3", "-o", "json").stdout)
        conditions = {c["type"]: c for c in got.get("status", {}).get("conditions", [])}
        if "Approved" in conditions and got["status"].get("certificate"):
            break
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    assert conditions["Approved"]["reason"] == "AutoApproved"
    assert conditions["Approved"]["message"] == (
        "Auto approving kubelet client certificate after SubjectAccessReview."
    )


def test_the_tokencleaner_deletes_an_expired_token(cluster: Cluster, admin: Kubectl) -> None:
    expired = _token_secret(
        "oldtok",
        "0123456789abcdef",
        expiration=_future(-1),
        **{"usage-bootstrap-authentication": "true"},
    )
    admin.run("create", "-f", "-", input=json.dumps(expired))
    deadline = time.monotonic() + 30
    while (
        admin.run(
            "get", "secret", "-n", "kube-system", "bootstrap-token-oldtok", check=False
        ).returncode
        == 0
    ):
        assert time.monotonic() < deadline, "the expired token was never deleted"
        time.sleep(0.1)


def test_kubectl_debug_adds_an_ephemeral_container(admin: Kubectl) -> None:
    admin.run("debug", "web", "--image=busybox:1.36", "-c", "debugger", "--target=app")
    names = admin.run(
        "get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers[*].name}"
    ).stdout
    assert names == "debugger"
    # Once added, an ephemeral container cannot be changed: the subresource refuses it (422).
    pod = json.loads(admin.run("get", "--raw", "/api/v1/namespaces/default/pods/web").stdout)
    pod["spec"]["ephemeralContainers"][0]["image"] = "busybox:1.37"
    result = admin.run(
        "replace",
        "--raw",
        "/api/v1/namespaces/default/pods/web/ephemeralcontainers",
        "-f",
        "-",
        input=json.dumps(pod),
        check=False,
    )
    assert result.returncode != 0
    assert 'existing ephemeral containers \\"debugger\\" may not be changed' in result.stderr or (
        'existing ephemeral containers "debugger" may not be changed' in result.stderr
    )


def _post_as(
    cluster: Cluster, kubeconfig: Path, path: str, body: object
) -> tuple[int, dict[str, Any]]:
    credentials = ClientCredentials.from_kubeconfig(kubeconfig)
    request = urllib.request.Request(
        f"{cluster.url}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, context=credentials.ssl_context, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_node_gets_tokens_only_bound_to_its_own_pods(
    cluster: Cluster, admin: Kubectl, worker1: Kubectl
) -> None:
    _eventually(worker1, "get", "pod", "web")
    uids = {
        name: admin.run("get", "pod", name, "-o", "jsonpath={.metadata.uid}").stdout
        for name in ("web", "batch")
    }
    path = "/api/v1/namespaces/default/serviceaccounts/default/token"

    def request(pod: str | None) -> tuple[int, dict[str, Any]]:
        spec: dict[str, Any] = {"audiences": []}
        if pod is not None:
            spec["boundObjectRef"] = {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod,
                "uid": uids[pod],
            }
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        return _post_as(cluster, worker1.kubeconfig, path, body)

    code, answer = request("web")
    assert code == 201, answer
    assert answer["status"]["token"]
    code, answer = request(None)
    assert (code, answer["message"]) == (
        403,
        'serviceaccounts "default" is forbidden: node requested token not bound to a pod',
    )
    code, answer = request("batch")
    assert (code, answer["message"]) == (
        403,
        'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled '
        "on a different node",
    )
