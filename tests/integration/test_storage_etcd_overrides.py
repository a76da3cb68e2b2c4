"""``--etcd-servers-overrides``: core Events in an etcd cluster of their own, as clusters do.

Two real etcd clusters with mutual TLS from one PKI (the override reuses the main cluster's TLS
files, as kube-apiserver's does): three members for everything, one member for ``/events``. An
API server over both; kubectl writes Events (core and events.k8s.io) and a ConfigMap, and
etcdctl shows where each landed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubectl_runner import Kubectl

from kubeward.storage.etcd.config import EtcdOverride
from kubeward.storage.etcd.local import LocalCluster
from kubeward.testing import Cluster, running_cluster
from kubeward.testing.etcd import etcd_config, running_etcd


@pytest.fixture(scope="module")
def clusters(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LocalCluster, LocalCluster]]:
    directory = tmp_path_factory.mktemp("etcd")
    with running_etcd(directory / "main") as main:
        events = LocalCluster(
            main.pki_dir, directory / "events", 1, token="kubeward-events", fast_elections=True
        )
        try:
            events.start()
            yield main, events
        finally:
            events.stop(grace=1.0)


@pytest.fixture(scope="module")
def server(
    clusters: tuple[LocalCluster, LocalCluster], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    main, events = clusters
    config = etcd_config(
        main, "/registry", overrides=(EtcdOverride("", "events", tuple(events.endpoints)),)
    )
    with running_cluster(
        data_dir=tmp_path_factory.mktemp("api"), server_options={"etcd": config}
    ) as cluster:
        yield cluster


def keys(cluster: LocalCluster, prefix: str) -> list[str]:
    tls = cluster.client_tls
    listed = subprocess.run(
        [
            "etcdctl",
            f"--endpoints={','.join(cluster.endpoints)}",
            f"--cacert={tls.ca_file}",
            f"--cert={tls.cert_file}",
            f"--key={tls.key_file}",
            "get",
            "--prefix",
            "--keys-only",
            prefix,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.split()


CORE_EVENT = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {"name": "core-event", "namespace": "default"},
    "involvedObject": {"kind": "ConfigMap", "name": "placed", "namespace": "default"},
    "reason": "Testing",
    "message": "a core event",
    "type": "Normal",
}
NEW_EVENT = {
    "apiVersion": "events.k8s.io/v1",
    "kind": "Event",
    "metadata": {"name": "new-event", "namespace": "default"},
    "eventTime": "2026-01-01T00:00:00.000000Z",
    "reportingController": "example.com/tester",
    "reportingInstance": "tester-1",
    "action": "Testing",
    "reason": "Testing",
    "regarding": {"kind": "ConfigMap", "name": "placed", "namespace": "default"},
    "note": "an events.k8s.io event",
    "type": "Normal",
}


def test_events_land_only_in_the_override_cluster_and_kubectl_sees_them(
    server: Cluster, clusters: tuple[LocalCluster, LocalCluster], tmp_path: Path
) -> None:
    main, events = clusters
    k = Kubectl(server.admin_kubeconfig, tmp_path)
    k.run("create", "configmap", "placed", "--from-literal=k=v")
    for manifest in (CORE_EVENT, NEW_EVENT):
        k.run("apply", "-f", "-", input=json.dumps(manifest))

    in_events = keys(events, "/registry/events/default/")
    assert {"/registry/events/default/core-event", "/registry/events/default/new-event"} <= set(
        in_events
    )
    assert keys(main, "/registry/events/") == []
    assert keys(main, "/registry/configmaps/default/placed") == [
        "/registry/configmaps/default/placed"
    ]
    assert keys(events, "/registry/configmaps/") == []

    listed = json.loads(k.run("get", "events", "-o", "json").stdout)
    names = {item["metadata"]["name"] for item in listed["items"]}
    assert {"core-event", "new-event"} <= names
    new_api = json.loads(k.run("get", "events.events.k8s.io", "new-event", "-o", "json").stdout)
    assert new_api["note"] == "an events.k8s.io event"


def test_the_override_has_its_own_readiness_check(server: Cluster, tmp_path: Path) -> None:
    k = Kubectl(server.admin_kubeconfig, tmp_path)
    ready = k.run("get", "--raw", "/readyz?verbose").stdout.splitlines()
    assert "[+]etcd ok" in ready
    assert "[+]etcd-override-0 ok" in ready
