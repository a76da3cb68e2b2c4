"""The real kubectl 1.32 against kubeward's OpenAPI v3 documents and unknown-field checks.

A tiny HTTPS server (stdlib http.server over a throwaway CA) serves /version, aggregated
discovery for pods and roles, and the /openapi/v3 documents built by kubeward.api.openapi; its
namespaced collections answer creates with kubeward's Strict/Warn verdicts. kubectl's cache lives in a
temporary HOME so every run sees these documents and nothing else.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeward.api.openapi import (
    OpenAPIResource,
    parse_group_version_path,
    root_document,
    served_document,
    strict_decoding_error,
    unknown_field_warnings,
    unknown_fields,
)

KUBECTL = "/usr/bin/kubectl"
TOKEN = "openapi-test-token"
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# group, version -> the resources this fake serves.
SERVED: dict[tuple[str, str], tuple[OpenAPIResource, ...]] = {
    ("", "v1"): (
        OpenAPIResource("Pod", "pods", True, ALL_VERBS, ("status", "binding")),
        OpenAPIResource("Namespace", "namespaces", False, ALL_VERBS, ("status",)),
    ),
    ("rbac.authorization.k8s.io", "v1"): (
        OpenAPIResource("Role", "roles", True, ALL_VERBS),
        OpenAPIResource("ClusterRole", "clusterroles", False, ALL_VERBS),
    ),
}


@dataclass
class Recorded:
    """Requests the fake server saw: (method, path, query)."""

    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, query: dict[str, list[str]]) -> None:
        with self.lock:
            self.requests.append((method, path, query))

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def matching(self, method: str, path: str) -> list[dict[str, list[str]]]:
        with self.lock:
            return [q for m, p, q in self.requests if m == method and p == path]


def _discovery_resource(group: str, version: str, res: OpenAPIResource) -> dict[str, Any]:
    return {
        "resource": res.resource,
        "responseKind": {"group": group, "version": version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.kind.lower(),
        "verbs": list(res.verbs),
    }


def _discovery(core: bool) -> dict[str, Any]:
    items = []
    for (group, version), resources in SERVED.items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group} if group else {},
                "versions": [
                    {
                        "version": version,
                        "freshness": "Current",
                        "resources": [_discovery_resource(group, version, r) for r in resources],
                    }
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }


def _collection(path: str) -> tuple[str, str, str] | None:
    """(group, version, kind) of a namespaced collection path such as /api/v1/namespaces/x/pods."""
    match = re.fullmatch(
        r"/(?:api|apis/(?P<group>[^/]+))/(?P<version>[^/]+)/namespaces/[^/]+/"
        r"(?P<resource>[^/]+)",
        path,
    )
    if match is None:
        return None
    group, version = match["group"] or "", match["version"]
    for resource in SERVED.get((group, version), ()):
        if resource.resource == match["resource"] and resource.namespaced:
            return group, version, resource.kind
    return None


def _make_handler(recorded: Recorded) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self,
            code: int,
            body: Any,
            content_type: str = "application/json",
            warnings: list[str] | None = None,
        ) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache, private")
            for text in warnings or []:
                self.send_header("Warning", f"299 - {json.dumps(text)}")
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                return True
            self._send(
                401,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "Unauthorized",
                    "code": 401,
                },
            )
            return False

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            recorded.add("GET", url.path, parse_qs(url.query))
            if not self._authorized():
                return
            if url.path == "/version":
                self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
            elif url.path in ("/api", "/apis"):
                if "v=v2;" in self.headers.get("Accept", "") + ";":
                    self._send(200, _discovery(url.path == "/api"), AGGREGATED_V2)
                else:
                    self._send(406, {"kind": "Status", "code": 406})
            elif url.path == "/openapi/v3":
                built = [served_document(g, v, r) for (g, v), r in SERVED.items()]
                self._send(200, root_document(built))
            elif url.path.startswith("/openapi/v3/"):
                gv = parse_group_version_path(url.path.removeprefix("/openapi/v3/"))
                if gv is None or gv not in SERVED:
                    self._send(404, {"kind": "Status", "code": 404})
                    return
                served = served_document(gv[0], gv[1], SERVED[gv])
                self._send(200, served.body)
            else:
                self._send(
                    404,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                    },
                )

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            recorded.add("POST", url.path, query)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self._authorized():
                return
            target = _collection(url.path)
            if target is None:
                self._send(404, {"kind": "Status", "code": 404})
                return
            group, version, kind = target
            unknown = unknown_fields(body, group, version, kind)
            directive = query.get("fieldValidation", ["Strict"])[0]
            if unknown and directive == "Strict":
                error = strict_decoding_error(unknown, kind=kind, version=version)
                self._send(error.code, error.to_status())
                return
            warnings = unknown_field_warnings(unknown) if directive == "Warn" else []
            body.setdefault("metadata", {})["uid"] = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
            self._send(201, body, warnings=warnings)

    return Handler


def _write_pki(directory: Path) -> tuple[Path, Path, Path]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openapi-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
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
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = (
        directory / "ca.crt",
        directory / "tls.crt",
        directory / "tls.key",
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """kubectl may drop a keep-alive connection mid-handshake; that is not a failure."""


@dataclass
class FakeServer:
    recorded: Recorded
    home: Path
    kubeconfig: Path
    workdir: Path

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.workdir,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServer]:
    base = tmp_path_factory.mktemp("openapi-kubectl")
    ca_path, cert_path, key_path = _write_pki(base)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    recorded = Recorded()
    httpd = _QuietServer(("127.0.0.1", 0), _make_handler(recorded))
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    kubeconfig = base / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {
                            "server": f"https://127.0.0.1:{httpd.server_address[1]}",
                            "certificate-authority": str(ca_path),
                        },
                    }
                ],
                "users": [{"name": "tester", "user": {"token": TOKEN}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "tester", "namespace": "default"},
                    }
                ],
                "current-context": "fake",
            }
        )
    )
    home = base / "home"
    home.mkdir()
    try:
        yield FakeServer(recorded, home, kubeconfig, base)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "Always"}]},
}
TYPO_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "typo"},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolcy": "Always"}]},
}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            "pod.spec.containers",
            [
                r"KIND:\s+Pod",
                r"FIELD: containers <\[\]Container>",
                r"\n  image\t<string>",
                r"\n  imagePullPolicy\t<string>",
                r"\n  name\t<string> -required-",
                r"\n  ports\t<\[\]ContainerPort>",
                r"\n  resources\t<ResourceRequirements>",
            ],
        ),
        (
            "role.rules",
            [
                r"GROUP:\s+rbac.authorization.k8s.io",
                r"KIND:\s+Role",
                r"FIELD: rules <\[\]PolicyRule>",
                r"\n  apiGroups\t<\[\]string>",
                r"\n  verbs\t<\[\]string> -required-",
                r"\n  resourceNames\t<\[\]string>",
            ],
        ),
        (
            "pod.spec.containers.livenessProbe.httpGet.port",
            [r"FIELD: port <IntOrString>"],
        ),
        (
            "pod.spec.containers.resources.limits",
            [r"FIELD: limits <map\[string\]Quantity>"],
        ),
    ],
    ids=["pod-containers", "role-rules", "int-or-string", "quantity-map"],
)
def test_explain_prints_fields_and_types(
    server: FakeServer, target: str, expected: list[str]
) -> None:
    result = server.kubectl("explain", target)
    assert result.returncode == 0, result.stderr
    for pattern in expected:
        assert re.search(pattern, result.stdout), f"{pattern!r} not in:\n{result.stdout}"


def test_explain_unknown_field_is_refused(server: FakeServer) -> None:
    result = server.kubectl("explain", "pod.spec.imagePullPolcy")
    assert result.returncode != 0
    assert 'field "imagePullPolcy" does not exist' in result.stderr


def _write(server: FakeServer, name: str, obj: dict[str, Any]) -> str:
    (server.workdir / name).write_text(yaml.safe_dump(obj))
    return name


def test_create_skips_client_validation_and_sends_strict(server: FakeServer) -> None:
    server.recorded.clear()
    result = server.kubectl("create", "-f", _write(server, "pod.yaml", POD))
    assert result.returncode == 0, result.stderr
    assert "pod/web created" in result.stdout
    posts = server.recorded.matching("POST", "/api/v1/namespaces/default/pods")
    assert [q.get("fieldValidation") for q in posts] == [["Strict"]]
    gv_fetches = server.recorded.matching("GET", "/openapi/v3/api/v1")
    assert gv_fetches, "kubectl did not fetch the core/v1 document"
    expected_hash = served_document("", "v1", SERVED[("", "v1")]).hash
    assert all(q.get("hash") == [expected_hash] for q in gv_fetches)
    assert server.recorded.matching("GET", "/openapi/v2") == []


ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "reader"},
    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
}
TYPO_ROLE = {**ROLE, "rules": [{"apiGroups": [""], "resources": ["pods"], "verb": ["get"]}]}


def test_create_role_sends_strict_to_the_rbac_group(server: FakeServer) -> None:
    server.recorded.clear()
    result = server.kubectl("create", "-f", _write(server, "role.yaml", ROLE))
    assert result.returncode == 0, result.stderr
    assert "role.rbac.authorization.k8s.io/reader created" in result.stdout
    posts = server.recorded.matching(
        "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
    )
    assert [q.get("fieldValidation") for q in posts] == [["Strict"]]
    assert server.recorded.matching("GET", "/openapi/v2") == []


@pytest.mark.parametrize(
    ("filename", "obj", "message"),
    [
        (
            "typo.yaml",
            TYPO_POD,
            'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
            'unknown field "spec.containers[0].imagePullPolcy"',
        ),
        (
            "typo-role.yaml",
            TYPO_ROLE,
            'Role in version "v1" cannot be handled as a Role: strict decoding error: '
            'unknown field "rules[0].verb"',
        ),
    ],
    ids=["pod", "role"],
)
def test_create_with_unknown_field_prints_strict_decoding_error(
    server: FakeServer, filename: str, obj: dict[str, Any], message: str
) -> None:
    result = server.kubectl("create", "-f", _write(server, filename, obj))
    assert result.returncode == 1
    expected = f'Error from server (BadRequest): error when creating "{filename}": {message}'
    assert expected in result.stderr


def test_create_with_validate_warn_prints_server_warning(server: FakeServer) -> None:
    server.recorded.clear()
    result = server.kubectl("create", "--validate=warn", "-f", _write(server, "w.yaml", TYPO_POD))
    assert result.returncode == 0, result.stderr
    assert 'Warning: unknown field "spec.containers[0].imagePullPolcy"' in result.stderr
    posts = server.recorded.matching("POST", "/api/v1/namespaces/default/pods")
    assert [q.get("fieldValidation") for q in posts] == [["Warn"]]
