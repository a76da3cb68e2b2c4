"""OIDC sign-in against a real test issuer (discovery and JWKS over HTTPS, real RS256 tokens):
the mapped user with kubectl, every refusal a 401 with its reason logged, key rotation, and
the configuration followed without a restart."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from kubectl_runner import Kubectl
from oidc_issuer import Issuer, running_issuer

from kubeward.testing import running_cluster


def configuration(issuer: Issuer, username_prefix: str = "oidc:") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthenticationConfiguration",
            "jwt": [
                {
                    "issuer": {
                        "url": issuer.url,
                        "audiences": ["kubeward"],
                        "certificateAuthority": issuer.ca_pem,
                    },
                    "claimValidationRules": [{"claim": "hd", "requiredValue": "example.com"}],
                    "claimMappings": {
                        "username": {"claim": "email", "prefix": username_prefix},
                        "groups": {"claim": "groups", "prefix": "oidc:"},
                        "uid": {"claim": "sub"},
                    },
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Issuer, Path]]:
    base = tmp_path_factory.mktemp("oidc")
    with running_issuer(base / "issuer") as issuer:
        config = base / "authentication.yaml"
        config.write_text(configuration(issuer))
        with running_cluster(server_options={"authentication_config_file": config}) as cluster:
            yield cluster, issuer, config


def kubectl_with(setup: tuple[Any, Issuer, Path], token: str, name: str) -> Kubectl:
    cluster, _, base_config = setup
    base = base_config.parent
    admin = Kubectl(cluster.admin_kubeconfig, base / "home-admin")
    doc = json.loads(admin.run("config", "view", "--raw", "--minify", "-o", "json").stdout)
    doc["users"] = [{"name": "oidc", "user": {"token": token}}]
    doc["contexts"][0]["context"]["user"] = "oidc"
    kubeconfig = base / f"{name}.conf"
    kubeconfig.write_text(json.dumps(doc))
    return Kubectl(kubeconfig, base / f"home-{name}")


ALICE = {
    "sub": "1001",
    "email": "alice@example.com",
    "email_verified": True,
    "hd": "example.com",
    "groups": ["developers"],
}


def whoami(kubectl: Kubectl) -> dict[str, Any]:
    return dict(
        json.loads(kubectl.run("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    )


def test_an_id_token_signs_in_with_the_mapped_user(setup: Any) -> None:
    _, issuer, _ = setup
    alice = kubectl_with(setup, issuer.token(**ALICE), "alice")
    assert whoami(alice) == {
        "username": "oidc:alice@example.com",
        "uid": "1001",
        "groups": ["oidc:developers", "system:authenticated"],
    }


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "token is expired"),
        ("audience", "expected audience"),
        ("issuer", "invalid bearer token"),
        ("unknown-key", "no key with id 'stranger'"),
        ("claim-rule", "required claim hd value does not match"),
        ("email-unverified", "email not verified"),
    ],
)
def test_refusals_are_401_with_the_reason_logged(
    setup: Any, case: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    _, issuer, _ = setup
    if case == "expired":
        token = issuer.token(lifetime=-60, **ALICE)
    elif case == "audience":
        token = issuer.token(aud="someone-else", **ALICE)
    elif case == "issuer":
        token = issuer.token(iss="https://evil.example", **ALICE)
    elif case == "unknown-key":
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = issuer.token(kid="stranger", key=stranger, **ALICE)
    elif case == "claim-rule":
        token = issuer.token(**{**ALICE, "hd": "evil.example"})
    else:
        token = issuer.token(**{**ALICE, "email_verified": False})
    with caplog.at_level(logging.WARNING, logger="kubeward"):
        refused = kubectl_with(setup, token, f"bad-{case}").run("get", "pods", check=False)
    assert refused.returncode != 0
    assert "You must be logged in to the server" in refused.stderr
    assert reason in caplog.text


def test_a_rotated_key_is_fetched_when_a_token_names_it(setup: Any) -> None:
    _, issuer, _ = setup
    issuer.add_key("key-2")
    token = issuer.token(kid="key-2", **ALICE)
    assert whoami(kubectl_with(setup, token, "rotated"))["username"] == "oidc:alice@example.com"


def test_the_configuration_is_followed_without_a_restart(setup: Any) -> None:
    _, issuer, config = setup
    staging = config.with_suffix(".new")
    staging.write_text(configuration(issuer, username_prefix="corp:"))
    os.replace(staging, config)
    alice = kubectl_with(setup, issuer.token(**ALICE), "after-edit")
    deadline = time.monotonic() + 10
    name = ""
    while time.monotonic() < deadline and name != "corp:alice@example.com":
        name = whoami(alice)["username"]
        time.sleep(0.3)
    assert name == "corp:alice@example.com"
