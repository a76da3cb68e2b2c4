"""Service-account token verification, next to the raw signature check of the same key.

For an ES256 (P-256) key and an RS256 (RSA-2048) key, in one run:

* baseline: raw signature verifications per second with ``cryptography`` on the token's own
  signing input (what no authenticator can beat);
* cold: ``ServiceAccountAuthenticator.authenticate_token`` on tokens it has not seen (header
  and payload parsing, allow-list, key lookup, signature, claims, existence checks);
* cached: the same token again (signature cache hit; claims and existence checks still run);
* the latency the authenticator adds to one request, through the server's union, cold and
  cached, in microseconds.

Usage: ``python benchmarks/tokens.py [--quick]``.
"""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from kubeward.authn.interfaces import AuthRequest
from kubeward.authn.serviceaccount import ServiceAccountAuthenticator
from kubeward.authn.serviceaccount_keys import KeySet
from kubeward.authn.serviceaccount_tokens import BoundObject, ObjectRef, TokenIssuer
from kubeward.authn.union import UnionAuthenticator

ISSUER = "https://kubernetes.default.svc.cluster.local"


class Lookup:
    def __init__(self) -> None:
        self.objects = {
            ("serviceaccounts", "default", "bot"): {"metadata": {"uid": "sa-uid"}},
            ("pods", "default", "web"): {"metadata": {"uid": "pod-uid"}},
        }

    def get(self, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get((resource, namespace, name))


def rate(function: Callable[[int], object], count: int) -> tuple[float, float]:
    """Calls per second and microseconds per call of ``function(i)`` for i in range(count)."""
    start = time.perf_counter()
    for i in range(count):
        function(i)
    elapsed = time.perf_counter() - start
    return count / elapsed, elapsed / count * 1e6


def raw_verifier(key: Any, token: str) -> Callable[[int], object]:
    signing_input, _, signature_b64 = token.rpartition(".")
    signature = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    data = signing_input.encode()
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return lambda _: public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    half = len(signature) // 2
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
    return lambda _: public.verify(der, data, ec.ECDSA(hashes.SHA256()))


def measure(name: str, key: Any, count: int) -> None:
    issuer = TokenIssuer(ISSUER, key)
    authenticator = ServiceAccountAuthenticator(
        issuers=[ISSUER], keys=KeySet([key.public_key()]), api_audiences=[ISSUER], lookup=Lookup()
    )
    union = UnionAuthenticator([], [authenticator])

    def issue() -> str:
        return issuer.issue(
            namespace="default",
            service_account=ObjectRef("bot", "sa-uid"),
            audiences=(ISSUER,),
            expiration_seconds=3600,
            bound=BoundObject("Pod", ObjectRef("web", "pod-uid")),
        ).token

    fresh = [issue() for _ in range(count)]
    fresh_requests = [
        AuthRequest(headers={"Authorization": f"Bearer {issue()}"}) for _ in range(count)
    ]
    token = fresh[0]
    baseline, _ = rate(raw_verifier(key, token), count)
    cold, _ = rate(lambda i: authenticator.authenticate_token(fresh[i]), count)
    authenticator.authenticate_token(token)
    cached, _ = rate(lambda i: authenticator.authenticate_token(token), count)
    _, cold_latency = rate(lambda i: union.authenticate(fresh_requests[i]), count)
    cached_request = AuthRequest(headers={"Authorization": f"Bearer {token}"})
    _, cached_latency = rate(lambda i: union.authenticate(cached_request), count)
    print(f"{name}:")
    print(f"  raw signature verification (baseline) {baseline:10.0f}/s")
    print(
        f"  authenticator, cold                   {cold:10.0f}/s   ratio to baseline {cold / baseline:5.2f}"
    )
    print(
        f"  authenticator, cached                 {cached:10.0f}/s   ratio to baseline {cached / baseline:5.2f}"
    )
    print(f"  added request latency, cold           {cold_latency:10.1f} us")
    print(f"  added request latency, cached         {cached_latency:10.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    count = 500 if args.quick else 3000
    measure("ES256 (ECDSA P-256)", ec.generate_private_key(ec.SECP256R1()), count)
    measure(
        "RS256 (RSA 2048)", rsa.generate_private_key(public_exponent=65537, key_size=2048), count
    )


if __name__ == "__main__":
    main()
