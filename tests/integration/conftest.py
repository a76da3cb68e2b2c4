"""Shared helpers for integration tests: a running cluster per module and the real kubectl."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubectl_runner import Kubectl


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from kubeward.testing import running_cluster

    with running_cluster(data_dir=tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def kubectl(cluster: object, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    home = tmp_path_factory.mktemp("home")
    return Kubectl(cluster.admin_kubeconfig, home)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One 3-member etcd cluster with mutual TLS for the whole session (tests use own prefixes)."""
    from kubeward.testing.etcd import running_etcd

    with running_etcd(tmp_path_factory.mktemp("etcd")) as running:
        yield running
