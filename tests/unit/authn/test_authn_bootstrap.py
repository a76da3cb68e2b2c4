"""Bootstrap tokens: the Secret checks of upstream's bootstrap authenticator, in its order."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from kubeward.authn.bootstrap import BootstrapTokenAuthenticator, parse_token
from kubeward.errors import AuthenticationError

NOW = 1_900_000_000.0  # 2030-03-17
TOKEN = "abcdef.0123456789abcdef"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**data: str) -> dict[str, Any]:
    values = {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "usage-bootstrap-authentication": "true",
        **data,
    }
    return {
        "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {k: b64(v) for k, v in values.items() if v != "-"},
    }


class Lookup:
    def __init__(self, *secrets: Mapping[str, Any]) -> None:
        self.secrets = {s["metadata"]["name"]: s for s in secrets}

    def get(self, name: str) -> Mapping[str, Any] | None:
        return self.secrets.get(name)


def authenticator(*secrets: Mapping[str, Any]) -> BootstrapTokenAuthenticator:
    return BootstrapTokenAuthenticator(Lookup(*secrets), clock=lambda: NOW)


def test_a_good_token_is_system_bootstrap_id_in_bootstrappers_and_extra_groups() -> None:
    found = authenticator(
        secret(**{"auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"})
    ).authenticate_token(TOKEN)
    assert found is not None
    assert found.user.name == "system:bootstrap:abcdef"
    assert found.user.groups == (
        "system:bootstrappers",
        "system:bootstrappers:kubeadm:default-node-token",
    )


def test_an_unexpired_expiration_is_accepted() -> None:
    assert authenticator(secret(expiration="2030-03-18T00:00:00Z")).authenticate_token(TOKEN)


@pytest.mark.parametrize(
    "token",
    ["abcdef.0123456789abcde", "ABCDEF.0123456789abcdef", "abcdef0123456789abcdef", "x.y.z", ""],
    ids=["short-secret", "upper-case", "no-dot", "jwt-like", "empty"],
)
def test_other_shapes_are_not_mine(token: str) -> None:
    assert parse_token(token) is None
    assert authenticator(secret()).authenticate_token(token) is None


def test_a_token_without_its_secret_is_not_mine() -> None:
    assert authenticator().authenticate_token(TOKEN) is None


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (
            {**secret(), "metadata": {"name": "bootstrap-token-abcdef", "deletionTimestamp": "x"}},
            "is deleted and awaiting removal",
        ),
        ({**secret(), "type": "Opaque"}, "has invalid type"),
        (secret(**{"token-secret": "0123456789abcdee"}), "invalid value for key token-secret"),
        (secret(**{"token-id": "abcdeg"}), "invalid value for key token-id"),
        (secret(expiration="2030-03-17T00:00:00Z"), "expired at 2030-03-17"),
        (secret(expiration="tomorrow"), "unparseable expiration time"),
        (secret(**{"usage-bootstrap-authentication": "-"}), "usage-bootstrap-authentication=true"),
        (
            secret(
                **{"usage-bootstrap-authentication": "false", "usage-bootstrap-signing": "true"}
            ),
            "usage-bootstrap-authentication=true",
        ),
        (
            secret(**{"auth-extra-groups": "system:masters"}),
            "invalid value for key auth-extra-groups",
        ),
        (
            secret(**{"auth-extra-groups": "system:bootstrappers:Upper"}),
            "invalid value for key auth-extra-groups",
        ),
    ],
    ids=[
        "deleted",
        "wrong-type",
        "wrong-secret",
        "wrong-id",
        "expired",
        "unparseable-expiration",
        "no-auth-usage",
        "signing-usage-only",
        "extra-group-outside-bootstrappers",
        "extra-group-bad-characters",
    ],
)
def test_a_bad_secret_is_refused_with_the_reason(stored: dict[str, Any], reason: str) -> None:
    with pytest.raises(AuthenticationError, match=reason) as caught:
        authenticator(stored).authenticate_token(TOKEN)
    assert "kube-system/bootstrap-token-abcdef" in str(caught.value)
