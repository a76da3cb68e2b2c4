"""AuthenticationConfiguration and the --oidc-* flags: what is accepted, what is refused, and
how the legacy flags map (the HTTPS path is tests/integration/test_authn_oidc.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.authn.factory import AuthenticationOptions, JWTOptions, build_authenticator
from kubeward.authn.oidc import (
    LegacyOIDCFlags,
    from_legacy_flags,
    parse_authentication_configuration,
)
from kubeward.authn.oidc.config import ClaimOrExpression, ClaimRule
from kubeward.errors import InputError

ISSUER = {"url": "https://issuer.example", "audiences": ["kubeward"]}


def document(*jwt: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthenticationConfiguration",
            "jwt": list(jwt),
        }
    )


def test_a_complete_authenticator_is_read() -> None:
    (config,) = parse_authentication_configuration(
        document(
            {
                "issuer": {**ISSUER, "discoveryURL": "https://discovery.example/x"},
                "claimValidationRules": [{"claim": "hd", "requiredValue": "example.com"}],
                "claimMappings": {
                    "username": {"claim": "email", "prefix": ""},
                    "groups": {"claim": "groups", "prefix": "oidc:"},
                },
            }
        ),
        "auth.yaml",
    )
    assert config.issuer_url == "https://issuer.example"
    assert config.discovery_url == "https://discovery.example/x"
    assert config.username == ClaimOrExpression("email", "")
    assert config.groups == ClaimOrExpression("groups", "oidc:")
    assert config.claim_rules == (ClaimRule("hd", "example.com"),)


@pytest.mark.parametrize(
    ("jwt", "message"),
    [
        (
            {
                "issuer": {"audiences": ["a"]},
                "claimMappings": {"username": {"claim": "sub", "prefix": ""}},
            },
            "jwt[0].issuer.url: Required value",
        ),
        (
            {
                "issuer": {**ISSUER, "url": "http://issuer.example"},
                "claimMappings": {"username": {"claim": "sub", "prefix": ""}},
            },
            "URL scheme must be https",
        ),
        (
            {
                "issuer": {"url": "https://i.example"},
                "claimMappings": {"username": {"claim": "sub", "prefix": ""}},
            },
            "jwt[0].issuer.audiences: Required value",
        ),
        (
            {
                "issuer": {**ISSUER, "audiences": ["a", "b"]},
                "claimMappings": {"username": {"claim": "sub", "prefix": ""}},
            },
            "audienceMatchPolicy must be MatchAny",
        ),
        (
            {"issuer": ISSUER, "claimMappings": {"username": {"claim": "sub"}}},
            "jwt[0].claimMappings.username.prefix: Required value",
        ),
        ({"issuer": ISSUER, "claimMappings": {}}, "jwt[0].claimMappings.username: Required value"),
        (
            {
                "issuer": ISSUER,
                "claimMappings": {"username": {"claim": "sub", "expression": "claims.sub"}},
            },
            "claim and expression can't both be set",
        ),
    ],
    ids=["no-url", "http", "no-audience", "two-audiences", "no-prefix", "no-username", "both"],
)
def test_refusals_name_the_field(jwt: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_authentication_configuration(document(jwt), "auth.yaml")
    assert str(caught.value).startswith("auth.yaml: ")
    assert message in str(caught.value)


def test_two_authenticators_may_not_share_an_issuer() -> None:
    one = {"issuer": ISSUER, "claimMappings": {"username": {"claim": "sub", "prefix": ""}}}
    with pytest.raises(
        InputError, match=re.escape('jwt[1].issuer.url: Duplicate value: "https://issuer.example"')
    ):
        parse_authentication_configuration(document(one, one), "auth.yaml")


def test_the_wrong_kind_is_refused() -> None:
    with pytest.raises(InputError, match="expected kind AuthenticationConfiguration"):
        parse_authentication_configuration("kind: Config\napiVersion: v1\n", "auth.yaml")


@pytest.mark.parametrize(
    ("flags", "username"),
    [
        (
            LegacyOIDCFlags("https://i.example", "kw"),
            ClaimOrExpression("sub", "https://i.example#"),
        ),
        (
            LegacyOIDCFlags("https://i.example", "kw", username_claim="email"),
            ClaimOrExpression("email", ""),
        ),
        (
            LegacyOIDCFlags("https://i.example", "kw", username_prefix="-"),
            ClaimOrExpression("sub", ""),
        ),
        (
            LegacyOIDCFlags("https://i.example", "kw", username_prefix="corp:"),
            ClaimOrExpression("sub", "corp:"),
        ),
    ],
    ids=["default-prefix", "email-no-prefix", "dash-disables", "given"],
)
def test_legacy_flags_map_as_kube_apiserver_maps_them(
    flags: LegacyOIDCFlags, username: ClaimOrExpression
) -> None:
    config = from_legacy_flags(flags)
    assert config.audiences == ("kw",)
    assert config.username == username
    assert config.signing_algorithms == ("RS256",)


def test_legacy_flags_need_issuer_and_client_and_exclude_the_file(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match="oidc-issuer-url and oidc-client-id must be specified together"
    ):
        from_legacy_flags(LegacyOIDCFlags(issuer_url="https://i.example"))
    config = tmp_path / "auth.yaml"
    config.write_text(
        document({"issuer": ISSUER, "claimMappings": {"username": {"claim": "sub", "prefix": ""}}})
    )
    options = JWTOptions(
        fetcher=object(), config_file=config, legacy=LegacyOIDCFlags("https://i.example", "kw")
    )  # type: ignore[arg-type]
    with pytest.raises(
        InputError, match="authentication-config file and oidc-\\* flags are mutually exclusive"
    ):
        build_authenticator(AuthenticationOptions(jwt=options))
