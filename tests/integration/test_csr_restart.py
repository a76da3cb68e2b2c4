"""The controller-manager survives an API server restart and keeps signing, exactly once."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.client import APIClient
from kubeward.controllers.local import run_local_controller_manager
from kubeward.server.wiring import builder
from kubeward.server.wiring.local import local_config
from kubeward.testing.cluster import free_port

pytestmark = pytest.mark.timeout(120)


def csr_doc(name: str) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    pem = request.public_bytes(serialization.Encoding.PEM)
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(pem).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    }


async def approve_and_wait(admin_kubeconfig: Path, name: str) -> dict[str, Any]:
    async with APIClient.from_kubeconfig(admin_kubeconfig) as admin:
        await admin.create(CSRS, csr_doc(name))
        csr = await admin.get(CSRS, name)
        csr.setdefault("status", {})["conditions"] = [
            {"type": "Approved", "status": "True", "reason": "Test", "message": "test"}
        ]
        await admin.update(CSRS, csr, subresource="approval")
        for _ in range(600):
            csr = await admin.get(CSRS, name)
            if (csr.get("status") or {}).get("certificate"):
                return csr
            await asyncio.sleep(0.05)
    raise AssertionError(f"{name} was not signed")


def test_signing_continues_after_a_restart(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, str, int]:
        config, admin = local_config(tmp_path, free_port())
        running = await builder.start_server(config)
        manager = asyncio.create_task(run_local_controller_manager(tmp_path.resolve()))
        try:
            before = await approve_and_wait(admin, "before-restart")
            await running.stop()
            await asyncio.sleep(0.5)
            running = await builder.start_server(config)
            after = await approve_and_wait(admin, "after-restart")
            # A resync or a relist must not sign (or touch) an issued request again.
            await asyncio.sleep(0.5)
            async with APIClient.from_kubeconfig(admin) as client:
                again = await client.get(CSRS, "before-restart")
            return (
                before["status"]["certificate"],
                again["status"]["certificate"],
                len(after["status"]["certificate"]),
            )
        finally:
            manager.cancel()
            await asyncio.gather(manager, return_exceptions=True)
            await running.stop()

    first, still, after_length = asyncio.run(scenario())
    assert first == still
    assert after_length > 0
