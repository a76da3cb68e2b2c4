"""Cross-check the protobuf decoder against the real kubectl 1.32.

A tiny HTTPS server (stdlib http.server + ssl, throwaway CA from ``cryptography``) plays the API
server: it answers ``/version`` with minor "32" (so the kubectl dispatcher runs 1.32.4),
aggregated discovery, and records the raw body of every write. The recorded protobuf bodies are
decoded with :func:`decode_protobuf` and compared with

* for ``kubectl create <generator>``: the JSON kubectl itself prints for the same command with
  ``--dry-run=client -o json`` (the same Go object, JSON-encoded by kubectl), and
* for the typed commands (``auth can-i``, ``auth whoami``, ``create token``, ``certificate
  approve``): the fields kubectl must send, and for approve the CSR the server served, which
  travels JSON -> kubectl's Go types -> protobuf -> our decoder and must come back unchanged.

The server never decodes protobuf itself, so nothing here checks the decoder against itself.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeward.api.protobuf import decode_protobuf

PROTOBUF = "application/vnd.kubernetes.protobuf"
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# (group, version, resource, kind, namespaced, subresources)
_RESOURCES: list[tuple[str, str, str, str, bool, tuple[str, ...]]] = [
    ("", "v1", "namespaces", "Namespace", False, ()),
    ("", "v1", "configmaps", "ConfigMap", True, ()),
    ("", "v1", "secrets", "Secret", True, ()),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ("token",)),
    ("", "v1", "pods", "Pod", True, ()),
    ("", "v1", "services", "Service", True, ()),
    ("", "v1", "resourcequotas", "ResourceQuota", True, ()),
    ("apps", "v1", "deployments", "Deployment", True, ()),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, ()),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, ()),
    (
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        (),
    ),
    ("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False, ()),
    ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, ()),
    (
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        False,
        ("approval", "status"),
    ),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True, ()),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ()),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ()),
    ("batch", "v1", "jobs", "Job", True, ()),
    ("batch", "v1", "cronjobs", "CronJob", True, ()),
]
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

_CSR_REQUEST_PEM = (
    b"-----BEGIN CERTIFICATE REQUEST-----\nTUlJQ2V4YW1wbGU=\n-----END CERTIFICATE REQUEST-----\n"
)
_SERVED_CSR: dict[str, Any] = {
    "apiVersion": "certificates.k8s.io/v1",
    "kind": "CertificateSigningRequest",
    "metadata": {
        "name": "csr-x",
        "uid": "0b6a1e2c-3f0e-4a51-9d1b-8c9a5a0c1d2e",
        "resourceVersion": "7",
        "creationTimestamp": "2024-01-02T03:04:05Z",
        "labels": {"team": "a"},
    },
    "spec": {
        "request": base64.b64encode(_CSR_REQUEST_PEM).decode(),
        "signerName": "kubernetes.io/kube-apiserver-client",
        "expirationSeconds": 86400,
        "usages": ["digital signature", "client auth"],
        "username": "jane",
        "groups": ["devs", "system:authenticated"],
        "extra": {"scopes": ["a", "b"]},
    },
    "status": {},
}


@dataclass
class Recorded:
    method: str
    path: str
    content_type: str
    body: bytes


@dataclass
class FakeAPIServer:
    """Just enough of an API server for kubectl to send its write requests."""

    directory: Path
    writes: list[Recorded] = field(default_factory=list)
    reply_name: str = "x"
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        _write_tls_files(self.directory)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.directory / "tls.crt", self.directory / "tls.key")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        (self.directory / "kubeconfig").write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}', "
            f"certificate-authority: '{self.directory / 'ca.crt'}'}}}}]\n"
            "users: [{name: u, user: {token: test-token}}]\n"
            "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\n"
            "current-context: x\n"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        home = self.directory / "home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "KUBECONFIG": str(self.directory / "kubeconfig"),
        }
        return subprocess.run(
            ["kubectl", *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def protobuf_writes(self) -> list[Recorded]:
        return [w for w in self.writes if w.content_type.startswith(PROTOBUF)]


def _write_tls_files(directory: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "protobuf-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _aggregated_discovery(core: bool) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for group, version, resource, kind, namespaced, subresources in _RESOURCES:
        if (group == "") != core:
            continue
        groups.setdefault(group, []).append(
            {
                "resource": resource,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "scope": "Namespaced" if namespaced else "Cluster",
                "singularResource": kind.lower(),
                "verbs": _VERBS,
                "subresources": [
                    {
                        "subresource": sub,
                        "responseKind": {"group": group, "version": version, "kind": kind},
                        "verbs": ["create", "get", "patch", "update"],
                    }
                    for sub in subresources
                ],
            }
        )
    items = [
        {
            "metadata": {} if core else {"name": group},
            "versions": [{"version": "v1", "freshness": "Current", "resources": resources}],
        }
        for group, resources in groups.items()
    ]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }


def _legacy_resource_list(group_version: str) -> dict[str, Any] | None:
    resources = [
        {
            "name": resource,
            "singularName": kind.lower(),
            "namespaced": namespaced,
            "kind": kind,
            "verbs": _VERBS,
        }
        for group, version, resource, kind, namespaced, _ in _RESOURCES
        if (f"{group}/{version}" if group else version) == group_version
    ]
    if not resources:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _write_reply(server: FakeAPIServer, path: str) -> dict[str, Any]:
    if path.endswith("/selfsubjectaccessreviews"):
        return {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {},
            "status": {"allowed": True},
        }
    if path.endswith("/selfsubjectrulesreviews"):
        return {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {},
            "status": {"resourceRules": [], "nonResourceRules": [], "incomplete": False},
        }
    if path.endswith("/selfsubjectreviews"):
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {},
            "status": {"userInfo": {"username": "jane", "groups": ["system:authenticated"]}},
        }
    if path.endswith("/token"):
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {},
            "status": {"token": "issued-token", "expirationTimestamp": "2030-01-01T00:00:00Z"},
        }
    if path.endswith("/approval"):
        return _SERVED_CSR
    for group, version, resource, kind, _, _ in _RESOURCES:
        if f"/{resource}" in path:
            api_version = f"{group}/{version}" if group else version
            return {
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": server.reply_name},
            }
    return {"apiVersion": "v1", "kind": "Status", "status": "Success"}


def _handler_for(server: FakeAPIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(
            self, code: int, obj: dict[str, Any], content_type: str = "application/json"
        ) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.write(body)

        def _not_found(self) -> None:
            self._send(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "reason": "NotFound",
                    "message": "the server could not find the requested resource",
                    "code": 404,
                },
            )

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            accept = self.headers.get("Accept", "")
            if path == "/version":
                self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
            elif path in ("/api", "/apis") and "v=v2;" in accept:
                self._send(200, _aggregated_discovery(core=path == "/api"), AGGREGATED_V2)
            elif path == "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-x":
                self._send(200, _SERVED_CSR)
            elif (
                listing := _legacy_resource_list(path.removeprefix("/api/").removeprefix("/apis/"))
            ) is not None:
                self._send(200, listing)
            else:
                self._not_found()

        def _record_write(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            server.writes.append(
                Recorded(self.command, path, self.headers.get("Content-Type", ""), body)
            )
            self._send(201 if self.command == "POST" else 200, _write_reply(server, path))

        do_POST = _record_write
        do_PUT = _record_write

    return Handler


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAPIServer]:
    server = FakeAPIServer(tmp_path_factory.mktemp("protobuf-kubectl"))
    server.start()
    yield server
    server.stop()


def _drop_nulls(value: Any) -> Any:
    """kubectl's client-side JSON writes ``creationTimestamp: null``; protobuf has no null."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _sent(api: FakeAPIServer, *args: str) -> tuple[Recorded, dict[str, Any]]:
    """Run a kubectl command; return its single protobuf write, decoded."""
    before = len(api.writes)
    result = api.kubectl(*args)
    assert result.returncode == 0, result.stderr
    writes = [w for w in api.writes[before:] if w.content_type.startswith(PROTOBUF)]
    assert len(writes) == 1, [w.path for w in api.writes[before:]]
    return writes[0], decode_protobuf(writes[0].body)


GENERATORS = [
    ("namespace", "x", ["create", "namespace", "x"]),
    ("configmap", "cm", ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"]),
    (
        "secret-generic",
        "s",
        ["create", "secret", "generic", "s", "--from-literal=user=admin", "--type=Opaque"],
    ),
    (
        "secret-docker-registry",
        "reg",
        [
            "create",
            "secret",
            "docker-registry",
            "reg",
            "--docker-server=registry.example",
            "--docker-username=u",
            "--docker-password=p",
            "--docker-email=u@example.com",
        ],
    ),
    ("serviceaccount", "bot", ["create", "serviceaccount", "bot"]),
    (
        "role",
        "r",
        [
            "create",
            "role",
            "r",
            "--verb=get,list",
            "--resource=pods,deployments.apps",
            "--resource-name=web",
        ],
    ),
    (
        "clusterrole-nonresource",
        "logs",
        ["create", "clusterrole", "logs", "--verb=get", "--non-resource-url=/logs/*"],
    ),
    (
        "clusterrole-aggregation",
        "monitoring",
        [
            "create",
            "clusterrole",
            "monitoring",
            "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true",
        ],
    ),
    (
        "rolebinding",
        "rb",
        [
            "create",
            "rolebinding",
            "rb",
            "--role=r",
            "--user=jane",
            "--group=devs",
            "--serviceaccount=default:bot",
        ],
    ),
    (
        "clusterrolebinding",
        "crb",
        ["create", "clusterrolebinding", "crb", "--clusterrole=view", "--user=jane"],
    ),
    (
        "deployment",
        "web",
        ["create", "deployment", "web", "--image=nginx:1.27", "--port=80", "--replicas=2"],
    ),
    ("service", "svc", ["create", "service", "clusterip", "svc", "--tcp=80:8080"]),
    ("quota", "q", ["create", "quota", "q", "--hard=pods=10,cpu=2,memory=1Gi"]),
    (
        "priorityclass",
        "high",
        [
            "create",
            "priorityclass",
            "high",
            "--value=1000",
            "--description=important",
            "--preemption-policy=Never",
        ],
    ),
    (
        "poddisruptionbudget",
        "pdb",
        ["create", "poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=50%"],
    ),
    (
        "ingress",
        "ing",
        [
            "create",
            "ingress",
            "ing",
            "--class=default",
            "--rule=foo.example/bar=svc1:8080,tls=my-cert",
        ],
    ),
    ("job", "pi", ["create", "job", "pi", "--image=perl:5.34"]),
    (
        "cronjob",
        "tick",
        ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"],
    ),
]


@pytest.mark.parametrize(
    ("name", "args"), [(n, a) for _, n, a in GENERATORS], ids=[g[0] for g in GENERATORS]
)
def test_generator_body_decodes_to_kubectls_own_json(
    api: FakeAPIServer, name: str, args: list[str]
) -> None:
    dry_run = api.kubectl(*args, "--dry-run=client", "-o", "json")
    assert dry_run.returncode == 0, dry_run.stderr
    expected = _drop_nulls(json.loads(dry_run.stdout))

    api.reply_name = name
    _, decoded = _sent(api, *args)

    assert decoded == expected


def test_create_configmap_from_binary_file_keeps_bytes(api: FakeAPIServer, tmp_path: Path) -> None:
    blob = bytes(range(256))
    (tmp_path / "blob.bin").write_bytes(blob)
    api.reply_name = "bin"
    _, decoded = _sent(
        api, "create", "configmap", "bin", f"--from-file=blob.bin={tmp_path / 'blob.bin'}"
    )
    assert base64.b64decode(decoded["binaryData"]["blob.bin"]) == blob
    assert "data" not in decoded


def test_create_secret_tls_carries_pem_files(api: FakeAPIServer) -> None:
    cert = api.directory / "tls.crt"
    key = api.directory / "tls.key"
    api.reply_name = "tls"
    _, decoded = _sent(api, "create", "secret", "tls", "tls", f"--cert={cert}", f"--key={key}")
    assert decoded["type"] == "kubernetes.io/tls"
    assert base64.b64decode(decoded["data"]["tls.crt"]) == cert.read_bytes()
    assert base64.b64decode(decoded["data"]["tls.key"]) == key.read_bytes()


def test_auth_can_i_sends_self_subject_access_review(api: FakeAPIServer) -> None:
    write, decoded = _sent(api, "auth", "can-i", "create", "pods")
    assert write.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert decoded["kind"] == "SelfSubjectAccessReview"
    assert decoded["apiVersion"] == "authorization.k8s.io/v1"
    assert decoded["spec"] == {
        "resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}
    }


def test_auth_can_i_non_resource_url(api: FakeAPIServer) -> None:
    _, decoded = _sent(api, "auth", "can-i", "get", "/logs/app")
    assert decoded["spec"] == {"nonResourceAttributes": {"path": "/logs/app", "verb": "get"}}


def test_auth_can_i_subresource_and_group(api: FakeAPIServer) -> None:
    _, decoded = _sent(
        api,
        "auth",
        "can-i",
        "update",
        "deployments.apps/scale",
        "--subresource=scale",
        "-n",
        "team",
    )
    attributes = decoded["spec"]["resourceAttributes"]
    assert attributes["namespace"] == "team"
    assert attributes["group"] == "apps"
    assert attributes["resource"] == "deployments"
    assert attributes["verb"] == "update"


def test_auth_can_i_list_sends_self_subject_rules_review(api: FakeAPIServer) -> None:
    write, decoded = _sent(api, "auth", "can-i", "--list")
    assert write.path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
    assert decoded["kind"] == "SelfSubjectRulesReview"
    assert decoded["spec"] == {"namespace": "default"}


def test_auth_whoami_sends_empty_self_subject_review(api: FakeAPIServer) -> None:
    write, decoded = _sent(api, "auth", "whoami")
    assert write.path == "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    assert decoded == {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "SelfSubjectReview",
        "metadata": {},
        "status": {"userInfo": {}},
    }


def test_create_token_sends_token_request(api: FakeAPIServer) -> None:
    write, decoded = _sent(
        api, "create", "token", "bot", "--duration=1h", "--audience=vault", "--audience=api"
    )
    assert write.path == "/api/v1/namespaces/default/serviceaccounts/bot/token"
    assert decoded["kind"] == "TokenRequest"
    assert decoded["apiVersion"] == "authentication.k8s.io/v1"
    assert decoded["spec"]["expirationSeconds"] == 3600
    assert decoded["spec"]["audiences"] == ["vault", "api"]


def test_certificate_approve_round_trips_the_whole_csr(api: FakeAPIServer) -> None:
    write, decoded = _sent(api, "certificate", "approve", "csr-x")
    assert write.method == "PUT"
    assert write.path == "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-x/approval"

    conditions = decoded["status"].pop("conditions")
    assert decoded == _SERVED_CSR
    assert len(conditions) == 1
    condition = conditions[0]
    assert condition["type"] == "Approved"
    assert condition["status"] == "True"
    assert condition["reason"] == "KubectlApprove"
    assert condition["message"] == "This CSR was approved by kubectl certificate approve."
    sent_at = datetime.datetime.strptime(condition["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert sent_at > datetime.datetime(2024, 1, 2, 3, 4, 5)
