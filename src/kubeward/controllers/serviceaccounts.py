"""The service-account controllers of the controller-manager: ``serviceaccount``,
``root-ca-cert-publisher`` and ``serviceaccount-token``.

Each is an API client: it reads through the manager's shared informers and writes with its own
client, so a new namespace has its ``default`` account as soon as the namespace's event
arrives; nothing polls. For every namespace that is not terminating:

 1. serviceaccount: a ``default`` ServiceAccount exists (recreated when deleted). Its role
    (``system:controller:service-account-controller``) may only create service accounts: the
    informer's cache says whether one is missing, and a create that meets AlreadyExists (a cache
    that lags) is success.
 2. root-ca-cert-publisher: a ``kube-root-ca.crt`` ConfigMap holds the cluster CA
    (``--root-ca-file``, else the CA the manager's kubeconfig trusts) as ``ca.crt``,
    rewritten when someone changes it, recreated when deleted. Its role may create and update
    ConfigMaps; an update made from a stale cache meets Conflict and is retried.
 3. serviceaccount-token (legacy, pre-1.24): a Secret of type
    ``kubernetes.io/service-account-token`` annotated ``kubernetes.io/service-account.name``
    gets ``token`` (a JWT with no expiry, signed with ``--service-account-private-key-file``),
    ``ca.crt`` and ``namespace``, and the annotation ``kubernetes.io/service-account.uid``. When
    its service account is gone, or was recreated with another uid, a filled Secret is deleted
    (which revokes the token); an unfilled one waits for its service account to appear (a
    change of service account in its namespace looks at it again). As upstream it runs with
    the manager's own client (``system:kube-controller-manager`` may get, update and delete
    Secrets), and reads the Secret and its service account from the API server before it
    decides, so a cache that lags a write never causes a wrong decision.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import CONFIGMAPS, NAMESPACES, SECRETS, SERVICEACCOUNTS
from kubeward.authn.serviceaccount import SECRET_TOKEN_TYPE
from kubeward.authn.serviceaccount_tokens import ObjectRef, TokenIssuer
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import AlreadyExists, Conflict, NotFound

log = logging.getLogger("kubeward.controllers.serviceaccounts")

DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
SA_UID_ANNOTATION = "kubernetes.io/service-account.uid"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


def _b64(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


def _terminating(namespace: m.JSONObject | None) -> bool:
    return namespace is None or bool(m.metadata(namespace).get("deletionTimestamp"))


class ServiceAccountController(Controller):
    """Rule 1: keyed by namespace; a deleted ``default`` account brings its namespace back."""

    name = "serviceaccount"

    def __init__(self, informers: InformerFactory, client: APIClient) -> None:
        super().__init__(informers.informer(NAMESPACES))
        self._client = client
        self._accounts = informers.informer(SERVICEACCOUNTS)
        self.depends_on(self._accounts)
        self._accounts.add_event_handler(on_delete=self._account_deleted)

    def _account_deleted(self, obj: m.JSONObject) -> None:
        if m.name_of(obj) == DEFAULT_SERVICE_ACCOUNT:
            self.queue.add(m.namespace_of(obj))

    async def reconcile(self, key: str) -> float | None:
        if _terminating(self.cached(key)):
            return None
        if self._accounts.get(f"{key}/{DEFAULT_SERVICE_ACCOUNT}") is not None:
            return None
        body = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": key},
        }
        try:
            await self._client.create(SERVICEACCOUNTS, body, key)
        except (AlreadyExists, NotFound):
            return None
        log.info("created ServiceAccount %s/%s", key, DEFAULT_SERVICE_ACCOUNT)
        return None


class RootCACertPublisher(Controller):
    """Rule 2: keyed by namespace; a changed or deleted ``kube-root-ca.crt`` brings it back."""

    name = "root-ca-cert-publisher"

    def __init__(self, informers: InformerFactory, client: APIClient, ca_pem: bytes) -> None:
        super().__init__(informers.informer(NAMESPACES))
        self._client = client
        self._ca_pem = ca_pem.decode("utf-8")
        self._configmaps = informers.informer(CONFIGMAPS)
        self.depends_on(self._configmaps)
        self._configmaps.add_event_handler(
            on_update=lambda _old, new: self._configmap_changed(new),
            on_delete=self._configmap_changed,
        )

    def _configmap_changed(self, obj: m.JSONObject) -> None:
        if m.name_of(obj) == ROOT_CA_CONFIGMAP:
            self.queue.add(m.namespace_of(obj))

    async def reconcile(self, key: str) -> float | None:
        if _terminating(self.cached(key)) or not self._ca_pem:
            return None
        wanted = {"ca.crt": self._ca_pem}
        current = self._configmaps.get(f"{key}/{ROOT_CA_CONFIGMAP}")
        if current is None:
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": ROOT_CA_CONFIGMAP,
                    "namespace": key,
                    "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION},
                },
                "data": wanted,
            }
            with contextlib.suppress(AlreadyExists, NotFound):
                await self._client.create(CONFIGMAPS, body, key)
            return None
        if current.get("data") == wanted and not current.get("binaryData"):
            return None
        updated = {k: v for k, v in current.items() if k != "binaryData"}
        updated["data"] = dict(wanted)
        with contextlib.suppress(NotFound):  # deleted meanwhile: its event brings it back
            await self._client.update(CONFIGMAPS, updated, namespace=key)
        return None


class TokensController(Controller):
    """Rule 3: keyed by Secret; a change of service account looks at the Secrets naming it."""

    name = "serviceaccount-token"

    def __init__(
        self,
        informers: InformerFactory,
        client: APIClient,
        issuer: TokenIssuer,
        ca_pem: bytes,
    ) -> None:
        super().__init__(informers.informer(SECRETS))
        self._client = client
        self._issuer = issuer
        self._ca_pem = ca_pem.decode("utf-8")
        accounts = informers.informer(SERVICEACCOUNTS)
        self.depends_on(accounts)
        accounts.add_event_handler(
            on_add=self._account_changed,
            on_update=lambda _old, new: self._account_changed(new),
            on_delete=self._account_changed,
        )

    def _account_changed(self, account: m.JSONObject) -> None:
        name = m.name_of(account)
        for secret in list(self.informer.in_namespace(m.namespace_of(account))):
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
            secret = await self._client.get(SECRETS, name, namespace)
        except NotFound:
            return None
        if secret.get("type") == SECRET_TOKEN_TYPE and not m.metadata(secret).get(
            "deletionTimestamp"
        ):
            await self.sync_token_secret(secret)
        return None

    async def sync_token_secret(self, secret: m.JSONObject) -> None:
        """Rule 3 for one Secret, as read from the API server."""
        namespace, name = m.namespace_of(secret), m.name_of(secret)
        annotations = m.metadata(secret).get("annotations") or {}
        sa_name = str(annotations.get(SA_NAME_ANNOTATION, ""))
        recorded_uid = str(annotations.get(SA_UID_ANNOTATION, ""))
        sa: m.JSONObject | None = None
        if sa_name:
            with contextlib.suppress(NotFound):
                sa = await self._client.get(SERVICEACCOUNTS, sa_name, namespace)
        sa_uid = str(m.metadata(sa).get("uid", "")) if sa is not None else ""
        data: dict[str, Any] = dict(secret.get("data") or {})
        filled = bool(data.get("token"))
        if sa is None or (recorded_uid and recorded_uid != sa_uid):
            if filled or recorded_uid:
                uid = str(m.metadata(secret).get("uid") or "")
                with contextlib.suppress(NotFound, Conflict):
                    await self._client.delete(SECRETS, name, namespace, uid=uid)
                    log.info(
                        "deleted token Secret %s/%s: its service account is gone", namespace, name
                    )
            return
        ca = _b64(self._ca_pem)
        if filled and recorded_uid == sa_uid and data.get("ca.crt") == ca and data.get("namespace"):
            return
        if not filled or recorded_uid != sa_uid:
            token = self._issuer.issue_legacy(
                namespace=namespace, service_account=ObjectRef(sa_name, sa_uid), secret_name=name
            )
            data["token"] = _b64(token)
        data["ca.crt"] = ca
        data["namespace"] = _b64(namespace)
        meta = m.metadata(secret)
        meta.setdefault("annotations", {})[SA_UID_ANNOTATION] = sa_uid
        secret["data"] = data
        with contextlib.suppress(NotFound):  # deleted meanwhile: nothing to fill
            await self._client.update(SECRETS, secret, namespace=namespace)
            log.info("filled token Secret %s/%s for service account %s", namespace, name, sa_name)
