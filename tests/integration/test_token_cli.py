"""``kubeward token`` against a real server: the token authenticates with kubectl, is listed and
deleted; the bootstrap kubeconfig it writes is what a node would use."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import yaml
from kubectl_runner import Kubectl

import kubeward
from kubeward.testing import Cluster, running_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(data_dir=tmp_path_factory.mktemp("tokens")) as running:
        yield running


def kubeward_token(
    cluster: Cluster, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(Path(kubeward.__file__).parents[1]),
        KUBECONFIG=str(cluster.admin_kubeconfig),
    )
    return subprocess.run(
        [sys.executable, "-m", "kubeward", "token", *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_list_use_and_delete(cluster: Cluster, tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap-kubelet.conf"
    out = kubeward_token(
        cluster,
        "create",
        "abcdef.0123456789abcdef",
        "--description",
        "worker-1",
        "--bootstrap-kubeconfig",
        str(bootstrap),
        "--print-join-command",
    ).stdout
    assert out == (
        f"kubeward node --name <node-name> --bootstrap-kubeconfig {bootstrap}"
        " --kubeconfig kubelet.conf\n"
    )
    assert bootstrap.stat().st_mode & 0o777 == 0o600
    node = Kubectl(bootstrap, tmp_path / "home")
    who = json.loads(node.run("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == "system:bootstrap:abcdef"
    assert "system:bootstrappers:kubeadm:default-node-token" in who["groups"]
    assert node.run("auth", "can-i", "create", "certificatesigningrequests").stdout.strip() == "yes"

    generated = kubeward_token(
        cluster, "create", "--ttl", "0", "--usages", "signing", "--groups", ""
    ).stdout.strip()
    listed = kubeward_token(cluster, "list").stdout.splitlines()
    assert listed[0].split()[:5] == ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION"]
    rows = {line.split()[0]: line.split()[1:] for line in listed[1:]}
    assert rows["abcdef.0123456789abcdef"][2:] == [
        "authentication,signing",
        "worker-1",
        "system:bootstrappers:kubeadm:default-node-token",
    ]
    assert rows[generated] == ["<forever>", "<never>", "signing", "<none>", "<none>"]

    assert kubeward_token(cluster, "delete", "abcdef", generated).stdout.splitlines() == [
        'bootstrap token "abcdef" deleted',
        f'bootstrap token "{generated[:6]}" deleted',
    ]
    assert kubeward_token(cluster, "list").stdout == ""


def test_bad_input_is_one_line_and_nonzero(cluster: Cluster) -> None:
    kubeward_token(cluster, "create", "zzzzzz.0123456789abcdef")
    again = kubeward_token(cluster, "create", "zzzzzz.0123456789abcdef", check=False)
    assert (again.returncode, again.stderr) == (
        1,
        'error: a token with id "zzzzzz" already exists\n',
    )
    bad = kubeward_token(cluster, "create", "--usages", "everything", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: invalid bootstrap token usage string: everything")
    assert "Traceback" not in bad.stderr


def anonymous_cluster_info(cluster: Cluster) -> dict[str, str]:
    """``kube-public/cluster-info`` read with no credentials, as a joining node reads it."""
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    url = f"{cluster.url}/api/v1/namespaces/kube-public/configmaps/cluster-info"
    with urllib.request.urlopen(url, context=context, timeout=30) as response:
        data: dict[str, str] = json.loads(response.read())["data"]
    return data


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # 16-byte secrets
def test_cluster_info_is_public_and_signed_with_each_signing_token(cluster: Cluster) -> None:
    info = anonymous_cluster_info(cluster)
    kubeconfig = yaml.safe_load(info["kubeconfig"])
    (entry,) = kubeconfig["clusters"]
    assert entry["cluster"]["server"] == cluster.url
    ca = base64.b64decode(entry["cluster"]["certificate-authority-data"])
    assert ca == cluster.ca_file.read_bytes()

    kubeward_token(
        cluster, "create", "signme.0123456789abcdef", "--usages", "signing", "--groups", ""
    )
    deadline = time.monotonic() + 20
    while "jws-kubeconfig-signme" not in (info := anonymous_cluster_info(cluster)):
        assert time.monotonic() < deadline, info.keys()
        time.sleep(0.05)
    header, _, signature = info["jws-kubeconfig-signme"].split(".")
    payload = base64.urlsafe_b64encode(info["kubeconfig"].encode()).rstrip(b"=").decode()
    signed = jwt.api_jws.decode(
        f"{header}.{payload}.{signature}", "0123456789abcdef", algorithms=["HS256"]
    )
    assert signed == info["kubeconfig"].encode()

    kubeward_token(cluster, "delete", "signme")
    while "jws-kubeconfig-signme" in (info := anonymous_cluster_info(cluster)):
        assert time.monotonic() < deadline + 20, "the signature outlived its token"
        time.sleep(0.05)


def test_cluster_info_follows_the_server_to_a_new_port(tmp_path: Path) -> None:
    with running_cluster(data_dir=tmp_path, controller_manager=False) as first:
        assert first.url in anonymous_cluster_info(first)["kubeconfig"]
    with running_cluster(data_dir=tmp_path, controller_manager=False) as second:
        assert second.port != first.port
        kubeconfig = yaml.safe_load(anonymous_cluster_info(second)["kubeconfig"])
        assert kubeconfig["clusters"][0]["cluster"]["server"] == second.url
