"""The pytest plugin: ``kubeward_cluster`` gives each test its own running API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kubeward.testing.cluster import Cluster


@pytest.fixture
def kubeward_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A real kubeward API server (RBAC-enforcing once RBAC is on) in ``tmp_path``."""
    from kubeward.testing.cluster import running_cluster

    with running_cluster(data_dir=tmp_path / "kubeward") as cluster:
        yield cluster
