"""The one place that knows both etcd transports (config.py rule 5)."""

from __future__ import annotations

from kubeward.storage.etcd.client import EtcdClient
from kubeward.storage.etcd.config import EtcdConfig


def new_client(config: EtcdConfig) -> EtcdClient:
    """A client for ``config`` over its transport (gRPC unless it asks for the gateway)."""
    if config.transport == "gateway":
        from kubeward.storage.etcd.gateway import GatewayClient

        return GatewayClient(config)
    from kubeward.storage.etcd.grpc_client import GrpcClient

    return GrpcClient(config)
