"""A newcomer's first hour, scripted: the README's install and tour, then the course's flows.

A fresh virtualenv gets the checkout with ``pip install`` (the README's install; dependencies
come from the system site packages, so the run needs no network and stays bounded), then
everything runs from that virtualenv's ``kubeward`` with the real kubectl, openssl and curl, in
a fresh directory, and every output is checked. The only departure from the README: ``--port``,
so that the run does not collide with another server on 6443.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).parents[2]
pytestmark = pytest.mark.timeout(900)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Newcomer:
    """A shell in a fresh directory, with the virtualenv first on PATH and no PYTHONPATH."""

    def __init__(self, home: Path, venv: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KUBECONFIG")}
        self.env["HOME"] = str(home)
        self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"
        self.env["VIRTUAL_ENV"] = str(venv)

    def run(
        self, *args: str, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args),
            cwd=self.home,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok:
            assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python3 -m venv`` and the README's ``pip install .`` of a copy of the checkout."""
    base = tmp_path_factory.mktemp("newcomer")
    source = base / "kubeward"
    shutil.copytree(CHECKOUT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(CHECKOUT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    target = base / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(target)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    installed = subprocess.run(
        [str(target / "bin" / "pip"), "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "."],
        cwd=source, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import kubeward; print(kubeward.__file__)"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    return target


@pytest.fixture(scope="module")
def cluster(venv: Path, tmp_path_factory: pytest.TempPathFactory):
    """``kubeward up`` in a fresh directory; yields the shell, the banner and the port."""
    home = tmp_path_factory.mktemp("home")
    user = Newcomer(home, venv)
    port = free_port()
    proc = subprocess.Popen(
        ["kubeward", "up", "--port", str(port)],
        cwd=home, env=user.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    banner: list[str] = []
    while not banner or not banner[-1].startswith("Stop with Ctrl-C"):
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        banner.append(line.rstrip("\n"))
    user.env["KUBECONFIG"] = str(home / ".kubeward" / "admin.conf")
    try:
        yield user, banner, port
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        with proc.stdout, proc.stderr:
            proc.stdout.read()
            proc.stderr.read()
    assert proc.returncode == 0


def readme_block(after: str) -> list[str]:
    readme = (CHECKOUT / "README.md").read_text()
    return readme.split(after + "\n\n```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()


def test_the_readme_banner_and_first_commands(cluster) -> None:
    user, banner, port = cluster
    assert banner[0] == f"kubeward is up: https://127.0.0.1:{port}"
    shown = [line.strip() for line in banner if line.strip().startswith("kubectl ")]
    assert shown == readme_block("prints what to type next:")[1:]
    assert user.run("kubectl", "get", "namespaces", "-o", "name").stdout.split() == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]
    whoami = user.run("kubectl", "auth", "whoami").stdout
    assert "kubernetes-admin" in whoami and "kubeadm:cluster-admins" in whoami
    denied = user.run("kubectl", "auth", "can-i", "create", "pods", "--as", "dev-user", ok=False)
    assert denied.returncode == 1 and denied.stdout.startswith("no")


def test_the_readme_tour_of_pki_and_users(cluster) -> None:
    user, _, port = cluster
    check = user.run("kubeward", "pki", "check").stdout
    assert check.startswith("CERTIFICATE ") and "\napiserver " in check and "expired" not in check
    audit = user.run("kubeward", "pki", "audit", ".kubeward", ok=False)
    assert audit.returncode in (0, 3), audit.stdout + audit.stderr  # clean, or warnings only
    made = user.run(
        "kubeward", "config", "new-user", "--name", "jane", "--org", "dev", "--via-csr",
        "--kubeconfig", ".kubeward/admin.conf", "--approve", "--out", "jane.kubeconfig",
    )  # fmt: skip
    assert (user.home / "jane.kubeconfig").exists(), made.stderr
    jane = user.run("kubectl", "--kubeconfig", "jane.kubeconfig", "auth", "whoami").stdout
    assert "jane" in jane and "dev" in jane
    assert f"https://127.0.0.1:{port}" in (user.home / "jane.kubeconfig").read_text()


def test_the_course_csr_flow_with_openssl_kubectl_and_curl(cluster) -> None:
    """Akshay's key and CSR with openssl, the CSR object, approval, then curl with the result."""
    user, _, port = cluster
    user.run("openssl", "genrsa", "-out", "akshay.key", "2048")
    user.run(
        "openssl", "req", "-new", "-key", "akshay.key", "-subj", "/CN=akshay", "-out", "akshay.csr"
    )
    request = base64.b64encode((user.home / "akshay.csr").read_bytes()).decode()
    manifest = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "akshay"},
        "spec": {
            "request": request,
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    }
    created = user.run("kubectl", "apply", "-f", "-", stdin=json.dumps(manifest)).stdout
    assert created.strip() == "certificatesigningrequest.certificates.k8s.io/akshay created"
    pending = user.run("kubectl", "get", "csr", "akshay", "--no-headers").stdout
    assert "Pending" in pending
    approved = user.run("kubectl", "certificate", "approve", "akshay").stdout
    assert approved.strip() == "certificatesigningrequest.certificates.k8s.io/akshay approved"
    issued = ""
    for _ in range(100):  # the controller-manager signs asynchronously; bounded wait
        issued = user.run(
            "kubectl", "get", "csr", "akshay", "-o", "jsonpath={.status.certificate}"
        ).stdout
        if issued:
            break
        time.sleep(0.1)
    assert issued, "the CSR was approved but never signed"
    (user.home / "akshay.crt").write_bytes(base64.b64decode(issued))
    ca = user.home / ".kubeward" / "pki" / "ca.crt"
    verified = user.run("openssl", "verify", "-CAfile", str(ca), "akshay.crt").stdout
    assert verified.strip() == "akshay.crt: OK"
    pods = user.run(
        "curl", "-sS", f"https://127.0.0.1:{port}/api/v1/namespaces/default/pods",
        "--key", "akshay.key", "--cert", "akshay.crt", "--cacert", str(ca),
    ).stdout  # fmt: skip
    status = json.loads(pods)
    assert (
        status["code"] == 403 and 'User "akshay" cannot list resource "pods"' in status["message"]
    )
    anonymous = user.run("curl", "-sS", "--cacert", str(ca), f"https://127.0.0.1:{port}/healthz")
    assert anonymous.stdout == "ok"
    discovery = json.loads(
        user.run("curl", "-sS", "--cacert", str(ca), f"https://127.0.0.1:{port}/api").stdout
    )
    assert discovery["code"] == 403  # as the README now says: anonymous users get no discovery


def test_the_course_rbac_and_service_account_flows(cluster) -> None:
    user, _, port = cluster
    user.run(
        "kubectl", "create", "role", "developer", "--verb=list,create,delete", "--resource=pods"
    )
    user.run(
        "kubectl",
        "create",
        "rolebinding",
        "dev-user-binding",
        "--role=developer",
        "--user=dev-user",
    )
    can = user.run("kubectl", "auth", "can-i", "create", "pods", "--as", "dev-user").stdout
    assert can.strip() == "yes"
    cannot = user.run(
        "kubectl", "auth", "can-i", "create", "deployments", "--as", "dev-user", ok=False
    )
    assert cannot.returncode == 1 and cannot.stdout.startswith("no")
    assert user.run("kubectl", "create", "serviceaccount", "dashboard-sa").stdout.strip() == (
        "serviceaccount/dashboard-sa created"
    )
    token = user.run("kubectl", "create", "token", "dashboard-sa").stdout.strip()
    assert token.count(".") == 2
    ca = user.home / ".kubeward" / "pki" / "ca.crt"
    review = json.loads(
        user.run(
            "curl", "-sS", "--cacert", str(ca), "-H", f"Authorization: Bearer {token}",
            f"https://127.0.0.1:{port}/api/v1/namespaces/default/pods",
        ).stdout
    )  # fmt: skip
    assert review["code"] == 403
    assert "system:serviceaccount:default:dashboard-sa" in review["message"]
