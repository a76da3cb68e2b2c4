"""A real local etcd cluster with kubeward's etcd PKI, for tests and benchmarks.

``running_etcd(directory)`` issues the PKI (``pki init --etcd-member etcd-N=127.0.0.1``) under
``directory/pki``, starts ``members`` etcd processes with mutual TLS on loopback and stops them
on exit. Elections are fast (50 ms heartbeats) so that fault tests stay short.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubeward.api.allocation.ranges import DEFAULT_SERVICE_CLUSTER_IP_RANGE
from kubeward.storage.etcd.config import EtcdConfig
from kubeward.storage.etcd.local import LocalCluster, ensure_etcd_pki


@contextmanager
def running_etcd(
    directory: Path, members: int = 3, *, progress_notify_interval: str = "5s"
) -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        ensure_etcd_pki(directory, members, service_cidr=DEFAULT_SERVICE_CLUSTER_IP_RANGE),
        directory / "data",
        members,
        fast_elections=True,
        progress_notify_interval=progress_notify_interval,
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop(grace=1.0)


def etcd_config(cluster: LocalCluster, prefix: str = "/registry", **options: object) -> EtcdConfig:
    """The API server's configuration for ``cluster`` (its client certificate, compaction off)."""
    return EtcdConfig(
        tuple(cluster.endpoints),
        cluster.client_tls,
        prefix=prefix,
        compaction_interval=0,
        **options,  # type: ignore[arg-type]
    )
