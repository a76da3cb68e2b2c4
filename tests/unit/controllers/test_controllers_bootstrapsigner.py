"""The bootstrapsigner's JWS and its choice of tokens."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import yaml

from kubeward.controllers.bootstrapsigner import (
    cluster_info_kubeconfig,
    detached_signature,
    signing_tokens,
)

NOW = 1_900_000_000.0


# A bootstrap token's secret is 16 characters: shorter than PyJWT likes an HMAC key, as upstream's.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_the_detached_jws_verifies_as_hs256_with_the_token_secret() -> None:
    content = cluster_info_kubeconfig("https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\n")
    detached = detached_signature(content, "abcdef", "0123456789abcdef")
    header, empty, signature = detached.split(".")
    assert empty == ""
    padded = header + "=" * (-len(header) % 4)
    assert base64.urlsafe_b64decode(padded) == b'{"alg":"HS256","kid":"abcdef"}'
    payload = base64.urlsafe_b64encode(content.encode()).rstrip(b"=").decode()
    token = f"{header}.{payload}.{signature}"
    assert jwt.api_jws.decode(token, "0123456789abcdef", algorithms=["HS256"]) == content.encode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode(token, "0123456789abcdee", algorithms=["HS256"])


def test_the_cluster_info_kubeconfig_has_one_unnamed_cluster() -> None:
    doc = yaml.safe_load(cluster_info_kubeconfig("https://10.0.0.1:6443", b"CA"))
    assert doc["clusters"] == [
        {
            "cluster": {"certificate-authority-data": "Q0E=", "server": "https://10.0.0.1:6443"},
            "name": "",
        }
    ]


def token(token_id: str, **data: str) -> dict[str, object]:
    values = {"token-id": token_id, "token-secret": "0123456789abcdef", **data}
    return {
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }


def test_only_unexpired_signing_tokens_sign() -> None:
    secrets = [
        token("signer", **{"usage-bootstrap-signing": "true"}),
        token("authny", **{"usage-bootstrap-authentication": "true"}),
        token(
            "expird", **{"usage-bootstrap-signing": "true", "expiration": "2020-01-01T00:00:00Z"}
        ),
        token(
            "future", **{"usage-bootstrap-signing": "true", "expiration": "2031-01-01T00:00:00Z"}
        ),
        {**token("opaque", **{"usage-bootstrap-signing": "true"}), "type": "Opaque"},
    ]
    assert json.dumps(signing_tokens(secrets, NOW), sort_keys=True) == json.dumps(
        {"future": "0123456789abcdef", "signer": "0123456789abcdef"}, sort_keys=True
    )
