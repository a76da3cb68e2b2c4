"""Service accounts in the running server, assembled from the flags.

``server.wiring.builder`` calls this module at three points: :meth:`ServiceAccountWiring.create`
(before the authenticator union is built, to add the service-account token authenticator),
:meth:`register` (once the :class:`APIServer` and the server's shared informers exist:
endpoints, and the handlers of the object index) and :meth:`prepare` (before the site starts).
The controllers that keep service accounts, ``kube-root-ca.crt`` and legacy token Secrets are
the controller-manager's (``controllers.serviceaccounts``), as in Kubernetes. Rules:

 1. Service-account tokens are on when ``--service-account-issuer`` is set; the signing key is
    then required (``--service-account-signing-key-file``), and the verification keys are its
    public half plus every ``--service-account-key-file``. ``--api-audiences`` defaults to the
    issuers, as upstream. Without them a TokenRequest is answered 404 with the flags to set
    (``tokens`` rule 5), not with an unknown method.
 2. Before the server accepts a request the object index's informers have synced, so a
    bound token is never refused for an object the index has not seen yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kubeward.api.registry.store import Store
from kubeward.api.scheme import ResourceType
from kubeward.authn.factory import service_account_authenticator
from kubeward.authn.interfaces import TokenAuthenticator
from kubeward.authn.serviceaccount_keys import KeySet, load_signing_key
from kubeward.authn.serviceaccount_tokens import TokenIssuer
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import InputError
from kubeward.server.config import ServerConfig
from kubeward.server.endpoints import tokens
from kubeward.server.wiring.serviceaccount_index import ObjectIndex

if TYPE_CHECKING:
    from kubeward.server.app import APIServer


@dataclass(frozen=True)
class ServiceAccountOptions:
    """kube-apiserver's service-account flags."""

    issuers: tuple[str, ...] = ()
    signing_key_file: Path | None = None
    key_files: tuple[Path, ...] = ()
    api_audiences: tuple[str, ...] = ()
    max_token_expiration_seconds: int = 0

    @classmethod
    def from_config(cls, config: ServerConfig) -> ServiceAccountOptions:
        return cls(
            issuers=config.service_account_issuers,
            signing_key_file=config.service_account_signing_key_file,
            key_files=config.service_account_key_files,
            api_audiences=config.api_audiences,
            max_token_expiration_seconds=config.service_account_max_token_expiration_seconds,
        )


class ServiceAccountWiring:
    def __init__(
        self,
        config: ServiceAccountOptions,
        stores: dict[ResourceType, Store],
        issuer: TokenIssuer | None,
        keys: KeySet,
        authenticator: TokenAuthenticator | None,
        index: ObjectIndex | None,
    ) -> None:
        self.config = config
        self.stores = stores
        self.issuer = issuer
        self.keys = keys
        self.authenticator = authenticator
        self.index = index

    @classmethod
    def create(
        cls,
        config: ServiceAccountOptions,
        stores: dict[ResourceType, Store],
    ) -> ServiceAccountWiring:
        """Rule 1.

        Raises:
            InputError: inconsistent flags or unreadable key files.
        """
        if not config.issuers:
            if config.signing_key_file is not None:
                raise InputError(
                    "--service-account-signing-key-file: requires --service-account-issuer"
                )
            return cls(config, stores, None, KeySet(()), None, None)
        if config.signing_key_file is None:
            raise InputError(
                "--service-account-issuer: requires --service-account-signing-key-file"
            )
        signing_key = load_signing_key(config.signing_key_file)
        keys = KeySet.from_files(config.key_files, signing_key)
        issuer = TokenIssuer(config.issuers[0], signing_key)
        audiences = config.api_audiences or config.issuers
        index = ObjectIndex()
        authenticator = service_account_authenticator(
            issuers=config.issuers, keys=keys, api_audiences=audiences, lookup=index
        )
        return cls(config, stores, issuer, keys, authenticator, index)

    def token_authenticators(self) -> list[TokenAuthenticator]:
        return [] if self.authenticator is None else [self.authenticator]

    def register(self, server: APIServer, informers: InformerFactory) -> None:
        """The token endpoints (when tokens are on), and the handlers of the index on the
        server's shared informers."""
        if self.index is not None:
            self.index.follow(informers)
        if self.issuer is None or self.authenticator is None:
            tokens.register_without_signing(server)
            return
        settings = tokens.TokenSettings(
            issuer=self.issuer,
            keys=self.keys,
            api_audiences=self.config.api_audiences or self.config.issuers,
            max_expiration_seconds=self.config.max_token_expiration_seconds,
            # Upstream's default without --service-account-jwks-uri: the server's own address.
            jwks_uri=f"https://{server.server_address}{tokens.JWKS_PATH}",
        )
        tokens.register(server, self.stores, settings)

    async def prepare(self) -> None:
        """Rule 2 (call after :meth:`register`)."""
        if self.index is not None:
            await self.index.wait_for_sync()
