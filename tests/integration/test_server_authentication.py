"""Authentication against a real server: client certificates, token and password files, anonymous."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import kubernetes.client
import pytest

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import build_subject
from kubeward.pki.profiles import Profile
from kubeward.testing import running_cluster

HOUR = datetime.timedelta(hours=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("auth")
    tokens = d / "tokens.csv"
    tokens.write_text('s3cret-token,jane,1001,"dev,qa"\nother-token,bob,1002\n')
    passwords = d / "passwords.csv"
    passwords.write_text('hunter2,alice,2001,"ops"\n')
    return d, tokens, passwords


@pytest.fixture(scope="module")
def server(files):
    d, tokens, passwords = files
    with running_cluster(
        data_dir=d / "cluster", token_auth_file=tokens, basic_auth_file=passwords
    ) as cluster:
        yield cluster


def _context(
    server, cert: bytes | None = None, key: bytes | None = None, tmp: Path | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    if cert is not None and key is not None and tmp is not None:
        (tmp / "c.crt").write_bytes(cert)
        (tmp / "c.key").write_bytes(key)
        context.load_cert_chain(str(tmp / "c.crt"), str(tmp / "c.key"))
    return context


def whoami(
    server, context: ssl.SSLContext, headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        data=b'{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def cluster_ca(server) -> CertificateAuthority:
    return CertificateAuthority.from_dir(server.data_dir / "pki")


def client_pair(
    ca: CertificateAuthority, cn: str, orgs=(), *, profile=Profile.CLIENT, now=None, validity=HOUR
):
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue(key.public_key(), build_subject(cn, list(orgs)), profile, validity, now=now)
    return certificate_pem(cert), private_key_pem(key)


def test_valid_client_certificate_is_the_user_and_its_groups(server, tmp_path):
    cert, key = client_pair(cluster_ca(server), "jane", ["dev", "qa"])
    status, body = whoami(server, _context(server, cert, key, tmp_path))
    assert status == 201
    info = body["status"]["userInfo"]
    assert info["username"] == "jane"
    assert info["groups"] == ["dev", "qa", "system:authenticated"]


def _handshake_or_401(server, cert, key, tmp_path) -> str:
    try:
        status, body = whoami(server, _context(server, cert, key, tmp_path))
    except (ssl.SSLError, urllib.error.URLError, ConnectionResetError) as exc:
        return f"refused in handshake: {exc}"
    assert status == 401, body
    assert body["reason"] == "Unauthorized"
    return "401"


def test_expired_certificate_is_refused(server, tmp_path):
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3)
    cert, key = client_pair(
        cluster_ca(server), "old", now=past, validity=datetime.timedelta(days=1)
    )
    assert _handshake_or_401(server, cert, key, tmp_path)


def test_not_yet_valid_certificate_is_refused(server, tmp_path):
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)
    cert, key = client_pair(cluster_ca(server), "early", now=future)
    assert _handshake_or_401(server, cert, key, tmp_path)


def test_certificate_from_another_ca_is_refused(server, tmp_path):
    other = CertificateAuthority.create(
        "someone-else", datetime.timedelta(days=1), algorithm="ecdsa-p256"
    )
    cert, key = client_pair(other, "mallory", ["system:masters"])
    assert _handshake_or_401(server, cert, key, tmp_path)


def test_server_only_certificate_is_refused_as_a_client(server, tmp_path):
    cert, key = client_pair(cluster_ca(server), "a-server", profile=Profile.SERVER)
    assert _handshake_or_401(server, cert, key, tmp_path)


def test_token_file_users_get_their_groups(server):
    status, body = whoami(server, _context(server), {"Authorization": "Bearer s3cret-token"})
    assert status == 201
    info = body["status"]["userInfo"]
    assert (info["username"], info["uid"], info["groups"]) == (
        "jane",
        "1001",
        ["dev", "qa", "system:authenticated"],
    )


def test_token_file_is_reloaded_when_it_changes(server, files):
    _, tokens, _ = files
    original = tokens.read_text()
    try:
        tokens.write_text(original + 'new-token,carol,1003,"late"\n')
        import time

        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline:
            status, body = whoami(server, _context(server), {"Authorization": "Bearer new-token"})
            if status == 201:
                break
            time.sleep(0.3)
        assert status == 201 and body["status"]["userInfo"]["username"] == "carol"
    finally:
        tokens.write_text(original)


def test_wrong_token_is_401_never_anonymous(server):
    status, body = whoami(server, _context(server), {"Authorization": "Bearer wrong"})
    assert status == 401 and body["reason"] == "Unauthorized" and body["kind"] == "Status"


def test_basic_auth_when_enabled_warns(server):
    credentials = base64.b64encode(b"alice:hunter2").decode()
    request = urllib.request.Request(
        f"{server.url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        data=b"{}",
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, context=_context(server), timeout=10) as response:
        body = json.loads(response.read())
        warning = response.headers.get("Warning", "")
    assert body["status"]["userInfo"]["username"] == "alice"
    assert "removed from Kubernetes in 1.19" in warning
    bad = base64.b64encode(b"alice:wrong").decode()
    status, _ = whoami(server, _context(server), {"Authorization": f"Basic {bad}"})
    assert status == 401


def test_basic_auth_is_off_without_the_flag(tmp_path):
    with running_cluster(data_dir=tmp_path / "c") as cluster:
        credentials = base64.b64encode(b"alice:hunter2").decode()
        status, _ = whoami(cluster, _context(cluster), {"Authorization": f"Basic {credentials}"})
        assert status == 401


def get(server, context: ssl.SSLContext, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{server.url}{path}", context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_anonymous_on_and_off(server, tmp_path):
    # Without credentials the request is system:anonymous: it reaches what the default policy
    # opens to everyone, and anything else is refused as that user (403, not 401).
    assert get(server, _context(server), "/version")[0] == 200
    status, body = get(server, _context(server), "/api/v1/namespaces/default/pods")
    assert status == 403
    assert 'User "system:anonymous" cannot list resource "pods"' in body["message"]
    with running_cluster(data_dir=tmp_path / "c", anonymous_auth=False) as cluster:
        status, body = get(cluster, _context(cluster), "/version")
        assert status == 401 and body["reason"] == "Unauthorized"


# The course's user-details.csv: five users, all with the same password.
COURSE_USER_DETAILS = "".join(f"password123,user{n},u000{n}\n" for n in range(1, 6))
COURSE_USERS = [f"user{n}" for n in range(1, 6)]


@pytest.fixture(scope="module")
def course_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("course-basic")
    (d / "user-details.csv").write_text(COURSE_USER_DETAILS)
    with running_cluster(data_dir=d / "cluster", basic_auth_file=d / "user-details.csv") as cluster:
        yield cluster


@pytest.mark.parametrize("user", COURSE_USERS)
def test_course_user_details_every_user_authenticates_with_curl(course_server, user):
    # The course's request: curl https://<ip>:6443/api/v1/pods -u "user1:password123".
    # Authenticated but not granted anything, so RBAC refuses the named user (403, not 401).
    result = subprocess.run(
        [
            "curl", "-sS", "--cacert", str(course_server.ca_file),
            "-u", f"{user}:password123", f"{course_server.url}/api/v1/pods",
            "-w", "\n%{http_code}",
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    body, _, code = result.stdout.rpartition("\n")
    assert code == "403", result.stdout
    assert f'User "{user}" cannot list resource "pods"' in json.loads(body)["message"]
    wrong = subprocess.run(
        [
            "curl", "-sS", "--cacert", str(course_server.ca_file),
            "-u", f"{user}:password124", f"{course_server.url}/api/v1/pods",
            "-o", "/dev/null", "-w", "%{http_code}",
        ],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert wrong.stdout == "401"


@pytest.mark.parametrize("user", COURSE_USERS)
def test_course_user_details_every_user_is_itself_to_the_python_client(course_server, user):
    configuration = kubernetes.client.Configuration()
    configuration.host = course_server.url
    configuration.ssl_ca_cert = str(course_server.ca_file)
    credentials = base64.b64encode(f"{user}:password123".encode()).decode()
    configuration.api_key = {"authorization": f"Basic {credentials}"}
    with kubernetes.client.ApiClient(configuration) as api:
        review = kubernetes.client.AuthenticationV1Api(api).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        )
    info = review.status.user_info
    assert (info.username, info.uid) == (user, f"u000{COURSE_USERS.index(user) + 1}")
    assert info.groups == ["system:authenticated"]
