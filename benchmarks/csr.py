"""Approved-to-signed latency and CSRs signed per second, next to the raw signing rate.

Starts a real cluster (``kubeward.testing.running_cluster``, whose in-process controller-manager
signs over HTTPS as ``system:kube-controller-manager``), creates N CertificateSigningRequests with
RSA-2048 keys and N with ECDSA P-256 keys, approves each through ``/approval`` as the admin, and
measures, from a watch, when each certificate appears. The baseline is the cluster CA signing the
same requests directly in this process (``CertificateAuthority.sign_csr``), measured in the same
run. The ratio says what the API round trips, the watch and the controller cost per certificate.

    python benchmarks/csr.py [N]
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.client.api import APIClient
from kubeward.pki.ca import CertificateAuthority
from kubeward.pki.profiles import CertificateUsages
from kubeward.testing import running_cluster


def make_requests(kind: str, count: int) -> list[x509.CertificateSigningRequest]:
    out = []
    for i in range(count):
        key: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind == "rsa-2048"
            else ec.generate_private_key(ec.SECP256R1())
        )
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, f"bench-{kind}-{i}"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bench"),
            ]
        )
        out.append(
            x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
        )
    return out


def raw_rate(ca: CertificateAuthority, requests: list[x509.CertificateSigningRequest]) -> float:
    usages = CertificateUsages.from_kubernetes(["digital signature", "client auth"])
    start = time.perf_counter()
    for request in requests:
        ca.sign_csr(request, usages, datetime.timedelta(hours=1))
    return len(requests) / (time.perf_counter() - start)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def through_the_api(
    admin_kubeconfig: Path, kind: str, requests: list[x509.CertificateSigningRequest]
) -> tuple[list[float], float]:
    names = [f"bench-{kind}-{i}" for i in range(len(requests))]
    approved_at: dict[str, float] = {}
    signed_at: dict[str, float] = {}
    async with APIClient.from_kubeconfig(admin_kubeconfig) as client:
        for name, request in zip(names, requests, strict=True):
            pem = request.public_bytes(serialization.Encoding.PEM)
            await client.create(
                CSRS,
                {
                    "apiVersion": "certificates.k8s.io/v1",
                    "kind": "CertificateSigningRequest",
                    "metadata": {"name": name},
                    "spec": {
                        "request": base64.b64encode(pem).decode(),
                        "signerName": "kubernetes.io/kube-apiserver-client",
                        "usages": ["digital signature", "client auth"],
                    },
                },
            )
        listed = await client.list(CSRS)
        done = asyncio.Event()

        async def watch() -> None:
            rv = str(listed["metadata"]["resourceVersion"])
            async for event in client.watch(CSRS, resource_version=rv, timeout_seconds=600):
                name = str(event.object.get("metadata", {}).get("name", ""))
                issued = bool((event.object.get("status") or {}).get("certificate"))
                if issued and name in approved_at and name not in signed_at:
                    signed_at[name] = time.perf_counter()
                    if len(signed_at) == len(names):
                        done.set()
                        return

        watcher = asyncio.create_task(watch())
        for name in names:
            csr = await client.get(CSRS, name)
            csr.setdefault("status", {}).setdefault("conditions", []).append(
                {"type": "Approved", "status": "True", "reason": "Bench", "message": "bench"}
            )
            approved_at[name] = time.perf_counter()
            await client.update(CSRS, csr, subresource="approval")
        await asyncio.wait_for(done.wait(), 300)
        watcher.cancel()
        for name in names:
            await client.delete(CSRS, name)
    latencies = [signed_at[n] - approved_at[n] for n in names]
    elapsed = max(signed_at.values()) - min(approved_at.values())
    return latencies, len(names) / elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with (
        tempfile.TemporaryDirectory(prefix="kubeward-bench-") as tmp,
        running_cluster(data_dir=Path(tmp)) as cluster,
    ):
        ca = CertificateAuthority.from_dir(cluster.data_dir / "pki")
        print(f"cluster CA key: {type(ca.key).__name__}; {count} CSRs per key type")
        print(
            f"{'keys':<10} {'raw signs/s':>12} {'API signs/s':>12} {'ratio':>7} "
            f"{'p50 ms':>8} {'p99 ms':>8}"
        )
        for kind in ("rsa-2048", "ecdsa-p256"):
            requests = make_requests(kind, count)
            raw = raw_rate(ca, requests)
            latencies, api_rate = asyncio.run(
                through_the_api(cluster.admin_kubeconfig, kind, requests)
            )
            print(
                f"{kind:<10} {raw:>12.0f} {api_rate:>12.1f} {api_rate / raw:>7.3f} "
                f"{statistics.median(latencies) * 1000:>8.1f} "
                f"{percentile(latencies, 99) * 1000:>8.1f}"
            )


if __name__ == "__main__":
    main()
