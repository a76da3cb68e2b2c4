"""Bootstrap tokens in the running server (``--enable-bootstrap-token-auth``).

``server.wiring.builder`` asks this module for the token authenticator before the union is
built, then binds it to the server's shared Secret informer once that exists. Rules:

 1. The authenticator reads bootstrap token Secrets from the shared Secret informer's cache
    (as upstream's reads a Secret lister of ``kube-system``): no storage read per request.
 2. Before the server accepts a request the Secret informer has synced, so a token created
    before a restart is good from the first request.
 3. With bootstrap tokens on, the ``cluster-info`` ConfigMap of ``kube-public`` exists before the
    server accepts a request, and the bootstrapsigner (``controllers.bootstrapsigner``) keeps its
    signatures current; as kubeadm sets both up together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kubeward.api.registry.store import Store
from kubeward.api.resources.core import SECRETS
from kubeward.api.scheme import ResourceType
from kubeward.authn.factory import BOOTSTRAP_SECRET_NAMESPACE as SECRET_NAMESPACE
from kubeward.authn.factory import bootstrap_token_authenticator
from kubeward.authn.interfaces import TokenAuthenticator
from kubeward.controllers.bootstrapsigner import BootstrapSigner
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer


class InformerSecretLookup:
    """Rule 1: ``kube-system`` Secrets by name, from the informer once bound."""

    def __init__(self) -> None:
        self._informer: Informer | None = None

    def bind(self, informer: Informer) -> None:
        self._informer = informer

    def get(self, name: str) -> Mapping[str, Any] | None:
        if self._informer is None:
            return None
        return self._informer.get(f"{SECRET_NAMESPACE}/{name}")


class BootstrapWiring:
    def __init__(self, enabled: bool) -> None:
        self.lookup = InformerSecretLookup() if enabled else None
        self._informers: InformerFactory | None = None
        self.signer: BootstrapSigner | None = None

    def token_authenticators(self) -> list[TokenAuthenticator]:
        return [] if self.lookup is None else [bootstrap_token_authenticator(self.lookup)]

    def register(
        self,
        informers: InformerFactory,
        stores: dict[ResourceType, Store],
        *,
        server: str,
        ca_pem: bytes,
    ) -> None:
        """Rules 1 and 3: bind the lookup and make the signer, on the shared informers."""
        if self.lookup is not None:
            self.lookup.bind(informers.informer(SECRETS))
            self._informers = informers
            self.signer = BootstrapSigner(stores, informers, server=server, ca_pem=ca_pem)

    async def prepare(self) -> None:
        """Rules 2 and 3."""
        if self._informers is not None:
            self._informers.start()
            await self._informers.wait_for_sync([SECRETS])
        if self.signer is not None:
            await self.signer.ensure_cluster_info()

    def tasks(self) -> list[asyncio.Task[None]]:
        if self.signer is None:
            return []
        return [asyncio.create_task(self.signer.run(), name="bootstrapsigner")]
