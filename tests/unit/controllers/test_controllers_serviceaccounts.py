"""The in-server service-account controllers, over the memory backend."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS, NAMESPACES, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.authn.serviceaccount_tokens import TokenIssuer
from kubeward.controllers.serviceaccounts import ServiceAccountControllers
from kubeward.errors import NotFound
from kubeward.storage.memory import MemoryBackend

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = ec.generate_private_key(ec.SECP256R1())


async def _stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    stores = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
    await stores[NAMESPACES].create("", {"metadata": {"name": "team"}})
    return stores


def _controllers(stores: dict[ResourceType, Store]) -> ServiceAccountControllers:
    return ServiceAccountControllers(stores, ca_pem=CA, issuer=TokenIssuer("https://issuer", KEY))


def test_default_account_and_root_ca_are_created_and_recreated() -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        stores = await _stores()
        controllers = _controllers(stores)
        await controllers.sync_once()
        first = await stores[SERVICEACCOUNTS].get("team", "default")
        await stores[SERVICEACCOUNTS].delete("team", "default")
        await stores[CONFIGMAPS].update(
            "team",
            "kube-root-ca.crt",
            {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "x"}},
        )
        await controllers.sync_once()
        second = await stores[SERVICEACCOUNTS].get("team", "default")
        configmap = await stores[CONFIGMAPS].get("team", "kube-root-ca.crt")
        assert first["metadata"]["uid"] != second["metadata"]["uid"]
        return second, configmap

    _, configmap = asyncio.run(go())
    assert configmap["data"] == {"ca.crt": CA.decode()}


def test_legacy_token_secret_is_filled_and_deleted_with_its_account() -> None:
    async def go() -> tuple[dict[str, Any], bool]:
        stores = await _stores()
        controllers = _controllers(stores)
        sa = await stores[SERVICEACCOUNTS].create("team", {"metadata": {"name": "bot"}})
        await stores[SECRETS].create(
            "team",
            {
                "metadata": {
                    "name": "bot-token",
                    "annotations": {"kubernetes.io/service-account.name": "bot"},
                },
                "type": "kubernetes.io/service-account-token",
            },
        )
        await controllers.sync_once()
        filled = await stores[SECRETS].get("team", "bot-token")
        assert (
            filled["metadata"]["annotations"]["kubernetes.io/service-account.uid"]
            == sa["metadata"]["uid"]
        )
        await stores[SERVICEACCOUNTS].delete("team", "bot")
        await controllers.sync_once()
        try:
            await stores[SECRETS].get("team", "bot-token")
            gone = False
        except NotFound:
            gone = True
        return filled, gone

    filled, gone = asyncio.run(go())
    data = {k: base64.b64decode(v).decode() for k, v in filled["data"].items()}
    assert data["namespace"] == "team" and data["ca.crt"] == CA.decode()
    claims = jwt.decode(data["token"], KEY.public_key(), algorithms=["ES256"])
    assert "exp" not in claims and claims["sub"] == "system:serviceaccount:team:bot"
    assert gone


def test_controllers_follow_changes_without_a_pass() -> None:
    """Running, the controllers act on events: a new namespace, a deleted account, a new Secret."""

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        stores = await _stores()
        controllers = _controllers(stores)
        controllers.informers.start()
        running = asyncio.create_task(controllers.run())
        await controllers.informers.wait_for_sync()

        async def get(rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
            for _ in range(500):
                try:
                    return await stores[rt].get(namespace, name)
                except NotFound:
                    await asyncio.sleep(0.01)
            return await stores[rt].get(namespace, name)

        await stores[NAMESPACES].create("", {"metadata": {"name": "fresh"}})
        first = await get(SERVICEACCOUNTS, "fresh", "default")
        await stores[SERVICEACCOUNTS].delete("fresh", "default")
        for _ in range(500):
            second = await get(SERVICEACCOUNTS, "fresh", "default")
            if second["metadata"]["uid"] != first["metadata"]["uid"]:
                break
            await asyncio.sleep(0.01)
        await stores[CONFIGMAPS].delete("fresh", "kube-root-ca.crt")
        configmap = await get(CONFIGMAPS, "fresh", "kube-root-ca.crt")
        await stores[SECRETS].create(
            "fresh",
            {
                "metadata": {
                    "name": "late-token",
                    "annotations": {"kubernetes.io/service-account.name": "bot"},
                },
                "type": "kubernetes.io/service-account-token",
            },
        )
        await stores[SERVICEACCOUNTS].create("fresh", {"metadata": {"name": "bot"}})
        for _ in range(500):
            secret = await stores[SECRETS].get("fresh", "late-token")
            if (secret.get("data") or {}).get("token"):
                break
            await asyncio.sleep(0.01)
        running.cancel()
        await controllers.informers.stop()
        return first, second, configmap, secret

    first, second, configmap, secret = asyncio.run(go())
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert configmap["data"] == {"ca.crt": CA.decode()}
    claims = jwt.decode(
        base64.b64decode(secret["data"]["token"]), KEY.public_key(), algorithms=["ES256"]
    )
    assert claims["sub"] == "system:serviceaccount:fresh:bot"
