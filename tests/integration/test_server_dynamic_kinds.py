"""Kinds registered while the server runs are served like built-ins, and go away cleanly.

This is the seam CustomResourceDefinitions stand on: a descriptor added to the running
server's scheme brings its own strategy and table printer, and discovery, routing, storage,
tables, patching and watches all follow it with the real kubectl; removing it ends its
watches and makes it 404.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl

from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.api.tables.columns import NAME_COLUMN, ColumnDefinition, PrintedRow, TablePrinter
from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster


def _print_widget(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    del now
    return PrintedRow((obj["metadata"]["name"], str(obj.get("spec", {}).get("size", ""))))


WIDGETS = ResourceType(
    "example.com",
    "v1",
    "Widget",
    "widgets",
    True,
    short_names=("wd",),
    strategy=Strategy,
    printer=TablePrinter((NAME_COLUMN, ColumnDefinition("Size", "string")), _print_widget),
)


def _in_server(cluster: Cluster, change: Callable[[Scheme], None]) -> None:
    """Change the running server's scheme on its own event loop, as a controller would."""

    async def run() -> None:
        change(cluster._running.server.scheme)

    asyncio.run_coroutine_threadsafe(run(), cluster._loop).result(timeout=10)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster(controller_manager=False) as running:
        yield running


def test_a_kind_added_at_run_time_is_served_and_removed(cluster: Cluster, tmp_path: Path) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    missing = kubectl.run("get", "widgets", check=False)
    assert missing.returncode != 0
    assert "doesn't have a resource type" in missing.stderr

    _in_server(cluster, lambda scheme: scheme.add(WIDGETS))
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home-after")  # a fresh discovery cache
    resources = kubectl.run("api-resources", "--api-group=example.com").stdout
    assert "widgets" in resources and "wd" in resources and "Widget" in resources
    manifest = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"size": "large"},
    }
    kubectl.run("create", "--validate=false", "-f", "-", input=json.dumps(manifest))
    table = kubectl.run("get", "wd", "-n", "default").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE"]
    assert table[1].split() == ["w1", "large"]
    refused = kubectl.run(
        "patch", "widget", "w1", "-n", "default", "-p", '{"spec":{"size":"s"}}', check=False
    )  # kubectl's default patch type is strategic merge, which custom kinds refuse
    assert refused.returncode != 0
    assert "the body of the request was in an unknown format" in refused.stderr
    kubectl.run(
        "patch", "widget", "w1", "-n", "default", "--type=merge", "-p", '{"spec":{"size":"s"}}'
    )
    got = json.loads(kubectl.run("get", "widget", "w1", "-n", "default", "-o", "json").stdout)
    assert got["spec"] == {"size": "s"}

    watch = kubectl.popen("get", "widgets", "-n", "default", "--watch", "-o", "name")
    time.sleep(1.0)
    _in_server(cluster, lambda scheme: scheme.remove(WIDGETS))
    try:  # kubectl ends when the server ends the watch stream
        out, _ = watch.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
        watch.communicate()
        raise AssertionError("the watch of a removed kind did not end") from None
    assert "widget.example.com/w1" in out
    gone = Kubectl(cluster.admin_kubeconfig, tmp_path / "home-gone")
    assert gone.run("get", "widgets", check=False).returncode != 0
    groups = gone.run("api-versions").stdout.split()
    assert "example.com/v1" not in groups


def test_removing_a_kind_that_is_not_served_changes_nothing() -> None:
    scheme = Scheme()
    scheme.add(WIDGETS)
    generation = scheme.generation
    scheme.remove(ResourceType("example.com", "v1", "Gadget", "gadgets", True))
    assert scheme.generation == generation
    assert scheme.lookup("example.com", "v1", "widgets") == WIDGETS
    scheme.remove(WIDGETS)
    assert scheme.groups() == []
    assert scheme.by_kind("example.com", "Widget") is None
