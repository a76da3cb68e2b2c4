"""The csrcleaner controller: deletes requests that are done with, as Kubernetes' csrcleaner.

A request is deleted (with its uid as a precondition, so a new request of the same name is safe):

 1. when it is Approved, Denied or Failed and that condition's ``lastUpdateTime`` is more than
    an hour old;
 2. when it is still pending a day after its ``creationTimestamp``;
 3. when its issued certificate has expired.

Until then the key is looked at again at the earliest of these deadlines.
"""

from __future__ import annotations

import contextlib
import datetime

from cryptography import x509

from kubeward.api import meta as m
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.api.validation import certificates as v
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.errors import Conflict, NotFound

DECIDED_EXPIRATION = datetime.timedelta(hours=1)
PENDING_EXPIRATION = datetime.timedelta(hours=24)


def deadline_of(csr: m.JSONObject) -> datetime.datetime | None:
    """When ``csr`` becomes garbage (rules 1-3); None when that cannot be known."""
    deadlines: list[datetime.datetime] = []
    decided = False
    for cond in (csr.get("status") or {}).get("conditions") or []:
        if not isinstance(cond, dict) or cond.get("type") not in (v.APPROVED, v.DENIED, v.FAILED):
            continue
        decided = True
        stamp = m.parse_time(str(cond.get("lastUpdateTime") or ""))
        if stamp is not None:
            deadlines.append(stamp + DECIDED_EXPIRATION)
    if not decided:
        created = m.parse_time(str(m.metadata(csr).get("creationTimestamp") or ""))
        if created is not None:
            deadlines.append(created + PENDING_EXPIRATION)
    cert = v.certificate_bytes(csr)
    if cert:
        with contextlib.suppress(ValueError):
            deadlines.append(x509.load_pem_x509_certificate(cert).not_valid_after_utc)
    return min(deadlines) if deadlines else None


class CleaningController(Controller):
    name = "csrcleaner"

    def __init__(self, informer: Informer, client: APIClient) -> None:
        super().__init__(informer)
        self.client = client

    async def reconcile(self, key: str) -> float | None:
        csr = self.cached(key)
        if csr is None:
            return None
        deadline = deadline_of(csr)
        if deadline is None:
            return None
        remaining = (deadline - m.now()).total_seconds()
        if remaining > 0:
            return remaining
        with contextlib.suppress(NotFound, Conflict):
            uid = str(m.metadata(csr).get("uid") or "")
            await self.client.delete(CSRS, m.name_of(csr), uid=uid)
        return None
