"""The official ``kubernetes`` Python client loads the kubeconfigs kubeward writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig


def _kubeward(cwd: Path, kubeconfig: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(HOME=str(cwd), KUBECONFIG=str(kubeconfig))
    done = subprocess.run(
        [sys.executable, "-m", "kubeward", "config", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _load(path: Path, context: str | None = None) -> k8s_client.Configuration:
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(
        config_file=str(path), context=context, client_configuration=configuration
    )
    return configuration


def test_kubeconfig_python_client_loads_built_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "admin.conf"
    write_kubeconfig(
        path,
        client_certificate_kubeconfig(
            cluster_name="kubernetes",
            server="https://10.0.0.1:6443",
            ca_pem=b"-----BEGIN CERTIFICATE-----\nCA\n",
            user_name="kubernetes-admin",
            cert_pem=b"CERT",
            key_pem=b"KEY",
        ),
    )
    configuration = _load(path)
    assert configuration.host == "https://10.0.0.1:6443"
    assert Path(str(configuration.ssl_ca_cert)).read_bytes() == b"-----BEGIN CERTIFICATE-----\nCA\n"
    assert Path(str(configuration.cert_file)).read_bytes() == b"CERT"
    assert Path(str(configuration.key_file)).read_bytes() == b"KEY"


@pytest.mark.parametrize("embed", [False, True], ids=["file-references", "embedded"])
def test_kubeconfig_python_client_loads_edited_kubeconfig(tmp_path: Path, embed: bool) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    (pki / "ca.crt").write_bytes(b"CA-PEM")
    (pki / "ops.crt").write_bytes(b"OPS-CERT")
    (pki / "ops.key").write_bytes(b"OPS-KEY")
    kc = tmp_path / "config"
    embed_flag = ["--embed-certs"] if embed else []
    _kubeward(
        tmp_path,
        kc,
        "set-cluster",
        "prod",
        "--server=https://prod.example:6443",
        "--certificate-authority=pki/ca.crt",
        *embed_flag,
    )
    _kubeward(tmp_path, kc, "set-credentials", "robot", "--token=s3cret")
    _kubeward(
        tmp_path,
        kc,
        "set-credentials",
        "ops",
        "--client-certificate=pki/ops.crt",
        "--client-key=pki/ops.key",
        *embed_flag,
    )
    _kubeward(tmp_path, kc, "set-context", "robot@prod", "--cluster=prod", "--user=robot")
    _kubeward(tmp_path, kc, "set-context", "ops@prod", "--cluster=prod", "--user=ops")
    _kubeward(tmp_path, kc, "use-context", "robot@prod")
    if not embed:
        assert "certificate-authority: pki/ca.crt\n" in kc.read_text()  # stored relative

    robot = _load(kc)
    assert robot.host == "https://prod.example:6443"
    assert robot.api_key == {"BearerToken": "Bearer s3cret"}
    assert Path(str(robot.ssl_ca_cert)).read_bytes() == b"CA-PEM"

    ops = _load(kc, context="ops@prod")
    assert Path(str(ops.cert_file)).read_bytes() == b"OPS-CERT"
    assert Path(str(ops.key_file)).read_bytes() == b"OPS-KEY"
