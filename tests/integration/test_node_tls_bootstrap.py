"""A node joins through the Certificates API: TLS bootstrapping with a bootstrap credential,
the CSR in ``kubectl get csr``, the node's own certificate written 0600, rotation through the
node's own identity, and a serving certificate on the node's HTTPS port checked by openssl."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from kubectl_runner import Kubectl

from kubeward.client.api import APIClient
from kubeward.node import credentials
from kubeward.testing import running_cluster

BOOTSTRAP_TOKEN = "07401b.f395accd246ae52d"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    base = tmp_path_factory.mktemp("tls-bootstrap")
    tokens = base / "tokens.csv"
    # A static bootstrap credential in system:bootstrappers, as clusters did before bootstrap
    # tokens; the CSR flow after it is the same.
    tokens.write_text(f'{BOOTSTRAP_TOKEN},kubelet-bootstrap,10001,"system:bootstrappers"\n')
    with running_cluster(token_auth_file=tokens) as running:
        admin = Kubectl(running.admin_kubeconfig, base / "home")
        admin.run(
            "create",
            "clusterrolebinding",
            "bootstrappers",
            "--clusterrole=system:node-bootstrapper",
            "--group=system:bootstrappers",
        )
        admin.run(
            "create",
            "clusterrolebinding",
            "nodes",
            "--clusterrole=system:node",
            "--group=system:nodes",
        )
        yield running


def bootstrap_kubeconfig(cluster: Any, path: Path) -> Path:
    admin = Kubectl(cluster.admin_kubeconfig, path.parent / "home-b")
    doc = json.loads(admin.run("config", "view", "--raw", "--minify", "-o", "json").stdout)
    doc["users"] = [{"name": "bootstrap", "user": {"token": BOOTSTRAP_TOKEN}}]
    doc["contexts"][0]["context"]["user"] = "bootstrap"
    path.write_text(json.dumps(doc))
    return path


def approve_pending(admin: Kubectl, signer: str, seen: frozenset[str] = frozenset()) -> str:
    """Approve the next request to ``signer`` (one not in ``seen``). A node's renewal of its own
    client certificate may already be approved: kubeadm's RBAC lets the csrapproving controller
    approve ``selfnodeclient`` requests of ``system:nodes``."""

    def pending() -> str:
        csrs = json.loads(admin.run("get", "csr", "-o", "json").stdout)["items"]
        for csr in csrs:
            name = str(csr["metadata"]["name"])
            if csr["spec"]["signerName"] != signer or name in seen:
                continue
            conditions = csr.get("status", {}).get("conditions") or []
            if not conditions or any(c.get("reason") == "AutoApproved" for c in conditions):
                return name
        return ""

    name = wait_for(pending, f"a {signer} CSR")
    admin.run("certificate", "approve", name)
    return name


def test_a_node_joins_with_a_bootstrap_credential(cluster: Any, tmp_path: Path) -> None:
    admin = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    bootstrap = bootstrap_kubeconfig(cluster, tmp_path / "bootstrap.conf")
    kubeconfig, cert_dir = tmp_path / "kubelet.conf", tmp_path / "pki"
    env = dict(os.environ, HOME=str(tmp_path / "home-node"))
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubeward",
            "node",
            "--name",
            "worker-1",
            "--bootstrap-kubeconfig",
            str(bootstrap),
            "--kubeconfig",
            str(kubeconfig),
            "--cert-dir",
            str(cert_dir),
            "--rotate-server-certificates",
            "--port",
            "0",
            "--pod-cidr",
            "10.244.7.0/24",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client_csr = approve_pending(admin, "kubernetes.io/kube-apiserver-client-kubelet")
        requested = json.loads(admin.run("get", "csr", client_csr, "-o", "json").stdout)
        assert requested["spec"]["username"] == "kubelet-bootstrap"
        assert requested["spec"]["usages"] == ["digital signature", "client auth"]

        pem = cert_dir / credentials.CLIENT_FILE
        wait_for(pem.exists, "the node's certificate file")
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        cert = x509.load_pem_x509_certificate(pem.read_bytes())
        assert cert.subject.rfc4514_string() == "CN=system:node:worker-1,O=system:nodes"

        wait_for(
            lambda: "worker-1" in admin.run("get", "nodes", check=False).stdout,
            "the node registered",
        )
        table = admin.run("get", "csr").stdout
        assert client_csr in table and "Approved,Issued" in table

        approve_pending(admin, "kubernetes.io/kubelet-serving")
        port = wait_for(
            lambda: json.loads(admin.run("get", "node", "worker-1", "-o", "json").stdout)["status"][
                "daemonEndpoints"
            ]["kubeletEndpoint"]["Port"],
            "the kubelet port reported",
        )
        shown = subprocess.run(
            [
                "openssl",
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                "-CAfile",
                str(cluster.ca_file),
                "-showcerts",
            ],
            input="",
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        assert "Verify return code: 0 (ok)" in shown
        assert "CN = system:node:worker-1" in shown or "CN=system:node:worker-1" in shown
    finally:
        node.send_signal(signal.SIGTERM)
        try:
            node.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            node.kill()
            node.communicate()


def test_rotation_goes_through_the_nodes_own_identity(cluster: Any, tmp_path: Path) -> None:
    admin = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    bootstrap = bootstrap_kubeconfig(cluster, tmp_path / "bootstrap.conf")
    kubeconfig, cert_dir = tmp_path / "kubelet.conf", tmp_path / "pki"

    async def join_then_rotate() -> str:
        await credentials.bootstrap(
            "worker-2",
            bootstrap_kubeconfig=bootstrap,
            kubeconfig=kubeconfig,
            cert_dir=cert_dir,
            timeout=30,
        )
        async with APIClient.from_kubeconfig(kubeconfig) as client:
            await credentials.rotate_client_certificate(
                client, "worker-2", cert_dir, kubeconfig, timeout=30
            )
            review = await client.create_raw(
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
        return str(review["status"]["userInfo"]["username"])

    approvals: list[str] = []
    before = frozenset(
        c["metadata"]["name"]
        for c in json.loads(admin.run("get", "csr", "-o", "json").stdout)["items"]
    )

    async def approver() -> None:
        for _ in range(2):
            approvals.append(
                await asyncio.to_thread(
                    approve_pending,
                    admin,
                    "kubernetes.io/kube-apiserver-client-kubelet",
                    frozenset(approvals) | before,
                )
            )

    async def both() -> str:
        approving = asyncio.create_task(approver())
        user = await join_then_rotate()
        await approving
        return user

    first = (
        x509.load_pem_x509_certificate((cert_dir / credentials.CLIENT_FILE).read_bytes())
        if (cert_dir / credentials.CLIENT_FILE).exists()
        else None
    )
    assert first is None
    assert asyncio.run(both()) == "system:node:worker-2"
    second = json.loads(admin.run("get", "csr", approvals[1], "-o", "json").stdout)
    assert second["spec"]["username"] == "system:node:worker-2"  # the selfnodeclient case
