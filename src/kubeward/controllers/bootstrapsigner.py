"""The bootstrapsigner: signs the ``cluster-info`` ConfigMap with every signing bootstrap token.

A node that joins with a bootstrap token reads ``kube-public/cluster-info`` anonymously and
trusts the CA in it only if the ConfigMap carries a signature made with the token it holds
(kubeadm's token discovery). As upstream's ``pkg/controller/bootstrap/bootstrapsigner.go`` and
kubeadm's ``clusterinfo`` phase. Rules:

 1. ``cluster-info`` is created at start when absent (as ``kubeadm init`` does), its
    ``kubeconfig`` key holding a kubeconfig with one unnamed cluster: the server and the
    cluster CA; a server started on another address or with another CA (kubeward up
    retargets its data directory) rewrites that key at start. It is not recreated after
    someone deletes it while the server runs, as upstream's signer does not.
 2. For each Secret of type ``bootstrap.kubernetes.io/token`` in ``kube-system`` with
    ``usage-bootstrap-signing: "true"``, a well-formed id and secret, and no past expiration,
    the ConfigMap carries ``jws-kubeconfig-<id>``: a JWS with a detached payload
    (``header..signature``) over the ``kubeconfig`` value, HS256 keyed by the token's secret,
    header ``{"alg":"HS256","kid":"<id>"}``.
 3. Signatures of tokens that are gone, expired or no longer signing are removed; the
    ConfigMap is written only when its signatures change.
 4. It runs inside the API server over the server's own stores and shared informers (the
    ConfigMaps of ``kube-public`` and the Secrets of ``kube-system``); nothing polls.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

import yaml

from kubeward.api import meta as m
from kubeward.api.registry.store import Store
from kubeward.api.resources.core import CONFIGMAPS, SECRETS
from kubeward.api.scheme import ResourceType
from kubeward.authn.bootstrap import (
    SECRET_NAMESPACE,
    SECRET_TYPE,
    TOKEN_ID_KEY,
    TOKEN_PATTERN,
    TOKEN_SECRET_KEY,
    USAGE_SIGNING,
    expiration_problem,
    secret_data,
)
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import AlreadyExists, NotFound

CLUSTER_INFO_NAMESPACE = "kube-public"
CLUSTER_INFO = "cluster-info"
KUBECONFIG_KEY = "kubeconfig"
JWS_PREFIX = "jws-kubeconfig-"
_KEY = f"{CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def detached_signature(content: str, token_id: str, token_secret: str) -> str:
    """Rule 2: ``header..signature`` of an HS256 JWS over ``content``."""
    header = _b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signing_input = f"{header}.{_b64url(content.encode('utf-8'))}".encode("ascii")
    signature = hmac.new(token_secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}..{_b64url(signature)}"


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    """Rule 1: the ``kubeconfig`` value (kubeadm's: one cluster with an empty name)."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
                    "server": server,
                },
                "name": "",
            }
        ],
        "contexts": None,
        "current-context": "",
        "kind": "Config",
        "preferences": {},
        "users": None,
    }
    return str(yaml.safe_dump(doc, default_flow_style=False, sort_keys=False))


def signing_tokens(secrets: list[m.JSONObject], now: float) -> dict[str, str]:
    """Rule 2: token id → token secret of every token that signs."""
    tokens: dict[str, str] = {}
    for secret in secrets:
        if secret.get("type") != SECRET_TYPE or m.metadata(secret).get("deletionTimestamp"):
            continue
        token_id, token_secret = (
            secret_data(secret, TOKEN_ID_KEY),
            secret_data(secret, TOKEN_SECRET_KEY),
        )
        if not TOKEN_PATTERN.match(f"{token_id}.{token_secret}"):
            continue
        if m.name_of(secret) != f"bootstrap-token-{token_id}":
            continue
        if secret_data(secret, USAGE_SIGNING) != "true":
            continue
        if expiration_problem(secret, now) is not None:
            continue
        tokens[token_id] = token_secret
    return tokens


class BootstrapSigner(Controller):
    """Rules 2-4."""

    name = "bootstrapsigner"

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        informers: InformerFactory,
        *,
        server: str,
        ca_pem: bytes,
    ) -> None:
        super().__init__(informers.informer(CONFIGMAPS))
        self._stores = stores
        self._server = server
        self._ca_pem = ca_pem
        self.secrets = informers.informer(SECRETS)
        self.depends_on(self.secrets)
        self.secrets.add_listener(self._token_changed)

    def _token_changed(self, key: str, obj: m.JSONObject | None) -> None:
        if key.startswith(f"{SECRET_NAMESPACE}/bootstrap-token-"):
            self.queue.add(_KEY)

    async def ensure_cluster_info(self) -> None:
        """Rule 1."""
        if not self._ca_pem:
            return
        content = cluster_info_kubeconfig(self._server, self._ca_pem)
        store = self._stores[CONFIGMAPS]
        try:
            current = await store.get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO)
        except NotFound:
            with contextlib.suppress(AlreadyExists):
                await store.create(
                    CLUSTER_INFO_NAMESPACE,
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": CLUSTER_INFO, "namespace": CLUSTER_INFO_NAMESPACE},
                        "data": {KUBECONFIG_KEY: content},
                    },
                )
            return
        if (current.get("data") or {}).get(KUBECONFIG_KEY) == content:
            return

        def retarget(obj: m.JSONObject) -> m.JSONObject:
            obj.setdefault("data", {})[KUBECONFIG_KEY] = content
            return obj

        # The signatures are of the old content: the signer's first pass replaces them.
        await store.guaranteed_update(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO, retarget)

    async def reconcile(self, key: str) -> float | None:
        if key != _KEY:
            return None
        try:
            current = await self._stores[CONFIGMAPS].get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO)
        except NotFound:
            return None
        data = current.get("data") or {}
        content = data.get(KUBECONFIG_KEY)
        if not isinstance(content, str):
            return None
        secrets = list(self.secrets.in_namespace(SECRET_NAMESPACE))
        wanted = {
            f"{JWS_PREFIX}{token_id}": detached_signature(content, token_id, token_secret)
            for token_id, token_secret in signing_tokens(secrets, time.time()).items()
        }
        have = {k: v for k, v in data.items() if k.startswith(JWS_PREFIX)}
        if have == wanted:
            return None

        def resign(obj: m.JSONObject) -> m.JSONObject:
            kept = {
                k: v for k, v in (obj.get("data") or {}).items() if not k.startswith(JWS_PREFIX)
            }
            obj["data"] = {**kept, **wanted}
            return obj

        with contextlib.suppress(NotFound):
            await self._stores[CONFIGMAPS].guaranteed_update(
                CLUSTER_INFO_NAMESPACE, CLUSTER_INFO, resign
            )
        return None
