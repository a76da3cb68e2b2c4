"""Several versions of one CustomResourceDefinition, with a real conversion webhook.

The webhook is a real HTTPS server on 127.0.0.1 whose certificate chains to a CA given as the
definition's ``caBundle`` (``clientConfig.url``, upstream's primary path). It renames
``spec.size`` (v1, the first storage version) to ``spec.count`` (v2) and back. The real kubectl
and the official Python client create, read, list and watch at both versions; what is stored,
``status.storedVersions``, the deprecation ``Warning`` and the failures (the webhook refusing,
gone, or not trusted) are checked as upstream words them.
"""

from __future__ import annotations

import base64
import copy
import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubectl_runner import Kubectl

from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile
from kubeward.testing import running_cluster
from kubeward.testing.cluster import Cluster

DAY = datetime.timedelta(days=1)


def schema(field_name: str) -> dict[str, Any]:
    return {
        "openAPIV3Schema": {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {field_name: {"type": "integer"}}}
            },
        }
    }


class ConversionWebhook:
    """A ConversionReview v1 server over HTTPS: v1 ``spec.size`` <-> v2 ``spec.count``."""

    def __init__(self, tmp: Path) -> None:
        self.ca = CertificateAuthority.create("conversion-webhook-ca", DAY)
        key = generate_private_key()
        cert = self.ca.issue(
            key.public_key(),
            build_subject("127.0.0.1"),
            Profile.SERVER,
            DAY,
            alt_names=AltNames(ips=(ipaddress.ip_address("127.0.0.1"),)),
        )
        (tmp / "hook.crt").write_bytes(certificate_pem(cert))
        (tmp / "hook.key").write_bytes(private_key_pem(key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp / "hook.crt", tmp / "hook.key")
        self.refuse = ""
        self.reviews: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = json.dumps(hook.answer(json.loads(body))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/convert"

    @property
    def ca_bundle(self) -> str:
        return base64.b64encode(self.ca.cert_pem).decode()

    def answer(self, review: dict[str, Any]) -> dict[str, Any]:
        self.reviews.append(review)
        request = review["request"]
        response: dict[str, Any] = {"uid": request["uid"]}
        if self.refuse:
            response["result"] = {"status": "Failure", "message": self.refuse}
        else:
            converted = []
            for obj in request["objects"]:
                obj = copy.deepcopy(obj)
                spec = obj.setdefault("spec", {})
                if request["desiredAPIVersion"] == "example.com/v2" and "size" in spec:
                    spec["count"] = spec.pop("size")
                elif request["desiredAPIVersion"] == "example.com/v1" and "count" in spec:
                    spec["size"] = spec.pop("count")
                obj["apiVersion"] = request["desiredAPIVersion"]
                converted.append(obj)
            response["result"] = {"status": "Success"}
            response["convertedObjects"] = converted
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "response": response,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def definition(hook: ConversionWebhook, *, ca_bundle: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "deprecated": True, "schema": schema("size")},
                {"name": "v2", "served": True, "storage": False, "schema": schema("count")},
            ],
            "conversion": {
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"url": hook.url, "caBundle": ca_bundle or hook.ca_bundle},
                    "conversionReviewVersions": ["v1"],
                },
            },
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("crd-versions")
    with running_cluster(data_dir=data_dir, controller_manager=False) as running:
        yield running


@pytest.fixture()
def hook(tmp_path: Path) -> Iterator[ConversionWebhook]:
    server = ConversionWebhook(tmp_path)
    yield server
    server.stop()


def widget(version: str, name: str, **spec: int) -> str:
    return json.dumps(
        {
            "apiVersion": f"example.com/{version}",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": spec,
        }
    )


def get(kubectl: Kubectl, version: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        kubectl.run("get", f"widgets.{version}.example.com", name, "-o", "json").stdout
    )
    return found


def wait_established(kubectl: Kubectl, name: str) -> None:
    kubectl.run("wait", "--for", "condition=established", "--timeout=20s", f"crd/{name}")


def test_objects_are_converted_by_the_webhook_at_every_version(
    cluster: Cluster, hook: ConversionWebhook, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    kubectl.run("create", "-f", "-", input=json.dumps(definition(hook)))
    wait_established(kubectl, "widgets.example.com")
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home2")  # fresh discovery

    created = kubectl.run("create", "--validate=false", "-f", "-", input=widget("v2", "a", count=3))
    assert created.returncode == 0
    assert hook.reviews[0]["request"]["desiredAPIVersion"] == "example.com/v1"  # stored at v1
    at_v2 = get(kubectl, "v2", "a")
    assert (at_v2["apiVersion"], at_v2["spec"]) == ("example.com/v2", {"count": 3})
    at_v1 = kubectl.run("get", "widgets.v1.example.com", "a", "-o", "json")
    assert json.loads(at_v1.stdout)["spec"] == {"size": 3}
    assert "Warning: example.com/v1 Widget is deprecated" in at_v1.stderr
    assert "deprecated" not in kubectl.run("get", "widgets.v2.example.com", "a").stderr
    # Discovery lists v2 first (Kubernetes' version priority): kubectl's default version.
    assert json.loads(kubectl.run("get", "widgets", "a", "-o", "json").stdout)["spec"] == {
        "count": 3
    }
    group = json.loads(kubectl.run("get", "--raw", "/apis/example.com").stdout)
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    assert group["preferredVersion"]["version"] == "v2"
    explained = kubectl.run("explain", "widgets.spec", "--api-version=example.com/v1").stdout
    assert "size" in explained and "count" not in explained
    assert "count" in kubectl.run("explain", "widgets.spec").stdout

    # The storage version moves to v2: storedVersions remembers both.
    crd = json.loads(kubectl.run("get", "crd", "widgets.example.com", "-o", "json").stdout)
    assert crd["status"]["storedVersions"] == ["v1"]
    crd["spec"]["versions"][0]["storage"] = False
    crd["spec"]["versions"][1]["storage"] = True
    kubectl.run("replace", "-f", "-", input=json.dumps(crd))
    crd = json.loads(kubectl.run("get", "crd", "widgets.example.com", "-o", "json").stdout)
    assert crd["status"]["storedVersions"] == ["v1", "v2"]
    deadline = time.monotonic() + 20
    while True:  # once the kinds are served again, a write at v1 is stored at v2
        before = len(hook.reviews)
        kubectl.run("create", "--validate=false", "-f", "-", input=widget("v1", "b", size=5))
        wanted = [r["request"]["desiredAPIVersion"] for r in hook.reviews[before:]]
        if "example.com/v2" in wanted or time.monotonic() > deadline:
            break
        kubectl.run("delete", "widgets.v1.example.com", "b")
        time.sleep(0.1)
    assert "example.com/v2" in wanted
    reviews_before = len(hook.reviews)
    listed = json.loads(kubectl.run("get", "widgets.v1.example.com", "-o", "json").stdout)
    assert {i["metadata"]["name"]: i["spec"] for i in listed["items"]} == {
        "a": {"size": 3},
        "b": {"size": 5},
    }
    assert {i["apiVersion"] for i in listed["items"]} == {"example.com/v1"}
    assert len(hook.reviews) == reviews_before + 1  # one review for the list

    api_client = kubernetes.config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    with api_client:
        custom = kubernetes.client.CustomObjectsApi(api_client)
        events = kubernetes.watch.Watch().stream(
            custom.list_namespaced_custom_object,
            "example.com",
            "v2",
            "default",
            "widgets",
            timeout_seconds=2,
        )
        seen = {e["object"]["metadata"]["name"]: e["object"] for e in events}
    assert {n: (o["apiVersion"], o["spec"]) for n, o in seen.items()} == {
        "a": ("example.com/v2", {"count": 3}),
        "b": ("example.com/v2", {"count": 5}),
    }

    # A refusal by the webhook, then a webhook that is gone: 500s worded as upstream.
    hook.refuse = "cannot convert today"
    refused = kubectl.run("get", "widgets.v2.example.com", "a", check=False)
    assert refused.returncode != 0
    assert (
        "Error from server: conversion webhook for example.com/v1, Kind=Widget failed: "
        "cannot convert today"
    ) in refused.stderr
    hook.stop()
    gone = kubectl.run("get", "widgets.v2.example.com", "a", check=False)
    assert (
        "Error from server: conversion webhook for example.com/v1, Kind=Widget failed: "
        f'Post "{hook.url}?timeout=30s": dial tcp 127.0.0.1:{hook.port}: connect: connection refused'
    ) in gone.stderr


def test_a_webhook_not_signed_by_the_ca_bundle_is_not_trusted(
    cluster: Cluster, hook: ConversionWebhook, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    other_ca = CertificateAuthority.create("someone-else", DAY)
    crd = definition(hook, ca_bundle=base64.b64encode(other_ca.cert_pem).decode())
    crd["metadata"]["name"] = "gizmos.example.org"
    crd["spec"]["group"] = "example.org"
    crd["spec"]["names"] = {"plural": "gizmos", "kind": "Gizmo"}
    kubectl.run("create", "-f", "-", input=json.dumps(crd))
    wait_established(kubectl, "gizmos.example.org")
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home2")
    obj = json.dumps(
        {"apiVersion": "example.org/v2", "kind": "Gizmo", "metadata": {"name": "g"}, "spec": {}}
    )
    refused = kubectl.run(
        "create", "--validate=false", "-n", "default", "-f", "-", input=obj, check=False
    )
    assert refused.returncode != 0
    assert (
        'Error from server: error when creating "STDIN": conversion webhook for example.org/v2, '
        f'Kind=Gizmo failed: Post "https://127.0.0.1:{hook.port}/convert?timeout=30s": tls: '
        "failed to verify certificate: x509: certificate signed by unknown authority"
    ) in refused.stderr
    assert hook.reviews == []
    # Nothing was stored.
    listed = kubectl.run("get", "gizmos.v1.example.org", "-n", "default", "-o", "name")
    assert listed.stdout.strip() == ""


def test_an_invalid_conversion_is_refused_with_upstreams_words(
    cluster: Cluster, hook: ConversionWebhook, tmp_path: Path
) -> None:
    kubectl = Kubectl(cluster.admin_kubeconfig, tmp_path / "home")
    crd = definition(hook)
    crd["metadata"]["name"] = "doodads.example.net"
    crd["spec"]["group"] = "example.net"
    crd["spec"]["names"] = {"plural": "doodads", "kind": "Doodad"}
    crd["spec"]["conversion"]["webhook"]["clientConfig"] = {"url": "http://127.0.0.1/convert"}
    crd["spec"]["conversion"]["webhook"]["conversionReviewVersions"] = ["v3"]
    refused = kubectl.run("create", "-f", "-", input=json.dumps(crd), check=False)
    assert refused.returncode != 0
    assert (
        "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only "
        "allowed URL scheme; desired format: https://host[/path]"
    ) in refused.stderr
    assert (
        'spec.conversion.conversionReviewVersions: Invalid value: []string{"v3"}: must include '
        "at least one of v1, v1beta1"
    ) in refused.stderr or "must include at least one of v1, v1beta1" in refused.stderr
