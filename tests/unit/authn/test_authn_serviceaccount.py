"""The service-account authenticator: every check, on tokens issued by the real issuer."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kubeward.authn.serviceaccount import ServiceAccountAuthenticator
from kubeward.authn.serviceaccount_keys import KeySet, key_id
from kubeward.authn.serviceaccount_tokens import BoundObject, ObjectRef, TokenIssuer
from kubeward.errors import AuthenticationError

ISSUER = "https://kubernetes.default.svc.cluster.local"
NOW = float(int(time.time()))
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


class FakeLookup:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def put(self, resource: str, namespace: str, name: str, uid: str, **extra: Any) -> None:
        self.objects[(resource, namespace, name)] = {
            "metadata": {"name": name, "uid": uid},
            **extra,
        }

    def get(self, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get((resource, namespace, name))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lookup() -> FakeLookup:
    found = FakeLookup()
    found.put("serviceaccounts", "default", "bot", "sa-uid")
    found.put("pods", "default", "web", "pod-uid")
    return found


def make(
    lookup: FakeLookup, key: Any = EC_KEY, keys: KeySet | None = None
) -> tuple[TokenIssuer, ServiceAccountAuthenticator, Clock]:
    clock = Clock()
    issuer = TokenIssuer(ISSUER, key, clock=clock)
    authn = ServiceAccountAuthenticator(
        issuers=[ISSUER],
        keys=keys or KeySet([key.public_key()]),
        api_audiences=[ISSUER],
        lookup=lookup,
        clock=clock,
    )
    return issuer, authn, clock


def bound_token(
    issuer: TokenIssuer, pod: bool = False, audiences: tuple[str, ...] = (ISSUER,)
) -> str:
    return issuer.issue(
        namespace="default",
        service_account=ObjectRef("bot", "sa-uid"),
        audiences=audiences,
        expiration_seconds=3600,
        bound=BoundObject("Pod", ObjectRef("web", "pod-uid")) if pod else None,
    ).token


@pytest.mark.parametrize("key", [EC_KEY, RSA_KEY], ids=["ES256", "RS256"])
def test_issued_token_authenticates_as_the_service_account(lookup: FakeLookup, key: Any) -> None:
    issuer, authn, _ = make(lookup, key)
    token = bound_token(issuer, pod=True)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == ("ES256" if key is EC_KEY else "RS256")
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert header["kid"] == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip(
        "="
    )
    response = authn.authenticate_token(token)
    assert response is not None
    assert response.user.name == "system:serviceaccount:default:bot"
    assert response.user.uid == "sa-uid"
    assert response.user.groups == ("system:serviceaccounts", "system:serviceaccounts:default")
    assert response.user.extra["authentication.kubernetes.io/pod-name"] == ("web",)
    claims = jwt.decode(token, key.public_key(), algorithms=[header["alg"]], audience=ISSUER)
    assert claims["kubernetes.io"]["pod"] == {"name": "web", "uid": "pod-uid"}
    assert claims["sub"] == "system:serviceaccount:default:bot"
    assert (
        claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"] and claims["jti"]
    )


def _forge(claims: dict[str, Any], header: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return (
        f"{part(header)}.{part(claims)}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"
    )


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["kubernetes.io"]["serviceaccount"]["name"] = "admin"
    new_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{new_payload}.{signature}"


def _hmac_with_public_key(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    pem = EC_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hmac

    header = {"alg": "HS256", "kid": key_id(EC_KEY), "typ": "JWT"}
    unsigned = _forge(claims, header).rsplit(".", 1)[0]
    signature = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    return unsigned + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")


def _alg_none(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return _forge(claims, {"alg": "none", "typ": "JWT"})


def _other_key(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, OTHER_KEY, algorithm="ES256", headers={"kid": key_id(EC_KEY)})


def _wrong_issuer(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["iss"] = "https://evil.example"
    return jwt.encode(claims, EC_KEY, algorithm="ES256", headers={"kid": key_id(EC_KEY)})


FAILURES = [
    ("tampered", _tampered, "invalid signature"),
    ("wrong-key", _other_key, "invalid signature"),
    ("alg-none", _alg_none, "algorithm 'none' is not allowed"),
    ("hmac-public-key", _hmac_with_public_key, "algorithm 'HS256' is not allowed"),
    ("wrong-issuer", _wrong_issuer, "issuer 'https://evil.example' is not accepted"),
    ("signature-encoding", lambda token: token + "!", "signature is not base64url"),
]


@pytest.mark.parametrize(("name", "transform", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_forged_tokens_are_refused_naming_the_check(
    lookup: FakeLookup, name: str, transform: Any, message: str
) -> None:
    issuer, authn, _ = make(lookup)
    with pytest.raises(AuthenticationError, match=message):
        authn.authenticate_token(transform(bound_token(issuer)))


@pytest.mark.parametrize(
    ("accepted_at", "refused_at", "message"),
    [(3600 + 59, 3600 + 61, "expired"), (-59, -61, "not valid yet")],
    ids=["expired", "not-yet-valid"],
)
def test_time_checks_allow_a_minute_of_skew(
    lookup: FakeLookup, accepted_at: float, refused_at: float, message: str
) -> None:
    issuer, authn, clock = make(lookup)
    token = bound_token(issuer)
    clock.now = NOW + accepted_at
    assert authn.authenticate_token(token) is not None
    clock.now = NOW + refused_at
    with pytest.raises(AuthenticationError, match=message):
        authn.authenticate_token(token)


def test_audience_must_match(lookup: FakeLookup) -> None:
    issuer, authn, _ = make(lookup)
    token = bound_token(issuer, audiences=("vault",))
    with pytest.raises(AuthenticationError, match="audiences"):
        authn.authenticate_token(token)
    response = authn.authenticate_token(token, ("vault", "other"))
    assert response is not None and response.audiences == ("vault",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda lk: lk.objects.pop(("serviceaccounts", "default", "bot")),
            "service account default/bot no longer exists",
        ),
        (lambda lk: lk.put("serviceaccounts", "default", "bot", "new-uid"), "has uid 'new-uid'"),
        (
            lambda lk: lk.objects.pop(("pods", "default", "web")),
            "bound pod default/web no longer exists",
        ),
    ],
    ids=["sa-deleted", "sa-recreated", "pod-deleted"],
)
def test_existence_checks_run_even_for_cached_tokens(
    lookup: FakeLookup, change: Any, message: str
) -> None:
    issuer, authn, _ = make(lookup)
    token = bound_token(issuer, pod=True)
    assert authn.authenticate_token(token) is not None
    change(lookup)
    with pytest.raises(AuthenticationError, match=message):
        authn.authenticate_token(token)


def test_legacy_token_lives_as_long_as_its_secret(lookup: FakeLookup) -> None:
    issuer, authn, _ = make(lookup)
    token = issuer.issue_legacy(
        namespace="default", service_account=ObjectRef("bot", "sa-uid"), secret_name="bot-token"
    )
    assert "exp" not in jwt.decode(token, options={"verify_signature": False})
    encoded = base64.b64encode(token.encode()).decode()
    lookup.put("secrets", "default", "bot-token", "s-uid", data={"token": encoded})
    response = authn.authenticate_token(token)
    assert response is not None and response.user.name == "system:serviceaccount:default:bot"
    lookup.objects.pop(("secrets", "default", "bot-token"))
    with pytest.raises(AuthenticationError, match="Secret default/bot-token no longer exists"):
        authn.authenticate_token(token)


def test_old_key_works_while_configured_and_not_after(lookup: FakeLookup) -> None:
    old_issuer, _, _ = make(lookup, EC_KEY)
    token = bound_token(old_issuer)
    _, both, _ = make(lookup, OTHER_KEY, KeySet([OTHER_KEY.public_key(), EC_KEY.public_key()]))
    assert both.authenticate_token(token) is not None
    _, new_only, _ = make(lookup, OTHER_KEY, KeySet([OTHER_KEY.public_key()]))
    with pytest.raises(AuthenticationError, match="unknown key id"):
        new_only.authenticate_token(token)


def test_foreign_tokens_are_not_mine(lookup: FakeLookup) -> None:
    _, authn, _ = make(lookup)
    foreign = jwt.encode(
        {"iss": "https://accounts.example", "sub": "x"}, OTHER_KEY, algorithm="ES256"
    )
    assert authn.authenticate_token(foreign) is None
    assert authn.authenticate_token("not-a-jwt") is None


def test_jwks_verifies_tokens_with_a_standard_library(lookup: FakeLookup) -> None:
    issuer, _, _ = make(lookup, RSA_KEY)
    token = bound_token(issuer)
    jwks = KeySet([RSA_KEY.public_key(), EC_KEY.public_key()]).jwks()
    key_set = jwt.PyJWKSet.from_dict(json.loads(json.dumps(jwks)))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in key_set.keys if k.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=ISSUER)
    assert claims["iss"] == ISSUER


@pytest.mark.parametrize(
    ("deleted_ago", "valid"), [(30, True), (90, False)], ids=["within-grace", "after-grace"]
)
def test_terminating_pod_keeps_its_token_for_a_minute(
    lookup: FakeLookup, deleted_ago: int, valid: bool
) -> None:
    issuer, authn, _ = make(lookup)
    token = bound_token(issuer, pod=True)
    stamp = datetime.datetime.fromtimestamp(NOW - deleted_ago, tz=datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    lookup.objects[("pods", "default", "web")]["metadata"]["deletionTimestamp"] = stamp
    if valid:
        assert authn.authenticate_token(token) is not None
    else:
        with pytest.raises(AuthenticationError, match="bound pod default/web was deleted"):
            authn.authenticate_token(token)
