"""API servers on a real 3-member etcd with mutual TLS: the flags, kubectl, /readyz, refusals.

Two API servers share the session's etcd cluster (tests/integration/conftest.py) under the
default ``/registry`` prefix; each has its own PKI, so each is reached with its own admin
kubeconfig, and both serve the same objects.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from kubectl_runner import Kubectl

from kubeward.errors import StorageUnavailable
from kubeward.storage.etcd.config import EtcdConfig, TLSFiles
from kubeward.storage.etcd.local import LocalCluster
from kubeward.storage.etcd.transports import new_client
from kubeward.testing import Cluster, running_cluster
from kubeward.testing.etcd import etcd_config


@pytest.fixture(scope="module")
def servers(
    etcd_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Cluster, Cluster]]:
    options = {"etcd": etcd_config(etcd_cluster, "/registry")}
    with (
        running_cluster(data_dir=tmp_path_factory.mktemp("a"), server_options=options) as a,
        running_cluster(data_dir=tmp_path_factory.mktemp("b"), server_options=options) as b,
    ):
        yield a, b


def kubectl_for(cluster: Cluster, tmp_path: Path) -> Kubectl:
    return Kubectl(cluster.admin_kubeconfig, tmp_path / cluster.data_dir.name)


def test_a_write_through_one_server_is_read_through_the_other(
    servers: tuple[Cluster, Cluster], tmp_path: Path
) -> None:
    a, b = (kubectl_for(s, tmp_path) for s in servers)
    a.run("create", "configmap", "shared", "--from-literal=k=v")
    via_a = json.loads(a.run("get", "configmap", "shared", "-o", "json").stdout)
    via_b = json.loads(b.run("get", "configmap", "shared", "-o", "json").stdout)
    assert via_b["data"] == {"k": "v"}
    assert via_b["metadata"]["resourceVersion"] == via_a["metadata"]["resourceVersion"]
    b.run("delete", "configmap", "shared")
    gone = a.run("get", "configmap", "shared", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_keys_are_laid_out_as_kubernetes_lays_them(
    servers: tuple[Cluster, Cluster], etcd_cluster: LocalCluster, tmp_path: Path
) -> None:
    kubectl_for(servers[0], tmp_path).run("create", "secret", "generic", "laid-out")
    tls = etcd_cluster.client_tls
    listed = subprocess.run(
        [
            "etcdctl",
            f"--endpoints={','.join(etcd_cluster.endpoints)}",
            f"--cacert={tls.ca_file}",
            f"--cert={tls.cert_file}",
            f"--key={tls.key_file}",
            "get",
            "--prefix",
            "--keys-only",
            "/registry/secrets/default/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )
    assert listed.returncode == 0, listed.stderr
    assert "/registry/secrets/default/laid-out" in listed.stdout.split()


def test_readyz_reports_etcd_and_livez_does_not_depend_on_it(
    servers: tuple[Cluster, Cluster], tmp_path: Path
) -> None:
    k = kubectl_for(servers[0], tmp_path)
    ready = k.run("get", "--raw", "/readyz?verbose").stdout
    live = k.run("get", "--raw", "/livez?verbose").stdout
    assert "[+]etcd ok" in ready.splitlines()
    assert "etcd" not in live


def _range_with(context: ssl.SSLContext, endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/v3/kv/range", data=b'{"key":"Lw=="}')
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        response.read()


def test_a_client_without_a_certificate_is_refused(etcd_cluster: LocalCluster) -> None:
    context = ssl.create_default_context(cafile=str(etcd_cluster.client_tls.ca_file))
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        _range_with(context, etcd_cluster.endpoints[0])


@pytest.mark.parametrize("transport", ["grpc", "gateway"])
def test_a_client_certificate_from_the_cluster_ca_is_refused(
    etcd_cluster: LocalCluster, transport: Literal["grpc", "gateway"]
) -> None:
    pki = etcd_cluster.pki_dir
    wrong = TLSFiles(
        pki / "etcd" / "ca.crt",
        pki / "apiserver-kubelet-client.crt",  # a real client certificate, from the cluster CA
        pki / "apiserver-kubelet-client.key",
    )

    async def attempt() -> None:
        config = EtcdConfig(tuple(etcd_cluster.endpoints), wrong, attempts=1, transport=transport)
        client = new_client(config)
        try:
            await client.range(b"/registry/")
        finally:
            await client.close()

    with pytest.raises(StorageUnavailable):
        asyncio.run(attempt())


def test_a_compacted_resource_version_is_gone(
    servers: tuple[Cluster, Cluster], etcd_cluster: LocalCluster, tmp_path: Path
) -> None:
    k = kubectl_for(servers[1], tmp_path)
    k.run("create", "configmap", "old", "--from-literal=v=1")
    first = json.loads(k.run("get", "configmap", "old", "-o", "json").stdout)
    k.run("patch", "configmap", "old", "-p", '{"data":{"v":"2"}}')
    second = json.loads(k.run("get", "configmap", "old", "-o", "json").stdout)

    async def compact() -> None:  # what another API server's compactor does
        client = new_client(etcd_config(etcd_cluster))
        try:
            await client.compact(int(second["metadata"]["resourceVersion"]))
        finally:
            await client.close()

    asyncio.run(compact())
    old = first["metadata"]["resourceVersion"]
    listed = k.run(
        "get",
        "--raw",
        f"/api/v1/namespaces/default/configmaps?resourceVersion={old}&resourceVersionMatch=Exact",
        check=False,
    )
    assert listed.returncode != 0 and "too old resource version" in listed.stderr
