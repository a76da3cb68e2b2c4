"""Per-controller identities: ``--use-service-account-credentials``, as kube-controller-manager's
``SAControllerClientBuilder`` with its dynamic token source.

Rules:

 1. The manager, with its own credential, makes sure the controller's service account exists
    in kube-system (creating it if not) and asks for a token for it (TokenRequest, one hour,
    the API server's audiences, bound to no object).
 2. The controller's client trusts the same cluster CA but presents only that bearer token:
    no client certificate, so the API server sees nobody but
    ``system:serviceaccount:kube-system:<name>`` — and authorizes it by that account's own
    bindings (the bootstrap ``system:controller:*`` roles) only.
 3. Each token is replaced when 80 % of its lifetime has passed (a failed refresh is retried
    every ten seconds while the old token lasts).
 4. Without the flag every controller shares the manager's own client.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os

from kubeward.api import meta as m
from kubeward.api.resources.core import SERVICEACCOUNTS
from kubeward.client.api import APIClient
from kubeward.errors import AlreadyExists, InputError, KubewardError, NotFound
from kubeward.fileio import read_bytes
from kubeward.kubeconfig import load_kubeconfig
from kubeward.kubeconfig.load import resolve_path
from kubeward.kubeconfig.model import AuthInfo
from kubeward.kubeconfig.tls import ClientCredentials

log = logging.getLogger("kubeward.controllers")

CONTROLLER_NAMESPACE = "kube-system"
TOKEN_EXPIRATION_SECONDS = 3600
REFRESH_AT = 0.8
RETRY_SECONDS = 10.0


def cluster_ca_pem(kubeconfig: str | os.PathLike[str]) -> bytes:
    """The CA bundle the kubeconfig's current cluster trusts (what upstream's token and
    root-CA controllers publish when ``--root-ca-file`` is not given); empty when it names none."""
    config = load_kubeconfig(kubeconfig)
    context = config.context(config.current_context)
    cluster = config.cluster(context.cluster) if context is not None else None
    if cluster is None:
        return b""
    if cluster.certificate_authority_data is not None:
        return cluster.certificate_authority_data
    if cluster.certificate_authority:
        return read_bytes(resolve_path(cluster.certificate_authority, cluster.source))
    return b""


def token_credentials(kubeconfig: str | os.PathLike[str]) -> ClientCredentials:
    """Rule 2: the kubeconfig's cluster, with a bearer token to be set and no other credential."""
    config = load_kubeconfig(kubeconfig)
    context = config.context(config.current_context)
    if context is None:
        raise InputError(f"{os.fspath(kubeconfig)}: no current context")
    user = AuthInfo(name=context.user or "controller", fields={"token": "pending"})
    config = dataclasses.replace(config, users=(user,))
    return ClientCredentials.from_config(config, source=os.fspath(kubeconfig))


class ServiceAccountClients:
    """Builds one client per controller service account (rules 1-3)."""

    def __init__(
        self,
        root: APIClient,
        credentials: ClientCredentials,
        *,
        namespace: str = CONTROLLER_NAMESPACE,
        expiration_seconds: int = TOKEN_EXPIRATION_SECONDS,
        refresh_at: float = REFRESH_AT,
    ) -> None:
        """``credentials`` come from :func:`token_credentials` of the manager's kubeconfig."""
        self.root = root
        self.credentials = credentials
        self.namespace = namespace
        self.expiration_seconds = expiration_seconds
        self.refresh_at = refresh_at
        self._clients: dict[str, APIClient] = {}
        self._refreshers: list[asyncio.Task[None]] = []

    async def client_for(self, service_account: str) -> APIClient:
        """The client of ``service_account`` (one per account, shared by its controllers)."""
        found = self._clients.get(service_account)
        if found is not None:
            return found
        await self._ensure_service_account(service_account)
        token, lifetime = await self._request_token(service_account)
        client = APIClient(
            self.credentials, user_agent=f"kube-controller-manager/{service_account}"
        )
        client.set_bearer_token(token)
        self._clients[service_account] = client
        self._refreshers.append(
            asyncio.create_task(self._refresh(service_account, client, lifetime))
        )
        log.info("controller credentials: %s:%s", self.namespace, service_account)
        return client

    async def _ensure_service_account(self, name: str) -> None:
        """Rule 1."""
        try:
            await self.root.get(SERVICEACCOUNTS, name, self.namespace)
            return
        except NotFound:
            pass
        body = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": self.namespace},
        }
        with contextlib.suppress(AlreadyExists):
            await self.root.create(SERVICEACCOUNTS, body, self.namespace)

    async def _request_token(self, name: str) -> tuple[str, float]:
        """Rule 1: a token and its lifetime in seconds."""
        path = self.root.path(SERVICEACCOUNTS, self.namespace, name, "token")
        answer = await self.root.create_raw(
            path,
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": self.expiration_seconds},
            },
        )
        status = answer.get("status") or {}
        expires = m.parse_time(str(status.get("expirationTimestamp") or ""))
        lifetime = (
            (expires - m.now()).total_seconds() if expires is not None else self.expiration_seconds
        )
        return str(status.get("token") or ""), max(lifetime, 1.0)

    async def _refresh(self, name: str, client: APIClient, lifetime: float) -> None:
        """Rule 3."""
        wait = lifetime * self.refresh_at
        while True:
            await asyncio.sleep(wait)
            try:
                token, lifetime = await self._request_token(name)
            except KubewardError as exc:
                log.warning("controller credentials: refreshing %s failed: %s", name, exc)
                wait = RETRY_SECONDS
                continue
            client.set_bearer_token(token)
            wait = lifetime * self.refresh_at

    async def close(self) -> None:
        for task in self._refreshers:
            task.cancel()
        for task in self._refreshers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in self._clients.values():
            await client.close()
        self._refreshers.clear()
        self._clients.clear()
