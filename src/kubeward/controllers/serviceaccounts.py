"""Service-account controllers, run inside the API server for now (as namespace lifecycle is).

Kubernetes runs these in kube-controller-manager; they move there once the controller-manager
can sign with ``sa.key``. They follow namespaces, service accounts, secrets and ConfigMaps
through the server's shared informers (``controllers.factory``), so a new namespace has its
``default`` account within milliseconds; nothing polls. For every namespace that is not
terminating:

 1. serviceaccount: a ``default`` ServiceAccount exists (recreated when deleted).
 2. root-ca publisher: a ``kube-root-ca.crt`` ConfigMap holds the cluster CA as ``ca.crt``
    (rewritten when someone changes it, recreated when deleted).
 3. token (legacy, pre-1.24): a Secret of type ``kubernetes.io/service-account-token`` annotated
    ``kubernetes.io/service-account.name`` gets ``token`` (a JWT with no expiry), ``ca.crt``
    and ``namespace``, and the annotation ``kubernetes.io/service-account.uid``. When its
    service account is gone, or was recreated with another uid, a filled Secret is deleted
    (which revokes the token); an unfilled one waits for its service account to appear (a
    change of service account in its namespace looks at it again).
 4. The informers say which namespace or Secret to look at; the decision reads storage, so a
    cache that lags a write never causes a wrong one. :meth:`ServiceAccountControllers.sync_once`
    looks at everything once, from storage: the server runs it before it serves.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import CONFIGMAPS, NAMESPACES, SECRETS, SERVICEACCOUNTS
from kubeward.api.scheme import ResourceType
from kubeward.authn.serviceaccount import SECRET_TOKEN_TYPE
from kubeward.authn.serviceaccount_tokens import ObjectRef, TokenIssuer
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import StoreSources
from kubeward.errors import AlreadyExists, Conflict, NotFound, StatusError

log = logging.getLogger("kubeward.apiserver.serviceaccounts")

DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
SA_UID_ANNOTATION = "kubernetes.io/service-account.uid"


def _b64(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


class ServiceAccountControllers:
    """Rules 1-3, each a :class:`~kubeward.controllers.base.Controller` over shared informers."""

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        *,
        ca_pem: bytes,
        issuer: TokenIssuer | None,
        informers: InformerFactory | None = None,
    ) -> None:
        self._stores = stores
        self._ca_pem = ca_pem.decode("utf-8")
        self._issuer = issuer
        # Without the server's factory (tests, tools): informers of their own over storage.
        self.informers = informers or InformerFactory(StoreSources(stores))
        namespaces = self.informers.informer(NAMESPACES)
        service_accounts = self.informers.informer(SERVICEACCOUNTS)
        self.controllers: list[Controller] = [
            _DefaultServiceAccount(self, namespaces, service_accounts),
            _RootCAPublisher(self, namespaces, self.informers.informer(CONFIGMAPS)),
        ]
        if issuer is not None:
            secrets = self.informers.informer(SECRETS)
            self.controllers.append(_TokenSecrets(self, secrets, service_accounts))

    async def run(self) -> None:
        """Reconcile on every change until cancelled (starts the informers if not yet)."""
        self.informers.start()
        tasks = [
            asyncio.create_task(c.run(), name=f"{c.name}-controller") for c in self.controllers
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def store(self, rt: ResourceType) -> Store:
        return self._stores[rt]

    async def sync_once(self) -> None:
        """Rule 4: look at every namespace and token Secret once, reading storage."""
        namespaces = await self._stores[NAMESPACES].list("", ListOptions())
        for ns in namespaces["items"]:
            if m.metadata(ns).get("deletionTimestamp"):
                continue
            name = m.name_of(ns)
            with contextlib.suppress(NotFound, Conflict):
                await self.ensure_default_service_account(name)
                await self.ensure_root_ca(name)
        if self._issuer is not None:
            await self._sync_token_secrets()

    async def ensure_default_service_account(self, namespace: str) -> None:
        store = self._stores[SERVICEACCOUNTS]
        try:
            await store.get(namespace, DEFAULT_SERVICE_ACCOUNT)
            return
        except NotFound:
            pass
        with contextlib.suppress(AlreadyExists):
            await store.create(
                namespace,
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": DEFAULT_SERVICE_ACCOUNT},
                },
            )
            log.info("created ServiceAccount %s/default", namespace)

    async def ensure_root_ca(self, namespace: str) -> None:
        if not self._ca_pem:  # no cluster CA configured (no --client-ca-file): nothing to publish
            return
        store = self._stores[CONFIGMAPS]
        wanted = {"ca.crt": self._ca_pem}
        try:
            current = await store.get(namespace, ROOT_CA_CONFIGMAP)
        except NotFound:
            with contextlib.suppress(AlreadyExists):
                await store.create(
                    namespace,
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {
                            "name": ROOT_CA_CONFIGMAP,
                            "annotations": {"kubernetes.io/description": _ROOT_CA_DESCRIPTION},
                        },
                        "data": wanted,
                    },
                )
            return
        if current.get("data") == wanted:
            return

        def reset(obj: m.JSONObject) -> m.JSONObject:
            obj["data"] = dict(wanted)
            obj.pop("binaryData", None)
            return obj

        await store.guaranteed_update(namespace, ROOT_CA_CONFIGMAP, reset)

    async def _sync_token_secrets(self) -> None:
        secrets = await self._stores[SECRETS].list("", ListOptions())
        for secret in secrets["items"]:
            if secret.get("type") != SECRET_TOKEN_TYPE or m.metadata(secret).get(
                "deletionTimestamp"
            ):
                continue
            try:
                await self.sync_token_secret(secret)
            except StatusError as exc:
                log.warning(
                    "token secret %s/%s: %s", m.namespace_of(secret), m.name_of(secret), exc
                )

    async def sync_token_secret(self, secret: m.JSONObject) -> None:
        """Rule 3 for one Secret."""
        assert self._issuer is not None
        namespace, name = m.namespace_of(secret), m.name_of(secret)
        annotations = m.metadata(secret).get("annotations") or {}
        sa_name = annotations.get(SA_NAME_ANNOTATION, "")
        recorded_uid = annotations.get(SA_UID_ANNOTATION, "")
        try:
            sa = await self._stores[SERVICEACCOUNTS].get(namespace, sa_name) if sa_name else None
        except NotFound:
            sa = None
        sa_uid = str(m.metadata(sa).get("uid", "")) if sa is not None else ""
        filled = bool((secret.get("data") or {}).get("token"))
        if sa is None or (recorded_uid and recorded_uid != sa_uid):
            if filled or recorded_uid:
                with contextlib.suppress(NotFound, Conflict):
                    await self._stores[SECRETS].delete(namespace, name)
                    log.info(
                        "deleted token Secret %s/%s: its service account is gone", namespace, name
                    )
            return
        data = secret.get("data") or {}
        if (
            filled
            and recorded_uid == sa_uid
            and data.get("ca.crt") == _b64(self._ca_pem)
            and data.get("namespace")
        ):
            return
        token = self._issuer.issue_legacy(
            namespace=namespace, service_account=ObjectRef(sa_name, sa_uid), secret_name=name
        )

        def fill(obj: m.JSONObject) -> m.JSONObject:
            meta = m.metadata(obj)
            meta.setdefault("annotations", {})[SA_UID_ANNOTATION] = sa_uid
            values: dict[str, Any] = dict(obj.get("data") or {})
            if not values.get("token") or recorded_uid != sa_uid:
                values["token"] = _b64(token)
            values["ca.crt"] = _b64(self._ca_pem)
            values["namespace"] = _b64(namespace)
            obj["data"] = values
            return obj

        await self._stores[SECRETS].guaranteed_update(namespace, name, fill)
        log.info("filled token Secret %s/%s for service account %s", namespace, name, sa_name)


_ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


def _terminating(namespace: m.JSONObject | None) -> bool:
    return namespace is None or bool(m.metadata(namespace).get("deletionTimestamp"))


class _DefaultServiceAccount(Controller):
    """Rule 1: keyed by namespace; a deleted ``default`` account brings its namespace back."""

    name = "serviceaccount"

    def __init__(
        self, owner: ServiceAccountControllers, namespaces: Informer, service_accounts: Informer
    ) -> None:
        super().__init__(namespaces)
        self.owner = owner
        self.depends_on(service_accounts)
        service_accounts.add_event_handler(on_delete=self._account_deleted)

    def _account_deleted(self, obj: m.JSONObject) -> None:
        if m.name_of(obj) == DEFAULT_SERVICE_ACCOUNT:
            self.queue.add(m.namespace_of(obj))

    async def reconcile(self, key: str) -> float | None:
        if not _terminating(self.cached(key)):
            with contextlib.suppress(NotFound):
                await self.owner.ensure_default_service_account(key)
        return None


class _RootCAPublisher(Controller):
    """Rule 2: keyed by namespace; a changed or deleted ``kube-root-ca.crt`` brings it back."""

    name = "root-ca-cert-publisher"

    def __init__(
        self, owner: ServiceAccountControllers, namespaces: Informer, configmaps: Informer
    ) -> None:
        super().__init__(namespaces)
        self.owner = owner
        self.depends_on(configmaps)
        configmaps.add_event_handler(
            on_update=lambda _old, new: self._configmap_changed(new),
            on_delete=self._configmap_changed,
        )

    def _configmap_changed(self, obj: m.JSONObject) -> None:
        if m.name_of(obj) == ROOT_CA_CONFIGMAP:
            self.queue.add(m.namespace_of(obj))

    async def reconcile(self, key: str) -> float | None:
        if not _terminating(self.cached(key)):
            with contextlib.suppress(NotFound):
                await self.owner.ensure_root_ca(key)
        return None


class _TokenSecrets(Controller):
    """Rule 3: keyed by Secret; a change of service account looks at the Secrets naming it."""

    name = "serviceaccount-token"

    def __init__(
        self, owner: ServiceAccountControllers, secrets: Informer, service_accounts: Informer
    ) -> None:
        super().__init__(secrets)
        self.owner = owner
        self.depends_on(service_accounts)
        service_accounts.add_event_handler(
            on_add=self._account_changed,
            on_update=lambda _old, new: self._account_changed(new),
            on_delete=self._account_changed,
        )

    def _account_changed(self, account: m.JSONObject) -> None:
        name = m.name_of(account)
        for secret in self.informer.in_namespace(m.namespace_of(account)):
            annotations = m.metadata(secret).get("annotations") or {}
            if (
                secret.get("type") == SECRET_TOKEN_TYPE
                and annotations.get(SA_NAME_ANNOTATION) == name
            ):
                self.queue.add(f"{m.namespace_of(secret)}/{m.name_of(secret)}")

    async def reconcile(self, key: str) -> float | None:
        cached = self.cached(key)
        if cached is None or cached.get("type") != SECRET_TOKEN_TYPE:
            return None
        namespace, _, name = key.partition("/")
        try:
            secret = await self.owner.store(SECRETS).get(namespace, name)
        except NotFound:
            return None
        if secret.get("type") == SECRET_TOKEN_TYPE and not m.metadata(secret).get(
            "deletionTimestamp"
        ):
            await self.owner.sync_token_secret(secret)
        return None
