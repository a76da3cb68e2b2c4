"""Watch bookmarks from etcd's progress: a quiet watcher learns etcd's revision, and resumes.

kube-apiserver's watch cache gives a watcher that allows bookmarks one carrying the revision
etcd has reached even when nothing of the watched kind changed (it learns it from etcd's
progress notifications). Here: a real 3-member etcd with mutual TLS (progress notifications
every second), one API server on it, the official Python client. ConfigMaps stay quiet while
Secrets are written; the ConfigMap watcher's bookmark must be at or past the Secrets' revision,
and a watch resumed from that bookmark must see the next ConfigMap and nothing before it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from kubeward.storage.etcd.local import LocalCluster
from kubeward.testing import running_cluster
from kubeward.testing.etcd import etcd_config, running_etcd

# Watch.stop() leaves its urllib3 connection to the garbage collector (the client's socket).
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

NAMESPACE = "default"
DEADLINE = 60.0  # seconds to see a bookmark past the other writes; etcd reports every second


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with running_etcd(tmp_path_factory.mktemp("etcd"), progress_notify_interval="1s") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def api(etcd: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    options = {"etcd": etcd_config(etcd, "/registry")}
    with running_cluster(data_dir=tmp_path_factory.mktemp("api"), server_options=options) as c:
        api_client = config.new_client_from_config(config_file=str(c.admin_kubeconfig))
        yield client.CoreV1Api(api_client)
        api_client.close()


def rv(obj: Any) -> int:
    return int(obj.metadata.resource_version)


def configmap(name: str) -> Any:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"k": name})


def secret(name: str) -> Any:
    return client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data={"k": name})


def watch_configmaps(api: Any, resource_version: int, seconds: int) -> list[tuple[str, str, int]]:
    """Every event of one watch (with bookmarks) until the server ends it after ``seconds``."""
    events = []
    for event in watch.Watch().stream(
        api.list_namespaced_config_map,
        NAMESPACE,
        resource_version=str(resource_version),
        allow_watch_bookmarks=True,
        timeout_seconds=seconds,
    ):
        raw = event["raw_object"]
        events.append(
            (
                event["type"],
                raw["metadata"].get("name", ""),
                int(raw["metadata"]["resourceVersion"]),
            )
        )
    return events


def test_a_quiet_watcher_is_bookmarked_at_etcds_revision_and_resumes_from_it(api: Any) -> None:
    quiet = rv(api.create_namespaced_config_map(NAMESPACE, configmap("quiet")))
    elsewhere = max(rv(api.create_namespaced_secret(NAMESPACE, secret(f"s{i}"))) for i in range(3))
    assert elsewhere > quiet

    bookmark = 0
    end = time.monotonic() + DEADLINE
    while bookmark < elsewhere:
        assert time.monotonic() < end, f"no bookmark reached revision {elsewhere}"
        events = watch_configmaps(api, quiet, seconds=5)  # a bookmark comes 2 s before the end
        assert [kind for kind, _, _ in events] == ["BOOKMARK"] * len(events), events
        bookmark = max([bookmark, *(revision for _, _, revision in events)])

    # More writes elsewhere, then one ConfigMap: resuming from the bookmark (410 would raise)
    # must bring exactly that ConfigMap.
    api.create_namespaced_secret(NAMESPACE, secret("later"))
    after = rv(api.create_namespaced_config_map(NAMESPACE, configmap("after")))
    resumed = watch_configmaps(api, bookmark, seconds=4)
    assert [e for e in resumed if e[0] != "BOOKMARK"] == [("ADDED", "after", after)]
