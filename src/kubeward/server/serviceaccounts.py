"""Service-account controllers, run inside the API server for now (as namespace lifecycle is).

Kubernetes runs these in kube-controller-manager; they move there once the controller-manager
can sign with ``sa.key``. A pass runs as soon as a namespace, service account or secret changes
(the controllers follow those watches, so a new namespace has its ``default`` account within
milliseconds) and at least every ``resync`` seconds. Each pass, for every namespace that is not
terminating:

 1. serviceaccount: a ``default`` ServiceAccount exists (recreated if deleted).
 2. root-ca publisher: a ``kube-root-ca.crt`` ConfigMap holds the cluster CA as ``ca.crt``
    (rewritten if someone changes it).
 3. token (legacy, pre-1.24): a Secret of type ``kubernetes.io/service-account-token`` annotated
    ``kubernetes.io/service-account.name`` gets ``token`` (a JWT with no expiry), ``ca.crt``
    and ``namespace``, and the annotation ``kubernetes.io/service-account.uid``. When its
    service account is gone, or was recreated with another uid, a filled Secret is deleted
    (which revokes the token); an unfilled one waits for its service account to appear.
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
from kubeward.errors import AlreadyExists, Conflict, NotFound, StatusError
from kubeward.server.watch import Broadcasters

log = logging.getLogger("kubeward.apiserver.serviceaccounts")

DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
SA_UID_ANNOTATION = "kubernetes.io/service-account.uid"
_WATCHED = (NAMESPACES, SERVICEACCOUNTS, SECRETS)


def _b64(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


class ServiceAccountControllers:
    """Rules 1-3, one pass every ``interval`` seconds."""

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        *,
        ca_pem: bytes,
        issuer: TokenIssuer | None,
        resync: float = 5.0,
    ) -> None:
        self._stores = stores
        self._ca_pem = ca_pem.decode("utf-8")
        self._issuer = issuer
        self._resync = resync
        self._changed = asyncio.Event()

    async def run(self, broadcasters: Broadcasters | None = None) -> None:
        """Pass after pass until cancelled; with ``broadcasters``, a pass on every change."""
        followers = []
        if broadcasters is not None:
            followers = [asyncio.create_task(self._follow(broadcasters, rt)) for rt in _WATCHED]
        try:
            while True:
                self._changed.clear()
                try:
                    await self.sync_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("service-account controllers pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self._resync)
        finally:
            for task in followers:
                task.cancel()

    async def _follow(self, broadcasters: Broadcasters, rt: ResourceType) -> None:
        while True:
            try:
                listed = await self._stores[rt].list("", ListOptions(limit=1))
                revision = int(listed["metadata"]["resourceVersion"])
                async for _ in broadcasters.for_store(self._stores[rt]).events(revision):
                    self._changed.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watch ended or storage failed: list and follow again
                log.debug("service-account controllers: %s watch ended: %s", rt.resource, exc)
            self._changed.set()
            await asyncio.sleep(1.0)

    async def sync_once(self) -> None:
        namespaces = await self._stores[NAMESPACES].list("", ListOptions())
        for ns in namespaces["items"]:
            if m.metadata(ns).get("deletionTimestamp"):
                continue
            name = m.name_of(ns)
            with contextlib.suppress(NotFound, Conflict):
                await self._ensure_default_service_account(name)
                await self._ensure_root_ca(name)
        if self._issuer is not None:
            await self._sync_token_secrets()

    async def _ensure_default_service_account(self, namespace: str) -> None:
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

    async def _ensure_root_ca(self, namespace: str) -> None:
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
                await self._sync_token_secret(secret)
            except StatusError as exc:
                log.warning(
                    "token secret %s/%s: %s", m.namespace_of(secret), m.name_of(secret), exc
                )

    async def _sync_token_secret(self, secret: m.JSONObject) -> None:
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
