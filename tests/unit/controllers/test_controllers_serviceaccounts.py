"""The controller-manager's service-account controllers, as clients over the memory backend."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from store_client import StoreClient, memory_stores

from kubeward.api.registry.store import Store
from kubeward.api.resources.core import CONFIGMAPS, NAMESPACES, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.authn.serviceaccount_tokens import LEGACY_ISSUER, TokenIssuer
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.serviceaccounts import (
    RootCACertPublisher,
    ServiceAccountController,
    TokensController,
)
from kubeward.controllers.sources import StoreSources
from kubeward.errors import NotFound

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = ec.generate_private_key(ec.SECP256R1())


@contextlib.asynccontextmanager
async def running(
    stores: dict[ResourceType, Store], client: StoreClient
) -> AsyncIterator[list[Controller]]:
    informers = InformerFactory(StoreSources(stores), resync=0)
    api = client.as_client()
    controllers: list[Controller] = [
        ServiceAccountController(informers, api),
        RootCACertPublisher(informers, api, CA),
        TokensController(informers, api, TokenIssuer(LEGACY_ISSUER, KEY), CA),
    ]
    informers.start()
    tasks = [asyncio.create_task(c.run()) for c in controllers]
    await informers.wait_for_sync()
    try:
        yield controllers
    finally:
        for task in tasks:
            task.cancel()
        await informers.stop()


async def eventually(read: Callable[[], Awaitable[dict[str, Any]]], ok: Any) -> dict[str, Any]:
    """The object once ``ok(obj)`` holds (bounded: five seconds)."""
    for _ in range(500):
        with contextlib.suppress(NotFound):
            found = await read()
            if ok(found):
                return found
        await asyncio.sleep(0.01)
    return await read()


def test_default_account_and_root_ca_are_created_and_recreated() -> None:
    async def go() -> tuple[str, str, dict[str, Any], list[tuple[str, str, str]]]:
        stores = await memory_stores()
        await stores[NAMESPACES].create("", {"metadata": {"name": "team"}})
        client = StoreClient(stores)
        async with running(stores, client):
            sa = stores[SERVICEACCOUNTS]
            first = await eventually(lambda: sa.get("team", "default"), bool)
            await sa.delete("team", "default")
            uid = first["metadata"]["uid"]
            second = await eventually(
                lambda: sa.get("team", "default"), lambda o: o["metadata"]["uid"] != uid
            )
            cm = stores[CONFIGMAPS]
            await eventually(lambda: cm.get("team", "kube-root-ca.crt"), bool)
            await cm.update(
                "team",
                "kube-root-ca.crt",
                {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "x"}},
            )
            configmap = await eventually(
                lambda: cm.get("team", "kube-root-ca.crt"), lambda o: o["data"]["ca.crt"] != "x"
            )
        return uid, second["metadata"]["uid"], configmap, client.writes

    first, second, configmap, writes = asyncio.run(go())
    assert first != second
    assert configmap["data"] == {"ca.crt": CA.decode()}
    # Each wrote only what its role allows: creates of accounts, creates and updates of maps.
    assert {(verb, resource) for verb, resource, _ in writes} == {
        ("create", "serviceaccounts"),
        ("create", "configmaps"),
        ("update", "configmaps"),
    }


def test_terminating_namespaces_are_left_alone() -> None:
    async def go() -> list[bool]:
        stores = await memory_stores()
        await stores[NAMESPACES].create("", {"metadata": {"name": "doomed"}})
        await stores[NAMESPACES].delete("", "doomed")
        await stores[NAMESPACES].create("", {"metadata": {"name": "live"}})
        client = StoreClient(stores)
        async with running(stores, client):
            await eventually(lambda: stores[SERVICEACCOUNTS].get("live", "default"), bool)
            await eventually(lambda: stores[CONFIGMAPS].get("live", "kube-root-ca.crt"), bool)
        missing = []
        for rt, name in ((SERVICEACCOUNTS, "default"), (CONFIGMAPS, "kube-root-ca.crt")):
            try:
                await stores[rt].get("doomed", name)
                missing.append(False)
            except NotFound:
                missing.append(True)
        return missing

    assert asyncio.run(go()) == [True, True]


def test_legacy_token_secret_is_filled_and_deleted_with_its_account() -> None:
    async def go() -> tuple[dict[str, Any], bool]:
        stores = await memory_stores()
        await stores[NAMESPACES].create("", {"metadata": {"name": "team"}})
        sa = await stores[SERVICEACCOUNTS].create("team", {"metadata": {"name": "bot"}})
        async with running(stores, StoreClient(stores)):
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
            filled = await eventually(
                lambda: stores[SECRETS].get("team", "bot-token"),
                lambda o: (o.get("data") or {}).get("token"),
            )
            assert (
                filled["metadata"]["annotations"]["kubernetes.io/service-account.uid"]
                == sa["metadata"]["uid"]
            )
            await stores[SERVICEACCOUNTS].delete("team", "bot")
            gone = False
            for _ in range(500):
                try:
                    await stores[SECRETS].get("team", "bot-token")
                except NotFound:
                    gone = True
                    break
                await asyncio.sleep(0.01)
        return filled, gone

    filled, gone = asyncio.run(go())
    data = {k: base64.b64decode(v).decode() for k, v in filled["data"].items()}
    assert data["namespace"] == "team" and data["ca.crt"] == CA.decode()
    claims = jwt.decode(data["token"], KEY.public_key(), algorithms=["ES256"])
    assert "exp" not in claims and claims["sub"] == "system:serviceaccount:team:bot"
    assert claims["iss"] == LEGACY_ISSUER
    assert gone


def test_an_unfilled_secret_waits_for_its_account() -> None:
    """A Secret naming an account that does not exist yet is filled once the account appears."""

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        stores = await memory_stores()
        await stores[NAMESPACES].create("", {"metadata": {"name": "fresh"}})
        async with running(stores, StoreClient(stores)):
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
            await asyncio.sleep(0.05)
            waiting = await stores[SECRETS].get("fresh", "late-token")
            await stores[SERVICEACCOUNTS].create("fresh", {"metadata": {"name": "bot"}})
            secret = await eventually(
                lambda: stores[SECRETS].get("fresh", "late-token"),
                lambda o: (o.get("data") or {}).get("token"),
            )
        return waiting, secret

    waiting, secret = asyncio.run(go())
    assert not (waiting.get("data") or {}).get("token")
    claims = jwt.decode(
        base64.b64decode(secret["data"]["token"]), KEY.public_key(), algorithms=["ES256"]
    )
    assert claims["sub"] == "system:serviceaccount:fresh:bot"
