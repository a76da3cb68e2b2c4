"""TokenRequest and the issuer discovery documents, on stores over the memory backend."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives.asymmetric import ec

from kubeward.api.registry.store import Store
from kubeward.api.request_info import parse_request_info
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import NAMESPACES, NODES, PODS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.api.user import UserInfo
from kubeward.authn.serviceaccount_keys import KeySet
from kubeward.authn.serviceaccount_tokens import TokenIssuer
from kubeward.errors import BadRequest, Conflict, Invalid, NotFound, StatusError
from kubeward.server.endpoints.tokens import (
    TokenRequests,
    TokenSettings,
    discovery_document,
    token_requests_not_configured,
)
from kubeward.storage.memory import MemoryBackend

ISSUER = "https://kubernetes.default.svc.cluster.local"
KEY = ec.generate_private_key(ec.SECP256R1())
PATH = "/api/v1/namespaces/default/serviceaccounts/bot/token"


def settings(max_expiration: int = 0) -> TokenSettings:
    return TokenSettings(
        TokenIssuer(ISSUER, KEY), KeySet([KEY.public_key()]), (ISSUER,), max_expiration
    )


async def _stores() -> dict[ResourceType, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    stores = {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}
    await stores[NAMESPACES].create("", {"metadata": {"name": "default"}})
    await stores[SERVICEACCOUNTS].create("default", {"metadata": {"name": "bot"}})
    await stores[NODES].create("", {"metadata": {"name": "node-1"}})
    await stores[PODS].create(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "serviceAccountName": "bot",
                "nodeName": "node-1",
                "containers": [{"name": "c", "image": "nginx"}],
            },
        },
    )
    await stores[PODS].create(
        "default",
        {
            "metadata": {"name": "other"},
            "spec": {
                "serviceAccountName": "default",
                "containers": [{"name": "c", "image": "nginx"}],
            },
        },
    )
    return stores


def request_token(
    spec: dict[str, Any], max_expiration: int = 0, path: str = PATH
) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        stores = await _stores()
        handler = TokenRequests(stores, settings(max_expiration))
        request = make_mocked_request("POST", path, headers={"Content-Type": "application/json"})
        info = parse_request_info("POST", path, request.query)
        response = await handler(
            request, info, UserInfo("admin"), json.dumps({"spec": spec}).encode()
        )
        assert response.status == 201
        body: dict[str, Any] = json.loads(response.body)  # type: ignore[attr-defined]
        return body

    return asyncio.run(go())


def test_defaults_one_hour_and_the_api_audiences() -> None:
    body = request_token({})
    assert body["kind"] == "TokenRequest" and body["apiVersion"] == "authentication.k8s.io/v1"
    assert body["spec"]["expirationSeconds"] == 3600 and body["spec"]["audiences"] == [ISSUER]
    claims = jwt.decode(
        body["status"]["token"], KEY.public_key(), algorithms=["ES256"], audience=ISSUER
    )
    assert claims["exp"] - claims["iat"] == 3600
    assert body["status"]["expirationTimestamp"].endswith("Z")


def test_max_expiration_flag_caps_the_duration() -> None:
    assert (
        request_token({"expirationSeconds": 86400}, max_expiration=7200)["spec"][
            "expirationSeconds"
        ]
        == 7200
    )


def test_pod_binding_names_the_pod_and_its_node() -> None:
    body = request_token({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web"}})
    claims = jwt.decode(body["status"]["token"], options={"verify_signature": False})
    assert claims["kubernetes.io"]["pod"]["name"] == "web" and claims["kubernetes.io"]["pod"]["uid"]
    assert (
        claims["kubernetes.io"]["node"]["name"] == "node-1"
        and claims["kubernetes.io"]["node"]["uid"]
    )
    assert body["spec"]["boundObjectRef"]["uid"] == claims["kubernetes.io"]["pod"]["uid"]


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ({"expirationSeconds": 599}, Invalid, "may not specify a duration less than 10 minutes"),
        (
            {"expirationSeconds": (1 << 32) + 1},
            Invalid,
            "may not specify a duration larger than 2^32 seconds",
        ),
        (
            {"boundObjectRef": {"kind": "ConfigMap", "name": "x"}},
            BadRequest,
            "to object of type v1, Kind=ConfigMap",
        ),
        ({"boundObjectRef": {"kind": "Pod", "name": "gone"}}, NotFound, 'pods "gone" not found'),
        (
            {"boundObjectRef": {"kind": "Pod", "name": "web", "uid": "stale"}},
            Conflict,
            "does not match the UID in record",
        ),
        (
            {"boundObjectRef": {"kind": "Pod", "name": "other"}},
            BadRequest,
            'runs as service account "default"',
        ),
    ],
    ids=["too-short", "too-long", "bad-kind", "missing-pod", "stale-uid", "other-account"],
)
def test_refusals(spec: dict[str, Any], error: type[StatusError], message: str) -> None:
    with pytest.raises(error, match=message.replace("^", r"\^")):
        request_token(spec)


def test_missing_service_account_is_404() -> None:
    with pytest.raises(NotFound, match='serviceaccounts "nobody" not found'):
        request_token({}, path="/api/v1/namespaces/default/serviceaccounts/nobody/token")


def test_discovery_document() -> None:
    doc = discovery_document(settings())
    assert doc["issuer"] == ISSUER
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["response_types_supported"] == ["id_token"] and doc["subject_types_supported"] == [
        "public"
    ]


def test_without_signing_a_token_request_is_404_naming_the_flags() -> None:
    request = make_mocked_request("POST", PATH, headers={"Content-Type": "application/json"})
    info = parse_request_info("POST", PATH, request.query)
    with pytest.raises(NotFound) as raised:
        asyncio.run(token_requests_not_configured(request, info, UserInfo("admin"), b"{}"))
    status = raised.value.to_status()
    assert (status["code"], status["reason"]) == (404, "NotFound")
    for flag in (
        "--service-account-issuer",
        "--service-account-signing-key-file",
        "--service-account-key-file",
    ):
        assert flag in status["message"]
    assert status["message"].startswith('cannot create a token for serviceaccount "bot": ')
