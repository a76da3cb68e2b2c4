"""JWT authenticators with CEL: expressions compiled at load, evaluated per token (a fake
fetcher serves discovery and JWKS; the HTTPS path is tests/integration/test_authn_oidc.py)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kubeward.authn.factory import AuthenticationOptions, JWTOptions, build_authenticator
from kubeward.authn.interfaces import AuthRequest
from kubeward.errors import AuthenticationError, InputError

ISSUER = "https://issuer.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Fetcher:
    async def get_json(self, url: str, ca_pem: str) -> dict[str, Any]:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/keys"}
        public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}


def config(tmp_path: Path, **jwt_fields: Any) -> Path:
    path = tmp_path / "auth.yaml"
    entry = {"issuer": {"url": ISSUER, "audiences": ["kubeward"]}, **jwt_fields}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "apiserver.config.k8s.io/v1",
                "kind": "AuthenticationConfiguration",
                "jwt": [entry],
            }
        )
    )
    return path


def token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "kubeward", "exp": now + 300, "iat": now, **claims}
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


def authenticate(path: Path, bearer: str) -> Any:
    union = build_authenticator(
        AuthenticationOptions(jwt=JWTOptions(fetcher=Fetcher(), config_file=path))
    )
    return asyncio.run(
        union.authenticate_async(AuthRequest(headers={"Authorization": f"Bearer {bearer}"}))
    )


MAPPINGS = {
    "username": {"expression": "'oidc:' + claims.email"},
    "groups": {"expression": "claims.roles.map(r, 'role:' + r)"},
    "extra": [{"key": "example.com/tenant", "valueExpression": "claims.tenant"}],
}


def test_expressions_map_the_user(tmp_path: Path) -> None:
    path = config(tmp_path, claimMappings=MAPPINGS)
    response = authenticate(
        path, token(email="ann@example.com", roles=["dev", "ops"], tenant="blue")
    )
    assert response.user.name == "oidc:ann@example.com"
    assert response.user.groups == ("role:dev", "role:ops", "system:authenticated")
    assert response.user.extra == {"example.com/tenant": ("blue",)}


def test_claim_and_user_rules_refuse_with_their_messages(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        claimMappings=MAPPINGS,
        claimValidationRules=[
            {"expression": "claims.tenant == 'blue'", "message": "only the blue tenant"}
        ],
        userValidationRules=[
            {"expression": "!user.username.startsWith('oidc:root')", "message": "no root"}
        ],
    )
    with pytest.raises(AuthenticationError, match="only the blue tenant"):
        authenticate(path, token(email="ann@example.com", roles=[], tenant="red"))
    with pytest.raises(AuthenticationError, match="no root"):
        authenticate(path, token(email="root@example.com", roles=[], tenant="blue"))


def test_a_bad_expression_refuses_the_file(tmp_path: Path) -> None:
    path = config(tmp_path, claimMappings={"username": {"expression": "claims.email +"}})
    with pytest.raises(InputError, match=r"expression 'claims.email \+'"):
        build_authenticator(
            AuthenticationOptions(jwt=JWTOptions(fetcher=Fetcher(), config_file=path))
        )


def test_requests_during_a_key_fetch_wait_for_it(tmp_path: Path) -> None:
    class SlowFetcher(Fetcher):
        def __init__(self) -> None:
            self.calls = 0

        async def get_json(self, url: str, ca_pem: str) -> dict[str, Any]:
            self.calls += 1
            await asyncio.sleep(0.05)
            return await super().get_json(url, ca_pem)

    fetcher = SlowFetcher()
    path = config(tmp_path, claimMappings={"username": {"claim": "sub", "prefix": ""}})
    union = build_authenticator(
        AuthenticationOptions(jwt=JWTOptions(fetcher=fetcher, config_file=path))
    )
    request = AuthRequest(headers={"Authorization": f"Bearer {token(sub='ann')}"})

    async def three_at_once() -> list[Any]:
        return list(await asyncio.gather(*(union.authenticate_async(request) for _ in range(3))))

    assert [r.user.name for r in asyncio.run(three_at_once())] == ["ann", "ann", "ann"]
    assert fetcher.calls == 2  # one discovery, one JWKS: the three requests shared them
