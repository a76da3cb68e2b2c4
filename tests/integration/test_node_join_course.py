"""The course's node join, end to end with the real tools: ``kubeward token create`` writes a
bootstrap kubeconfig, ``kubeward node --bootstrap-kubeconfig`` joins with it, its client CSR is
approved automatically and signed, ``kubectl get csr,nodes`` shows both, the node's serving
certificate (approved by the administrator) is what ``openssl s_client`` sees on its port, and
the node's own identity is fenced by the Node authorizer."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubectl_runner import Kubectl

import kubeward
from kubeward.pki.csr import build_csr, csr_pem
from kubeward.pki.keys import generate_private_key
from kubeward.testing import running_cluster


def wait_for(check: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_node_joins_with_a_bootstrap_token(tmp_path: Path) -> None:
    with running_cluster(data_dir=tmp_path / "cluster") as cluster:
        env = dict(
            os.environ,
            PYTHONPATH=str(Path(kubeward.__file__).parents[1]),
            KUBECONFIG=str(cluster.admin_kubeconfig),
            HOME=str(tmp_path / "home"),
        )
        bootstrap = tmp_path / "bootstrap-kubelet.conf"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kubeward",
                "token",
                "create",
                "--bootstrap-kubeconfig",
                str(bootstrap),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        admin = Kubectl(cluster.admin_kubeconfig, tmp_path / "home-admin")
        node = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeward",
                "node",
                "--name",
                "worker-9",
                "--bootstrap-kubeconfig",
                str(bootstrap),
                "--kubeconfig",
                str(tmp_path / "kubelet.conf"),
                "--cert-dir",
                str(tmp_path / "pki"),
                "--rotate-server-certificates",
                "--port",
                "0",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # The client CSR is approved by the approving controller, not by us.
            wait_for(
                lambda: "worker-9" in admin.run("get", "nodes", check=False).stdout,
                "the node registered",
            )
            shown = admin.run("get", "csr,nodes").stdout
            client_csr = next(
                line
                for line in shown.splitlines()
                if "kube-apiserver-client-kubelet" in line and "system:bootstrap:" in line
            )
            assert "Approved,Issued" in client_csr
            assert "node/worker-9" in shown

            def pending_serving() -> str:
                for csr in json.loads(admin.run("get", "csr", "-o", "json").stdout)["items"]:
                    if csr["spec"]["signerName"] == "kubernetes.io/kubelet-serving" and not csr.get(
                        "status", {}
                    ).get("conditions"):
                        return str(csr["metadata"]["name"])
                return ""

            admin.run("certificate", "approve", wait_for(pending_serving, "the serving CSR"))
            port = wait_for(
                lambda: json.loads(admin.run("get", "node", "worker-9", "-o", "json").stdout)[
                    "status"
                ]["daemonEndpoints"]["kubeletEndpoint"]["Port"],
                "the kubelet port",
            )
            seen = subprocess.run(
                [
                    "openssl",
                    "s_client",
                    "-connect",
                    f"127.0.0.1:{port}",
                    "-CAfile",
                    str(cluster.ca_file),
                    "-verify_hostname",
                    "worker-9",
                ],
                input="",
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            assert "Verify return code: 0 (ok)" in seen
            assert "system:node:worker-9" in seen

            # The bootstrap token cannot mint worker-9's identity again: a CSR for a node that
            # already joined is left pending, while one for a new name is approved.
            as_bootstrap = Kubectl(bootstrap, tmp_path / "home-bootstrap")
            for name in ("worker-9", "worker-10"):
                key = generate_private_key("ecdsa-p256")
                request = csr_pem(build_csr(key, f"system:node:{name}", ["system:nodes"]))
                as_bootstrap.run(
                    "create",
                    "-f",
                    "-",
                    input=json.dumps(
                        {
                            "apiVersion": "certificates.k8s.io/v1",
                            "kind": "CertificateSigningRequest",
                            "metadata": {"name": f"again-{name}"},
                            "spec": {
                                "request": base64.b64encode(request).decode(),
                                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                                "usages": ["digital signature", "client auth"],
                            },
                        }
                    ),
                )

            def conditions(name: str) -> list[Any]:
                csr = json.loads(admin.run("get", "csr", name, "-o", "json").stdout)
                return list(csr.get("status", {}).get("conditions") or [])

            wait_for(lambda: conditions("again-worker-10"), "the new node's CSR approved")
            assert conditions("again-worker-9") == []

            # The node's own identity is fenced: its own Node yes, another node's no.
            as_node = Kubectl(tmp_path / "kubelet.conf", tmp_path / "home-node")
            assert as_node.run("get", "node", "worker-9").returncode == 0
            refused = as_node.run("get", "node", "some-other-node", check=False)
            assert "forbidden" in refused.stderr.lower()
        finally:
            node.send_signal(signal.SIGTERM)
            try:
                node.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                node.kill()
                node.communicate()
