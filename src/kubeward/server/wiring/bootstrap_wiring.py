"""Bootstrap tokens in the running server (``--enable-bootstrap-token-auth``).

``server.wiring.builder`` asks this module for the token authenticator before the union is
built, then binds it to the server's shared Secret informer once that exists. Rules:

 1. The authenticator reads bootstrap token Secrets from the shared Secret informer's cache
    (as upstream's reads a Secret lister of ``kube-system``): no storage read per request.
 2. Before the server accepts a request the Secret informer has synced, so a token created
    before a restart is good from the first request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.resources.core import SECRETS
from kubeward.authn.factory import BOOTSTRAP_SECRET_NAMESPACE as SECRET_NAMESPACE
from kubeward.authn.factory import bootstrap_token_authenticator
from kubeward.authn.interfaces import TokenAuthenticator
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

    def token_authenticators(self) -> list[TokenAuthenticator]:
        return [] if self.lookup is None else [bootstrap_token_authenticator(self.lookup)]

    def register(self, informers: InformerFactory) -> None:
        if self.lookup is not None:
            self.lookup.bind(informers.informer(SECRETS))
            self._informers = informers

    async def prepare(self) -> None:
        """Rule 2."""
        if self._informers is not None:
            self._informers.start()
            await self._informers.wait_for_sync([SECRETS])
