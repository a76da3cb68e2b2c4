"""The csrsigning controller: issues certificates for approved requests to built-in signers.

Rules:

 1. Only requests that are Approved, not Denied, not Failed and without a certificate, for a
    signer in ``signers.BUILT_IN_SIGNERS``, are considered; everything else is left alone.
 2. A request that breaks its signer's constraints (``controllers.signers``) gets a ``Failed``
    condition, reason ``SignerValidationFailure``, whose message says why; it is never signed.
 3. The certificate lives for ``spec.expirationSeconds`` when set, capped by
    ``--cluster-signing-duration`` (and by the CA's own expiry).
 4. A request is signed at most once: the status write is conditional on the resourceVersion
    that was read, the API server refuses to replace an issued certificate, and requests this
    process has signed are remembered by uid so a stale cache entry is not signed again.
 5. A request whose usages name no keyUsage bit (``[client auth]``, as most examples have it)
    gets ``digital signature``, the bit TLS authentication uses, so that the certificate states
    its key usage explicitly (Kubernetes would issue it with no keyUsage extension at all).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
from dataclasses import dataclass

from kubeward.api import meta as m
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.api.validation import certificates as v
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.controllers.signers import BUILT_IN_SIGNERS, signer_problem
from kubeward.errors import InputError
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.profiles import CertificateUsages

DEFAULT_DURATION = datetime.timedelta(hours=8760)
FAILURE_REASON = "SignerValidationFailure"


@dataclass(frozen=True)
class SigningConfig:
    ca: CertificateAuthority
    duration: datetime.timedelta = DEFAULT_DURATION
    allow_system_masters: bool = False


def needs_signing(csr: m.JSONObject) -> bool:
    """Rule 1."""
    return (
        v.has_condition(csr, v.APPROVED)
        and not v.has_condition(csr, v.DENIED)
        and not v.has_condition(csr, v.FAILED)
        and not v.certificate_bytes(csr)
        and (csr.get("spec") or {}).get("signerName") in BUILT_IN_SIGNERS
    )


def validity_of(csr: m.JSONObject, cap: datetime.timedelta) -> datetime.timedelta:
    """Rule 3."""
    seconds = (csr.get("spec") or {}).get("expirationSeconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return min(cap, datetime.timedelta(seconds=seconds))
    return cap


def certificate_usages(words: list[str]) -> CertificateUsages:
    """The usages to issue (rule 5): ``digital signature`` when no keyUsage bit was asked for."""
    usages = CertificateUsages.from_kubernetes(words)
    if not usages.key_usage:
        usages = dataclasses.replace(usages, key_usage=frozenset({"digital_signature"}))
    return usages


class SigningController(Controller):
    name = "csrsigning"

    def __init__(self, informer: Informer, client: APIClient, config: SigningConfig) -> None:
        super().__init__(informer)
        self.client = client
        self.config = config
        self.signed_uids: set[str] = set()

    async def reconcile(self, key: str) -> float | None:
        csr = self.cached(key)
        if csr is None or not needs_signing(csr):
            return None
        uid = str(m.metadata(csr).get("uid") or "")
        if uid in self.signed_uids:
            return None
        spec = csr.get("spec") or {}
        usages = [str(u) for u in spec.get("usages") or []]
        try:
            request = v.parse_request(csr)
        except ValueError as exc:
            await self._fail(csr, f"the request does not parse: {exc}")
            return None
        problem = signer_problem(
            str(spec.get("signerName")),
            request,
            usages,
            allow_system_masters=self.config.allow_system_masters,
        )
        if problem:
            await self._fail(csr, problem)
            return None
        try:
            cert = self.config.ca.sign_csr(
                request,
                certificate_usages(usages),
                validity_of(csr, self.config.duration),
                source=f'certificatesigningrequest "{m.name_of(csr)}"',
            )
        except InputError as exc:
            await self._fail(csr, str(exc))
            return None
        updated = copy.deepcopy(csr)
        updated.setdefault("status", {})["certificate"] = base64.b64encode(
            certificate_pem(cert)
        ).decode("ascii")
        await self.client.update(CSRS, updated, subresource="status")
        self.signed_uids.add(uid)
        return None

    async def _fail(self, csr: m.JSONObject, message: str) -> None:
        """Rule 2."""
        updated = copy.deepcopy(csr)
        conditions = updated.setdefault("status", {}).setdefault("conditions", [])
        now = m.format_time(m.now())
        conditions.append(
            {
                "type": v.FAILED,
                "status": "True",
                "reason": FAILURE_REASON,
                "message": message,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }
        )
        await self.client.update(CSRS, updated, subresource="status")
