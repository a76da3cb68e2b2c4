"""When an issuer's keys are fetched (``authn.oidc.keys``): a rotation is seen at once, a
made-up key id does not hammer the issuer, and concurrent requests share one fetch."""

from __future__ import annotations

import asyncio
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from kubeward.authn.oidc.config import JWTAuthenticatorConfig
from kubeward.authn.oidc.keys import IssuerKeys

ISSUER = "https://issuer.example"


def jwk(kid: str) -> dict[str, Any]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {**ECAlgorithm.to_jwk(public, as_dict=True), "kid": kid}


class Issuer:
    """A fake JSONFetcher (kubeward's seam) that counts the JWKS fetches."""

    def __init__(self) -> None:
        self.keys = [jwk("key-1")]
        self.fetches = 0

    async def get_json(self, url: str, ca_pem: str) -> dict[str, Any]:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/keys"}
        self.fetches += 1
        await asyncio.sleep(0.01)
        return {"keys": list(self.keys)}


def keys_of(issuer: Issuer) -> IssuerKeys:
    return IssuerKeys(JWTAuthenticatorConfig(ISSUER, ("aud",)), issuer)


def test_a_rotated_key_is_fetched_right_after_a_fetch_for_another_id() -> None:
    issuer = Issuer()
    keys = keys_of(issuer)

    async def scenario() -> None:
        await keys.ensure("stranger")  # an unknown id: one fetch, still unknown
        assert keys.key("stranger") is None
        issuer.keys.append(jwk("key-2"))  # the issuer rotates
        await keys.ensure("key-2")
        assert keys.key("key-2") is not None

    asyncio.run(scenario())
    assert issuer.fetches == 2


def test_one_unknown_id_fetches_at_most_once_per_period() -> None:
    issuer = Issuer()
    keys = keys_of(issuer)

    async def scenario() -> None:
        for _ in range(5):
            await keys.ensure("made-up")

    asyncio.run(scenario())
    assert issuer.fetches == 1


def test_concurrent_requests_share_one_fetch() -> None:
    issuer = Issuer()
    keys = keys_of(issuer)

    async def scenario() -> None:
        await asyncio.gather(*(keys.ensure("key-1") for _ in range(10)))

    asyncio.run(scenario())
    assert issuer.fetches == 1
    assert keys.key("key-1") is not None
