"""kubeward.client.APIClient against a real server: verbs, watch, and errors as kubeward's."""

from __future__ import annotations

import asyncio
import base64
import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.api.resources.core import NAMESPACES
from kubeward.client import APIClient, ServerUnreachable, TLSFailure
from kubeward.errors import AlreadyExists, Forbidden, Invalid, NotFound
from kubeward.kubeconfig.build import client_certificate_kubeconfig, write_kubeconfig
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.testing.cluster import Cluster, free_port

pytestmark = pytest.mark.timeout(120)


def request_b64(cn: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    pem = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return base64.b64encode(pem.public_bytes(serialization.Encoding.PEM)).decode()


def csr_doc(name: str, **spec: Any) -> dict[str, Any]:
    body = {
        "request": request_b64(name),
        "signerName": "example.com/custom",
        "usages": ["client auth"],
        **spec,
    }
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": body,
    }


def test_verbs_and_watch(cluster: Cluster) -> None:
    async def scenario() -> tuple[str, str, list[str]]:
        async with APIClient.from_kubeconfig(cluster.admin_kubeconfig) as client:
            listed = await client.list(CSRS)
            created = await client.create(CSRS, csr_doc("client-a"))
            await client.patch(CSRS, "client-a", {"metadata": {"labels": {"team": "x"}}})
            events: list[str] = []
            rv = str(listed["metadata"]["resourceVersion"])
            async for event in client.watch(CSRS, resource_version=rv, timeout_seconds=5):
                events.append(f"{event.type} {event.object['metadata']['name']}")
                if len(events) == 2:
                    break
            fetched = await client.get(CSRS, "client-a")
            await client.delete(CSRS, "client-a")
            return created["spec"]["username"], fetched["metadata"]["labels"]["team"], events

    username, team, events = asyncio.run(scenario())
    assert username == "kubernetes-admin"
    assert team == "x"
    assert events == ["ADDED client-a", "MODIFIED client-a"]


def test_errors_are_kubewards(cluster: Cluster) -> None:
    async def scenario() -> list[BaseException]:
        nobody = APIClient.from_kubeconfig(cluster.kubeconfig_for("nobody-client"))
        found: list[BaseException] = []
        async with APIClient.from_kubeconfig(cluster.admin_kubeconfig) as admin, nobody:
            for call in (
                admin.get(CSRS, "missing"),
                admin.create(CSRS, csr_doc("short", expirationSeconds=5)),
                nobody.list(NAMESPACES),
            ):
                try:
                    await call
                except Exception as exc:
                    found.append(exc)
            await admin.create(CSRS, csr_doc("twice"))
            try:
                await admin.create(CSRS, csr_doc("twice"))
            except AlreadyExists as exc:
                found.append(exc)
            await admin.delete(CSRS, "twice")
        return found

    missing, invalid, forbidden, exists = asyncio.run(scenario())
    assert isinstance(missing, NotFound)
    assert isinstance(invalid, Invalid)
    assert invalid.details is not None
    assert [c.field for c in invalid.details.causes] == ["spec.expirationSeconds"]
    assert isinstance(forbidden, Forbidden) and "nobody-client" in forbidden.message
    assert isinstance(exists, AlreadyExists)


def test_unreachable_and_untrusted_servers(cluster: Cluster, tmp_path: Path) -> None:
    other_ca = CertificateAuthority.create(
        "not-the-cluster-ca", datetime.timedelta(days=1), algorithm="ecdsa-p256"
    )
    key = generate_private_key("ecdsa-p256")
    cert = other_ca.issue_client_certificate(key.public_key(), "x", [], datetime.timedelta(hours=1))

    def kubeconfig(name: str, server: str, ca_pem: bytes) -> Path:
        doc = client_certificate_kubeconfig(
            cluster_name="c",
            server=server,
            ca_pem=ca_pem,
            user_name="x",
            cert_pem=certificate_pem(cert),
            key_pem=private_key_pem(key),
        )
        path = tmp_path / name
        write_kubeconfig(path, doc, overwrite=True)
        return path

    untrusted = kubeconfig("untrusted.conf", cluster.url, other_ca.cert_pem)
    closed = kubeconfig(
        "closed.conf", f"https://127.0.0.1:{free_port()}", cluster.ca_file.read_bytes()
    )

    async def attempt(path: Path) -> BaseException:
        async with APIClient.from_kubeconfig(path) as client:
            try:
                await client.list(CSRS)
            except Exception as exc:
                return exc
        raise AssertionError("the call succeeded")

    tls = asyncio.run(attempt(untrusted))
    refused = asyncio.run(attempt(closed))
    assert isinstance(tls, TLSFailure) and cluster.url in tls.message
    assert isinstance(refused, ServerUnreachable)
