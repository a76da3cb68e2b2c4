"""Waiting for a CertificateSigningRequest's certificate, as client-go's ``WaitForCertificate``.

The request is followed through an informer (a list and a watch of this one name) rather than
asked for again and again. A Denied or Failed condition ends the wait with its reason; so does
the timeout, leaving the request in place for an administrator. Used by ``kubeward config
new-user --via-csr`` and by node agents bootstrapping their credentials.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS as CSRS
from kubeward.client.api import APIClient
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource
from kubeward.errors import InputError, StatusError


def condition_of(csr: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (csr.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status", "True") == "True":
            return dict(condition)
    return None


async def wait_for_certificate(client: APIClient, name: str, timeout: float) -> bytes:
    """The PEM certificate issued for the CertificateSigningRequest ``name``.

    Raises:
        InputError: the request was Denied or Failed (with its reason), or no certificate came
            within ``timeout`` seconds (the request is left for an administrator).
        StatusError: the caller may not read the request, or the server cannot be reached.
    """
    outcome: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def look(csr: dict[str, Any]) -> None:
        if outcome.done():
            return
        for bad in ("Denied", "Failed"):
            found = condition_of(csr, bad)
            if found is not None:
                outcome.set_exception(
                    InputError(
                        f"certificatesigningrequest {name}: {bad}: {found.get('reason', '')} {found.get('message', '')}".strip()
                    )
                )
                return
        certificate = (csr.get("status") or {}).get("certificate")
        if certificate:
            outcome.set_result(base64.b64decode(certificate))

    source = ClientSource(client, CSRS, field_selector=f"metadata.name={name}")

    def failed(error: StatusError) -> None:  # refused or unreachable: say so now, as a get would
        if not outcome.done():
            outcome.set_exception(error)

    informer = Informer(source, resync=0, on_error=failed)
    informer.add_event_handler(on_add=look, on_update=lambda _old, new: look(new))
    following = asyncio.create_task(informer.run())
    try:
        return await asyncio.wait_for(asyncio.shield(outcome), timeout)
    except TimeoutError:
        raise InputError(
            f"certificatesigningrequest {name}: not signed within {timeout:.0f}s "
            f"(`kubectl certificate approve {name}` approves it; the key is not kept, so "
            f"`kubectl delete csr {name}` before asking again)"
        ) from None
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
