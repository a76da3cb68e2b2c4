"""The Certificates API end to end: real kubectl, real openssl, the in-process controller-manager.

The course's onboarding flow (akshay), the agent-smith request for system:masters, and the
refusals: approval without permission, a forged requester, a changed spec, bad requests.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

import kubeward
from kubeward.testing.cluster import Cluster

pytestmark = pytest.mark.timeout(180)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_key_and_csr(workdir: Path, name: str, subject: str) -> bytes:
    openssl("genrsa", "-out", f"{name}.key", "2048", cwd=workdir)
    openssl(
        "req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=workdir
    )
    return (workdir / f"{name}.csr").read_bytes()


def csr_yaml(name: str, request: bytes, *, extra_spec: str = "", expiration: int = 86400) -> str:
    return (
        "apiVersion: certificates.k8s.io/v1\n"
        "kind: CertificateSigningRequest\n"
        f"metadata:\n  name: {name}\n"
        "spec:\n"
        f"  request: {base64.b64encode(request).decode()}\n"
        "  signerName: kubernetes.io/kube-apiserver-client\n"
        f"  expirationSeconds: {expiration}\n"
        "  usages:\n  - client auth\n"
        f"{extra_spec}"
    )


def get_csr(kubectl: Kubectl, name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(kubectl.run("get", "csr", name, "-o", "json").stdout)
    return result


def wait_for(kubectl: Kubectl, name: str, *, field: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll until status has ``field`` (certificate, or a Failed condition)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = get_csr(kubectl, name)
        status = obj.get("status") or {}
        types = {c.get("type") for c in status.get("conditions") or []}
        if (field == "certificate" and status.get("certificate")) or field in types:
            return obj
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: no {field} after {timeout}s: {status}")
        time.sleep(0.1)


def kubeward_cli(*args: str, cwd: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(kubeward.__file__).parents[1]))
    subprocess.run(
        [sys.executable, "-m", "kubeward", *args], cwd=cwd, env=env, check=True, capture_output=True
    )


@pytest.mark.parametrize(
    ("tool", "name"),
    [("openssl", "akshay"), ("kubeward", "akshay-kw")],
    ids=["openssl-req", "kubeward-pki-csr"],
)
def test_akshay_onboarding_flow(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path, tool: str, name: str
) -> None:
    if tool == "openssl":
        request = make_key_and_csr(tmp_path, "akshay", "/CN=akshay/O=dev/O=qa")
    else:
        openssl("genrsa", "-out", "akshay.key", "2048", cwd=tmp_path)
        kubeward_cli(
            "pki",
            "csr",
            "--key",
            "akshay.key",
            "--cn",
            "akshay",
            "--org",
            "dev",
            "--org",
            "qa",
            "--out",
            "akshay.csr",
            cwd=tmp_path,
        )
        request = (tmp_path / "akshay.csr").read_bytes()
    (tmp_path / "akshay-csr.yaml").write_text(csr_yaml(name, request))
    kubectl.run("apply", "-f", str(tmp_path / "akshay-csr.yaml"))

    listing = kubectl.run("get", "csr").stdout
    assert any(line.startswith(f"{name} ") and "Pending" in line for line in listing.splitlines())
    assert "SIGNERNAME" in listing and "REQUESTEDDURATION" in listing

    approved = kubectl.run("certificate", "approve", name).stdout
    assert "approved" in approved
    wait_for(kubectl, name, field="certificate")

    encoded = kubectl.run("get", "csr", name, "-o", "jsonpath={.status.certificate}").stdout
    (tmp_path / "akshay.crt").write_bytes(base64.b64decode(encoded))
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(cluster.ca_file), "akshay.crt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert "Approved,Issued" in kubectl.run("get", "csr", name).stdout

    akshay_conf = tmp_path / "akshay.conf"
    as_akshay = Kubectl(akshay_conf, kubectl.home)
    as_akshay.run(
        "config",
        "set-cluster",
        "kubeward",
        f"--server={cluster.url}",
        f"--certificate-authority={cluster.ca_file}",
        "--embed-certs=true",
    )
    as_akshay.run(
        "config",
        "set-credentials",
        "akshay",
        f"--client-key={tmp_path / 'akshay.key'}",
        f"--client-certificate={tmp_path / 'akshay.crt'}",
        "--embed-certs=true",
    )
    as_akshay.run("config", "set-context", "akshay", "--cluster=kubeward", "--user=akshay")
    as_akshay.run("config", "use-context", "akshay")
    whoami = as_akshay.run("auth", "whoami", "-o", "json").stdout
    user = json.loads(whoami)["status"]["userInfo"]
    assert user["username"] == "akshay"
    assert {"dev", "qa"} <= set(user["groups"])


def test_agent_smith_denied_then_deleted(kubectl: Kubectl, tmp_path: Path) -> None:
    request = make_key_and_csr(tmp_path, "smith", "/CN=agent-smith/O=system:masters")
    kubectl.run("apply", "-f", "-", input=csr_yaml("agent-smith", request))
    assert "denied" in kubectl.run("certificate", "deny", "agent-smith").stdout
    assert "Denied" in kubectl.run("get", "csr", "agent-smith").stdout
    again = kubectl.run("certificate", "approve", "agent-smith", check=False)
    assert again.returncode != 0 and "already Denied" in again.stderr
    kubectl.run("delete", "csr", "agent-smith")
    gone = kubectl.run("get", "csr", "agent-smith", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_agent_smith_approved_by_mistake_is_not_signed(kubectl: Kubectl, tmp_path: Path) -> None:
    request = make_key_and_csr(tmp_path, "smith2", "/CN=agent-smith/O=system:masters")
    kubectl.run("apply", "-f", "-", input=csr_yaml("agent-smith-2", request))
    kubectl.run("certificate", "approve", "agent-smith-2")
    obj = wait_for(kubectl, "agent-smith-2", field="Failed")
    failed = [c for c in obj["status"]["conditions"] if c["type"] == "Failed"]
    assert "certificate" not in obj["status"]
    assert failed[0]["reason"] == "SignerValidationFailure"
    assert "system:masters" in failed[0]["message"]
    assert "Approved,Failed" in kubectl.run("get", "csr", "agent-smith-2").stdout


SIGNER_APPROVER = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: signer-approver
rules:
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: ["kubernetes.io/*"]
  verbs: [approve]
"""


def test_approval_without_permission_is_forbidden(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    request = make_key_and_csr(tmp_path, "bob", "/CN=bob")
    kubectl.run("apply", "-f", "-", input=csr_yaml("bob", request))

    nobody = Kubectl(cluster.kubeconfig_for("nobody", ["dev"]), kubectl.home)
    refused = nobody.run("certificate", "approve", "bob", check=False)
    assert refused.returncode != 0 and "Forbidden" in refused.stderr

    # May update the approval subresource, but is no approver of the signer.
    kubectl.run(
        "create",
        "clusterrole",
        "csr-updater",
        "--verb=get,list,update",
        "--resource=certificatesigningrequests,certificatesigningrequests/approval",
    )
    kubectl.run(
        "create",
        "clusterrolebinding",
        "csr-updater",
        "--clusterrole=csr-updater",
        "--user=half-approver",
    )
    half = Kubectl(cluster.kubeconfig_for("half-approver"), kubectl.home)
    refused = half.run("certificate", "approve", "bob", check=False)
    assert refused.returncode != 0
    assert (
        'user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"'
        in refused.stderr
    )
    assert "Pending" in kubectl.run("get", "csr", "bob").stdout

    # With approve on the signer's domain wildcard, the same user may.
    # (kubectl create clusterrole checks resources against discovery; signers is not served.)
    kubectl.run("apply", "-f", "-", input=SIGNER_APPROVER)
    kubectl.run(
        "create",
        "clusterrolebinding",
        "signer-approver",
        "--clusterrole=signer-approver",
        "--user=half-approver",
    )
    assert "approved" in half.run("certificate", "approve", "bob").stdout


def test_requester_cannot_be_forged(cluster: Cluster, kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run(
        "create",
        "clusterrole",
        "csr-creator",
        "--verb=create,get",
        "--resource=certificatesigningrequests",
    )
    kubectl.run(
        "create", "clusterrolebinding", "csr-creator", "--clusterrole=csr-creator", "--user=jane"
    )
    jane = Kubectl(cluster.kubeconfig_for("jane", ["dev"]), kubectl.home)
    request = make_key_and_csr(tmp_path, "jane", "/CN=jane")
    forged = "  username: kubernetes-admin\n  groups:\n  - system:masters\n  uid: admin-uid\n"
    jane.run("create", "-f", "-", input=csr_yaml("jane", request, extra_spec=forged))
    spec = get_csr(kubectl, "jane")["spec"]
    assert spec["username"] == "jane"
    assert "system:masters" not in spec["groups"] and "dev" in spec["groups"]
    assert spec.get("uid", "") != "admin-uid"
    assert "jane" in kubectl.run("get", "csr", "jane").stdout.splitlines()[1]


def test_spec_is_immutable(kubectl: Kubectl, tmp_path: Path) -> None:
    request = make_key_and_csr(tmp_path, "fixed", "/CN=fixed")
    kubectl.run("apply", "-f", "-", input=csr_yaml("fixed", request))
    for patch in ('{"spec":{"expirationSeconds":3600}}', '{"spec":{"username":"someone"}}'):
        refused = kubectl.run("patch", "csr", "fixed", "--type=merge", "-p", patch, check=False)
        assert refused.returncode != 0
        assert "field is immutable" in refused.stderr
    assert get_csr(kubectl, "fixed")["spec"]["expirationSeconds"] == 86400


@pytest.mark.parametrize(
    ("name", "doc_change", "message"),
    [
        ("not-pem", ("request", "bm90IGEgY3Ny"), "PEM block type must be CERTIFICATE REQUEST"),
        ("bad-signer", ("signerName", "nodomain"), "spec.signerName"),
        ("short", ("expirationSeconds", "599"), "may not specify a duration less than 600 seconds"),
        ("bad-signature", ("request", "TAMPER"), "spec.request"),
        (
            "truncated",
            ("request", "TRUNCATE"),
            "the CERTIFICATE REQUEST PEM block has no END line: the request is truncated",
        ),
    ],
    ids=[
        "not-pem",
        "unknown-signer-format",
        "expiration-below-600",
        "signature-does-not-verify",
        "truncated-base64",
    ],
)
def test_bad_requests_are_422_and_not_stored(
    kubectl: Kubectl, tmp_path: Path, name: str, doc_change: tuple[str, str], message: str
) -> None:
    request = make_key_and_csr(tmp_path, name, f"/CN={name}")
    field, value = doc_change
    doc: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(request).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    }
    if value == "TAMPER":
        tampered = bytearray(
            subprocess.run(
                ["openssl", "req", "-in", f"{name}.csr", "-outform", "DER"],
                cwd=tmp_path,
                capture_output=True,
                check=True,
            ).stdout
        )
        tampered[-10] ^= 0x01
        pem = subprocess.run(
            ["openssl", "req", "-inform", "DER", "-outform", "PEM"],
            input=bytes(tampered),
            capture_output=True,
            check=True,
        ).stdout
        doc["spec"]["request"] = base64.b64encode(pem).decode()
    elif value == "TRUNCATE":
        encoded = base64.b64encode(request).decode()
        doc["spec"]["request"] = encoded[: len(encoded) // 8 * 4]
    else:
        doc["spec"][field] = int(value) if value.isdigit() else value
    result = kubectl.run("create", "-f", "-", input=json.dumps(doc), check=False)
    assert result.returncode != 0
    assert "is invalid" in result.stderr and message in result.stderr
    assert "cryptography.io" not in result.stderr
    missing = kubectl.run("get", "csr", name, check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_controller_manager_with_a_wrong_kubeconfig_says_401(
    cluster: Cluster, tmp_path: Path
) -> None:
    admin = cluster.admin_kubeconfig.read_text()
    wrong = tmp_path / "wrong.conf"
    as_kubectl = Kubectl(wrong, tmp_path)
    as_kubectl.run(
        "config",
        "set-cluster",
        "kubeward",
        f"--server={cluster.url}",
        f"--certificate-authority={cluster.ca_file}",
        "--embed-certs=true",
    )
    as_kubectl.run("config", "set-credentials", "cm", "--token=not-a-real-token")
    as_kubectl.run("config", "set-context", "cm", "--cluster=kubeward", "--user=cm")
    as_kubectl.run("config", "use-context", "cm")
    env = dict(os.environ, PYTHONPATH=str(Path(kubeward.__file__).parents[1]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubeward",
            "controller-manager",
            "--kubeconfig",
            str(wrong),
            "--cluster-signing-cert-file",
            str(cluster.ca_file),
            "--cluster-signing-key-file",
            str(cluster.data_dir / "pki" / "ca.key"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert admin  # the admin kubeconfig is untouched by the test
    assert result.returncode == 1
    assert "401 Unauthorized" in result.stderr
    assert str(wrong) in result.stderr
    assert "Traceback" not in result.stderr


NODE_RENEWAL = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: node-autoapprove-certificate-rotation
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:certificates.k8s.io:certificatesigningrequests:selfnodeclient
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: node-csr-creator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:node-bootstrapper
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
"""


def node_csr_doc(tmp_path: Path, name: str, node: str) -> str:
    openssl(
        "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{node}.key", cwd=tmp_path
    )
    openssl(
        "req",
        "-new",
        "-key",
        f"{node}.key",
        "-subj",
        f"/O=system:nodes/CN=system:node:{node}",
        "-out",
        f"{node}.csr",
        cwd=tmp_path,
    )
    doc = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode((tmp_path / f"{node}.csr").read_bytes()).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"],
        },
    }
    return json.dumps(doc)


def test_node_renewal_is_auto_approved_and_signed(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("apply", "-f", "-", input=NODE_RENEWAL)
    node = Kubectl(cluster.kubeconfig_for("system:node:n1", ["system:nodes"]), kubectl.home)
    node.run("create", "-f", "-", input=node_csr_doc(tmp_path, "node-n1", "n1"))
    obj = wait_for(kubectl, "node-n1", field="certificate")
    approved = [c for c in obj["status"]["conditions"] if c["type"] == "Approved"]
    assert approved[0]["reason"] == "AutoApproved"
    assert "self kubelet client certificate" in approved[0]["message"]


def test_node_requests_by_others_wait_for_a_person(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl.run("apply", "-f", "-", input=NODE_RENEWAL)
    kubectl.run(
        "create",
        "clusterrole",
        "csr-maker",
        "--verb=create,get",
        "--resource=certificatesigningrequests",
    )
    kubectl.run(
        "create", "clusterrolebinding", "csr-maker", "--clusterrole=csr-maker", "--user=eve"
    )
    eve = Kubectl(cluster.kubeconfig_for("eve"), kubectl.home)
    eve.run("create", "-f", "-", input=node_csr_doc(tmp_path, "node-n2-by-eve", "n2"))
    # The approver has one worker taking keys in the order the watch delivered them, so once a
    # later self-renewal is signed, eve's request has been looked at and left alone.
    node = Kubectl(cluster.kubeconfig_for("system:node:n3", ["system:nodes"]), kubectl.home)
    node.run("create", "-f", "-", input=node_csr_doc(tmp_path, "node-n3", "n3"))
    wait_for(kubectl, "node-n3", field="certificate")
    assert "Pending" in kubectl.run("get", "csr", "node-n2-by-eve").stdout


def test_a_request_that_is_not_base64_is_a_bad_request(kubectl: Kubectl, tmp_path: Path) -> None:
    """As kube-apiserver: ``spec.request`` is a []byte field, refused by the decoder (400)."""
    request = make_key_and_csr(tmp_path, "raw-pem", "/CN=raw-pem")
    doc = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "raw-pem"},
        "spec": {
            "request": request.decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    }
    result = kubectl.run("create", "-f", "-", input=json.dumps(doc), check=False)
    assert result.returncode != 0
    assert "Error from server (BadRequest)" in result.stderr
    assert "illegal base64 data at input byte 0 (spec.request must be base64" in result.stderr
    missing = kubectl.run("get", "csr", "raw-pem", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
