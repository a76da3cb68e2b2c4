"""Per-controller service-account credentials: the account is ensured, a token requested for
it, sent as the only credential, and replaced before it expires."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from typing import Any, cast

from kubeward.api import meta as m
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.credentials import ServiceAccountClients
from kubeward.errors import NotFound
from kubeward.kubeconfig.tls import ClientCredentials


class FakeRoot:
    """The manager's own client: no service account yet; tokens valid for one second."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def path(self, rt: ResourceType, namespace: str = "", name: str = "", sub: str = "") -> str:
        return APIClient.path(rt, namespace, name, sub)

    async def get(self, rt: ResourceType, name: str, namespace: str = "") -> Any:
        raise NotFound(f'serviceaccounts "{name}" not found')

    async def create(self, rt: ResourceType, obj: dict[str, Any], namespace: str = "") -> Any:
        self.created.append(obj)
        return obj

    async def create_raw(self, path: str, obj: dict[str, Any]) -> Any:
        self.requests.append((path, obj))
        expires = m.now() + datetime.timedelta(seconds=1)
        return {
            "status": {
                "token": f"token-{len(self.requests)}",
                "expirationTimestamp": m.format_time(expires),
            }
        }


def test_a_controller_gets_its_own_account_and_a_refreshed_token() -> None:
    root = FakeRoot()
    credentials = ClientCredentials(
        server="https://127.0.0.1:1",
        ssl_context=ssl.create_default_context(),
        server_hostname="127.0.0.1",
    )

    async def scenario() -> None:
        accounts = ServiceAccountClients(cast(APIClient, root), credentials, refresh_at=0.01)
        client = await accounts.client_for("replicaset-controller")
        assert await accounts.client_for("replicaset-controller") is client
        assert root.created[0]["metadata"] == {
            "name": "replicaset-controller",
            "namespace": "kube-system",
        }
        path, request = root.requests[0]
        assert path == "/api/v1/namespaces/kube-system/serviceaccounts/replicaset-controller/token"
        assert request["kind"] == "TokenRequest"
        assert request["spec"] == {"expirationSeconds": 3600}
        assert ("Authorization", "Bearer token-1") in client._extra_headers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while ("Authorization", "Bearer token-1") in client._extra_headers():
            assert loop.time() < deadline, "the token was never refreshed"
            await asyncio.sleep(0.01)
        assert any(h[1].startswith("Bearer token-") for h in client._extra_headers())
        await accounts.close()

    asyncio.run(scenario())
