"""The controller-manager: one identity, one client, the certificate controllers.

Rules:

 1. It is an ordinary API client: it authenticates with its own kubeconfig credential
    (``CN=system:kube-controller-manager`` by default) and everything it does is authorized
    by the API server.
 2. Before starting, it asks the server who it is (a SelfSubjectReview). Refused credentials
    (401) or a failed TLS handshake stop it at once with a message naming the server and the
    kubeconfig; an unreachable server is waited for (a minute), since a controller-manager may
    start before its API server.
 3. The CSR controllers share one list+watch of CertificateSigningRequests. The signing
    controller runs only when a signing CA is configured.
 4. The tokencleaner follows the Secrets of ``kube-system`` (bootstrap tokens), as kubeadm turns
    it on in kube-controller-manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from dataclasses import dataclass

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS
from kubeward.api.resources.core import SECRETS
from kubeward.authn.bootstrap import SECRET_NAMESPACE
from kubeward.client.api import APIClient, ServerUnreachable
from kubeward.controllers.approving import ApprovingController
from kubeward.controllers.base import Controller
from kubeward.controllers.cleaning import CleaningController
from kubeward.controllers.informer import Informer
from kubeward.controllers.signing import SigningConfig, SigningController
from kubeward.controllers.sources import ClientSource
from kubeward.controllers.tokencleaner import TokenCleaner
from kubeward.errors import StatusError, Unauthorized

log = logging.getLogger("kubeward.controllers")

SELF_SUBJECT_REVIEW_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class CredentialsRefused(Unauthorized):
    """The API server answered 401 to the controller-manager's credential (rule 2)."""


@dataclass(frozen=True)
class ManagerConfig:
    signing: SigningConfig | None = None
    resync: datetime.timedelta = datetime.timedelta(minutes=5)
    source: str = "kubeconfig"
    wait_for_server: datetime.timedelta = datetime.timedelta(seconds=60)


class ControllerManager:
    def __init__(self, client: APIClient, config: ManagerConfig) -> None:
        self.client = client
        self.config = config
        self.informer = Informer(
            ClientSource(client, CERTIFICATE_SIGNING_REQUESTS),
            resync=config.resync.total_seconds(),
        )
        self.token_informer = Informer(
            ClientSource(client, SECRETS, namespace=SECRET_NAMESPACE),
            resync=config.resync.total_seconds(),
        )
        self.controllers: list[Controller] = [
            ApprovingController(self.informer, client),
            CleaningController(self.informer, client),
            TokenCleaner(self.token_informer, client),
        ]
        if config.signing is not None:
            self.controllers.insert(0, SigningController(self.informer, client, config.signing))

    async def whoami(self) -> str:
        """Rule 2: the username the server sees, or CredentialsRefused."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.config.wait_for_server.total_seconds()
        while True:
            try:
                answer = await self.client.create_raw(
                    SELF_SUBJECT_REVIEW_PATH,
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                )
                break
            except Unauthorized as exc:
                raise CredentialsRefused(
                    f"{self.client.server}: the API server refused the credentials in"
                    f" {self.config.source} (401 Unauthorized: {exc.message})"
                ) from exc
            except ServerUnreachable:
                if loop.time() >= give_up:
                    raise
                await asyncio.sleep(0.5)
        user = ((answer.get("status") or {}).get("userInfo") or {}).get("username", "")
        return str(user)

    async def run(self) -> None:
        """Run until cancelled (rules 2 and 3)."""
        user = await self.whoami()
        log.info("controller-manager running as %s against %s", user, self.client.server)
        tasks = [
            asyncio.create_task(self.informer.run()),
            asyncio.create_task(self.token_informer.run()),
        ]
        tasks.extend(asyncio.create_task(c.run()) for c in self.controllers)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, StatusError, Exception):
                    await task
