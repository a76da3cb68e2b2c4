"""The server keeps the Node authorizer's graph and the bootstrap token lookup current.

``build_server`` over the in-memory backend: writes to the stores reach the graph and the
authenticator through the shared informers (the same path as in a running server).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path

from kubeward.api.resources.core import PODS, SECRETS
from kubeward.api.user import NODES_GROUP, UserInfo
from kubeward.authz.interfaces import Attributes
from kubeward.server.config import ServerConfig
from kubeward.server.wiring.builder import ServerParts, build_server
from kubeward.storage.memory import MemoryBackend


async def eventually(check: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


def secret_get(node: str, name: str) -> Attributes:
    user = UserInfo(f"system:node:{node}", groups=(NODES_GROUP,))
    return Attributes(user, "get", namespace="default", resource="secrets", name=name)


async def exercise(parts: ServerParts) -> None:
    server = parts.server
    assert parts.node_graph is not None and parts.bootstrap is not None
    await parts.bootstrap.prepare()
    await parts.node_graph.prepare()
    pods = server.stores[PODS]
    await pods.create(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "nodeName": "worker-1",
                "containers": [{"name": "c", "image": "nginx"}],
                "volumes": [{"name": "s", "secret": {"secretName": "db"}}],
            },
        },
    )
    await eventually(lambda: server.authorizer.authorize(secret_get("worker-1", "db")).allowed)
    assert not server.authorizer.authorize(secret_get("worker-2", "db")).allowed
    await pods.delete("default", "web")
    await eventually(lambda: not server.authorizer.authorize(secret_get("worker-1", "db")).allowed)

    token = "abcdef.0123456789abcdef"
    assert server.authenticator.verify_token(token) is None
    data = {"token-id": "abcdef", "token-secret": "0123456789abcdef"}
    data["usage-bootstrap-authentication"] = "true"
    await server.stores[SECRETS].create(
        "kube-system",
        {
            "metadata": {"name": "bootstrap-token-abcdef"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        },
    )
    await eventually(lambda: server.authenticator.verify_token(token) is not None)
    found = server.authenticator.verify_token(token)
    assert found is not None and found.user.name == "system:bootstrap:abcdef"


def test_writes_reach_the_node_graph_and_the_bootstrap_lookup() -> None:
    config = ServerConfig(
        tls_cert_file=Path("unused.crt"),
        tls_private_key_file=Path("unused.key"),
        authorization_modes=("Node", "RBAC"),
        enable_bootstrap_token_auth=True,
    )

    async def go() -> None:
        backend = MemoryBackend()
        await backend.start()
        parts = await build_server(config, backend)
        try:
            await exercise(parts)
        finally:
            await parts.informers.stop()
            await parts.broadcasters.close()
            await backend.close()

    asyncio.run(go())


def test_without_the_flags_there_is_neither() -> None:
    async def go() -> ServerParts:
        backend = MemoryBackend()
        await backend.start()
        try:
            return await build_server(
                ServerConfig(tls_cert_file=Path("c"), tls_private_key_file=Path("k")), backend
            )
        finally:
            await backend.close()

    parts = asyncio.run(go())
    assert parts.node_graph is None
    assert parts.bootstrap is not None and parts.bootstrap.token_authenticators() == []
