"""Service-account tokens against a real server: TokenRequest with kubectl, bearer use, revocation.

Every token failure of issue 7 is a 401 whose log line names the check that failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubeward.authn.serviceaccount_keys import key_id

ISSUER = "https://kubernetes.default.svc.cluster.local"
LOGGER = "kubeward.apiserver"


def call(
    cluster: Any, path: str, token: str | None = None, method: str = "GET", body: Any = None
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        f"{cluster.url}{path}", data=data, headers=headers, method=method
    )
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def eventually(check: Callable[[], bool], attempts: int = 100) -> bool:
    """Poll a condition that the server reaches asynchronously (a watch, a controller pass)."""
    for _ in range(attempts):
        if check():
            return True
        time.sleep(0.05)
    return False


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def sa_key(cluster: Any) -> Any:
    return serialization.load_pem_private_key(
        (cluster.data_dir / "pki" / "sa.key").read_bytes(), password=None
    )


@pytest.fixture(scope="module")
def dashboard(kubectl: Any) -> Iterator[str]:
    kubectl.run("create", "serviceaccount", "dashboard-sa")
    yield "dashboard-sa"


PODS = "/api/v1/namespaces/default/pods"


def test_create_token_lists_pods_only_once_rbac_allows(
    cluster: Any, kubectl: Any, dashboard: str
) -> None:
    token = kubectl.run("create", "token", dashboard).stdout.strip()
    claims = claims_of(token)
    assert claims["iss"] == ISSUER and claims["aud"] == [ISSUER]
    assert claims["sub"] == "system:serviceaccount:default:dashboard-sa"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] in ("ES256", "RS256")
    status, body = call(cluster, PODS, token)
    assert status == 403
    assert (
        'User "system:serviceaccount:default:dashboard-sa" cannot list resource "pods"'
        in body["message"]
    )
    kubectl.run(
        "create",
        "rolebinding",
        "dashboard-view",
        "--clusterrole=view",
        "--serviceaccount=default:dashboard-sa",
    )
    assert eventually(lambda: call(cluster, PODS, token)[0] == 200)


def test_create_token_flags(kubectl: Any, dashboard: str) -> None:
    token = kubectl.run(
        "create", "token", dashboard, "--duration", "20m", "--audience", "vault"
    ).stdout.strip()
    claims = claims_of(token)
    assert claims["aud"] == ["vault"] and claims["exp"] - claims["iat"] == 1200
    short = kubectl.run("create", "token", dashboard, "--duration", "5m", check=False)
    assert short.returncode != 0
    assert "may not specify a duration less than 10 minutes" in short.stderr
    missing = kubectl.run("create", "token", "nobody", check=False)
    assert 'error: failed to create token: serviceaccounts "nobody" not found' in missing.stderr


def test_pod_bound_token_dies_with_its_pod(
    cluster: Any, kubectl: Any, caplog: pytest.LogCaptureFixture
) -> None:
    kubectl.run("run", "bound-web", "--image=nginx")
    token = kubectl.run(
        "create",
        "token",
        "default",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "bound-web",
    ).stdout.strip()
    pod_claim = claims_of(token)["kubernetes.io"]["pod"]
    assert pod_claim["name"] == "bound-web" and pod_claim["uid"]
    assert call(cluster, PODS, token)[0] == 403  # authenticated: default has no RBAC
    caplog.set_level(logging.INFO, logger=LOGGER)
    kubectl.run("delete", "pod", "bound-web", "--wait=false")
    assert eventually(lambda: call(cluster, PODS, token)[0] == 401)
    assert "bound pod default/bound-web no longer exists" in caplog.text


def test_legacy_token_secret_works_until_deleted(
    cluster: Any, kubectl: Any, dashboard: str, caplog: pytest.LogCaptureFixture
) -> None:
    kubectl.run(
        "apply",
        "-f",
        "-",
        input=(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: dashboard-sa-token\n"
            "  annotations: {kubernetes.io/service-account.name: dashboard-sa}\n"
            "type: kubernetes.io/service-account-token\n"
        ),
    )

    def token_filled() -> bool:
        out = kubectl.run(
            "get", "secret", "dashboard-sa-token", "-o", "jsonpath={.data.token}"
        ).stdout
        return bool(out.strip())

    assert eventually(token_filled)
    data = json.loads(kubectl.run("get", "secret", "dashboard-sa-token", "-o", "json").stdout)[
        "data"
    ]
    token = base64.b64decode(data["token"]).decode()
    assert base64.b64decode(data["namespace"]) == b"default"
    assert base64.b64decode(data["ca.crt"]) == cluster.ca_file.read_bytes()
    assert "exp" not in claims_of(token)
    assert eventually(lambda: call(cluster, PODS, token)[0] == 200)
    caplog.set_level(logging.INFO, logger=LOGGER)
    kubectl.run("delete", "secret", "dashboard-sa-token")
    assert eventually(lambda: call(cluster, PODS, token)[0] == 401)
    assert "legacy token Secret default/dashboard-sa-token no longer exists" in caplog.text


def _bound_claims(kubectl: Any, name: str) -> dict[str, Any]:
    return claims_of(kubectl.run("create", "token", name).stdout.strip())


def _resign(key: Any, claims: dict[str, Any], **changes: Any) -> str:
    return jwt.encode(
        {**claims, **changes},
        key,
        algorithm="ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256",
        headers={"kid": key_id(key)},
    )


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _forgeries(key: Any, claims: dict[str, Any], token: str) -> dict[str, tuple[str, str]]:
    now = int(time.time())
    header, payload, signature = token.split(".")
    tampered = dict(claims, sub="system:serviceaccount:kube-system:admin")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_input = f"{_segment({'alg': 'HS256', 'kid': key_id(key), 'typ': 'JWT'})}.{payload}"
    hs_signature = (
        base64.urlsafe_b64encode(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
        .decode()
        .rstrip("=")
    )
    other = ec.generate_private_key(ec.SECP256R1())
    return {
        "expired": (
            _resign(key, claims, iat=now - 7200, nbf=now - 7200, exp=now - 3600),
            "expired",
        ),
        "not-yet-valid": (_resign(key, claims, nbf=now + 3600, exp=now + 7200), "not valid yet"),
        "tampered": (f"{header}.{_segment(tampered)}.{signature}", "invalid signature"),
        "wrong-key": (
            jwt.encode(claims, other, algorithm="ES256", headers={"kid": key_id(key)}),
            "invalid signature",
        ),
        "alg-none": (
            f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
            "algorithm 'none' is not allowed",
        ),
        "hmac-public-key": (f"{hs_input}.{hs_signature}", "algorithm 'HS256' is not allowed"),
        "wrong-issuer": (
            _resign(key, claims, iss="https://evil.example"),
            "issuer 'https://evil.example' is not accepted",
        ),
        "wrong-audience": (_resign(key, claims, aud=["vault"]), "do not include any of"),
    }


FORGERIES = [
    "expired",
    "not-yet-valid",
    "tampered",
    "wrong-key",
    "alg-none",
    "hmac-public-key",
    "wrong-issuer",
    "wrong-audience",
]


@pytest.mark.parametrize("case", FORGERIES, ids=FORGERIES)
def test_bad_tokens_are_401_with_the_failed_check_logged(
    cluster: Any,
    kubectl: Any,
    dashboard: str,
    sa_key: Any,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = kubectl.run("create", "token", dashboard).stdout.strip()
    forged, message = _forgeries(sa_key, claims_of(token), token)[case]
    caplog.set_level(logging.INFO, logger=LOGGER)
    status, body = call(cluster, PODS, forged)
    assert (status, body["reason"]) == (401, "Unauthorized")
    assert message in caplog.text


def test_deleted_and_recreated_service_account(
    cluster: Any, kubectl: Any, caplog: pytest.LogCaptureFixture
) -> None:
    kubectl.run("create", "serviceaccount", "ephemeral")
    token = kubectl.run("create", "token", "ephemeral").stdout.strip()
    assert call(cluster, PODS, token)[0] == 403
    caplog.set_level(logging.INFO, logger=LOGGER)
    kubectl.run("delete", "serviceaccount", "ephemeral")
    assert eventually(lambda: call(cluster, PODS, token)[0] == 401)
    assert "service account default/ephemeral no longer exists" in caplog.text
    kubectl.run("create", "serviceaccount", "ephemeral")
    # Once the index sees the new account, the old token is refused for its uid.
    assert eventually(
        lambda: (
            call(cluster, PODS, token)[0] == 401
            and "service account default/ephemeral has uid" in caplog.text
        )
    )
    assert call(cluster, PODS, kubectl.run("create", "token", "ephemeral").stdout.strip())[0] == 403


def test_token_review_uses_the_whole_union(
    cluster: Any, kubectl: Any, dashboard: str, tmp_path: Path
) -> None:
    token = kubectl.run("create", "token", dashboard).stdout.strip()
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    (tmp_path / "review.json").write_text(json.dumps(review))
    out = kubectl.run(
        "create", "--validate=false", "-f", str(tmp_path / "review.json"), "-o", "json"
    ).stdout
    status = json.loads(out)["status"]
    assert status["authenticated"] is True
    assert status["user"]["username"] == "system:serviceaccount:default:dashboard-sa"
    assert status["audiences"] == [ISSUER]
    review = {**review, "spec": {"token": token, "audiences": ["vault"]}}
    (tmp_path / "review.json").write_text(json.dumps(review))
    refused = json.loads(
        kubectl.run(
            "create", "--validate=false", "-f", str(tmp_path / "review.json"), "-o", "json"
        ).stdout
    )
    assert refused["status"]["authenticated"] is False and "vault" in refused["status"]["error"]


def test_issuer_discovery_and_jwks_verify_tokens(
    cluster: Any, kubectl: Any, dashboard: str
) -> None:
    token = kubectl.run("create", "token", dashboard).stdout.strip()
    assert call(cluster, "/.well-known/openid-configuration")[0] == 403  # anonymous: not by default
    status, discovery = call(cluster, "/.well-known/openid-configuration", token)
    assert status == 200 and discovery["issuer"] == ISSUER
    assert discovery["jwks_uri"].endswith("/openid/v1/jwks")
    kubectl.run(
        "create",
        "clusterrolebinding",
        "oidc-reviewer",
        "--clusterrole=system:service-account-issuer-discovery",
        "--group=system:unauthenticated",
    )
    assert eventually(lambda: call(cluster, "/openid/v1/jwks")[0] == 200)
    _, jwks = call(cluster, "/openid/v1/jwks")
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    verified = jwt.decode(
        token,
        key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=ISSUER,
        issuer=ISSUER,
    )
    assert verified["sub"] == "system:serviceaccount:default:dashboard-sa"


def test_python_client_requests_and_reviews_tokens(cluster: Any, dashboard: str) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))  # type: ignore[no-untyped-call]
    body = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    core = client.CoreV1Api(api_client)
    issued = core.create_namespaced_service_account_token(dashboard, "default", body).status
    assert issued is not None and issued.token and issued.expiration_timestamp is not None
    review = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=issued.token))
    result = client.AuthenticationV1Api(api_client).create_token_review(review).status
    assert result is not None and result.authenticated is True and result.user is not None
    assert result.user.username == "system:serviceaccount:default:dashboard-sa"


# --- kubeward serve without the signing flags ----------------------------------------------


@pytest.fixture(scope="module")
def unsigned_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """``kubeward serve`` with TLS and RBAC but none of the service-account signing flags."""
    from kubeward.server.wiring.local import local_config
    from kubeward.testing.cluster import free_port

    data = tmp_path_factory.mktemp("unsigned")
    port = free_port()
    _config, admin = local_config(data / "data", port)
    pki = data / "data" / "pki"
    tokens = data / "tokens.csv"
    tokens.write_text("static-token-1234,static-user,u1\n")
    args = [
        sys.executable, "-m", "kubeward", "serve",
        "--secure-port", str(port), "--bind-address", "127.0.0.1",
        "--data-dir", str(data / "data"),
        "--tls-cert-file", str(pki / "apiserver.crt"),
        "--tls-private-key-file", str(pki / "apiserver.key"),
        "--client-ca-file", str(pki / "ca.crt"),
        "--authorization-mode", "RBAC",
        "--token-auth-file", str(tokens),
    ]  # fmt: skip
    log = data / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
            for _ in range(400):
                assert process.poll() is None, log.read_text()
                try:
                    urllib.request.urlopen(
                        f"https://127.0.0.1:{port}/readyz", context=context, timeout=2
                    ).close()
                    break
                except (OSError, urllib.error.URLError):
                    time.sleep(0.05)
            yield admin, data
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_create_token_without_signing_flags_names_the_flags(
    unsigned_server: tuple[Path, Path],
) -> None:
    admin, home = unsigned_server
    env = {**os.environ, "KUBECONFIG": str(admin), "HOME": str(home)}
    kubectl = ["kubectl", "create", "token", "default"]
    result = subprocess.run(kubectl, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'error: failed to create token: cannot create a token for serviceaccount "default": '
        "service-account token signing is not configured on this server: start it with "
        "--service-account-issuer and --service-account-signing-key-file (and "
        "--service-account-key-file for any further keys that verify tokens)"
    )


def test_token_request_without_signing_is_a_404_status_for_the_python_client(
    unsigned_server: tuple[Path, Path],
) -> None:
    import kubernetes.client
    import kubernetes.config

    admin, _ = unsigned_server
    with (
        kubernetes.config.new_client_from_config(str(admin)) as api,
        pytest.raises(kubernetes.client.ApiException) as raised,
    ):
        kubernetes.client.CoreV1Api(api).create_namespaced_service_account_token(
            "default", "default", {"spec": {}}
        )
    assert raised.value.status == 404
    status = json.loads(raised.value.body)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    assert "--service-account-signing-key-file" in status["message"]


def test_token_review_is_served_without_the_signing_flags(
    unsigned_server: tuple[Path, Path],
) -> None:
    """As kube-apiserver: TokenReview asks the whole union, signing or not."""
    import kubernetes.client
    import kubernetes.config

    admin, _ = unsigned_server
    with kubernetes.config.new_client_from_config(str(admin)) as api:
        reviews = kubernetes.client.AuthenticationV1Api(api)
        known = reviews.create_token_review({"spec": {"token": "static-token-1234"}})
        unknown = reviews.create_token_review({"spec": {"token": "not-a-token"}})
    assert known.status.authenticated is True
    assert known.status.user.username == "static-user"
    assert unknown.status.authenticated is False
