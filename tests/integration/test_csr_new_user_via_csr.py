"""`kubeward config new-user --via-csr`: a user's certificate through the Certificates API."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from kubectl_runner import Kubectl


def new_user(cluster, tmp_path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubeward",
            "config",
            "new-user",
            "--via-csr",
            "--kubeconfig",
            str(cluster.admin_kubeconfig),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, HOME=str(tmp_path)),
    )


def test_approve_flag_gives_a_working_kubeconfig_and_the_key_stays_local(
    kubeward_cluster, tmp_path
):
    proc = new_user(
        kubeward_cluster,
        tmp_path,
        "--name",
        "jane",
        "--org",
        "dev",
        "--approve",
        "--out",
        "jane.conf",
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    admin = Kubectl(kubeward_cluster.admin_kubeconfig, tmp_path)
    csr = admin.run("get", "csr", "jane", "-o", "json").stdout
    assert "PRIVATE KEY" not in csr  # only the request went to the server
    jane = Kubectl(tmp_path / "jane.conf", tmp_path)
    whoami = jane.run("auth", "whoami").stdout
    assert "jane" in whoami and "dev" in whoami


def test_waits_for_an_administrator_and_reports_a_denial(kubeward_cluster, tmp_path):
    admin = Kubectl(kubeward_cluster.admin_kubeconfig, tmp_path)
    proc = new_user(
        kubeward_cluster, tmp_path, "--name", "bob", "--wait", "60s", "--out", "bob.conf"
    )
    deadline = time.monotonic() + 30
    while (
        admin.run("get", "csr", "bob", check=False).returncode != 0 and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    admin.run("certificate", "approve", "bob")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "kubectl certificate approve bob" in err
    assert "bob" in Kubectl(tmp_path / "bob.conf", tmp_path).run("auth", "whoami").stdout

    denied = new_user(
        kubeward_cluster, tmp_path, "--name", "mallory", "--wait", "60s", "--out", "m.conf"
    )
    while (
        admin.run("get", "csr", "mallory", check=False).returncode != 0
        and time.monotonic() < deadline + 30
    ):
        time.sleep(0.2)
    admin.run("certificate", "deny", "mallory")
    _, err = denied.communicate(timeout=60)
    assert denied.returncode == 1
    assert (
        err.strip().splitlines()[-1].startswith("error: certificatesigningrequest mallory: Denied")
    )
    assert not (tmp_path / "m.conf").exists()
