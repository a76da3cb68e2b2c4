"""Who may call the node's kubelet API: the kubelet's authentication and authorization.

As the kubelet's ``--client-ca-file``, ``--authentication-token-webhook`` and
``--authorization-mode=Webhook`` (pkg/kubelet/server/auth.go). Rules:
 1. A client certificate verified against ``--client-ca-file`` during the TLS handshake names
    the user (CN) and its groups (O). Otherwise a bearer token is sent to the API server in a
    TokenReview (answers cached 2 minutes). With neither, or a token the API server does not
    accept, the caller is 401 ``Unauthorized`` (anonymous access is off, as kubeadm sets it).
 2. Each request is authorized as ``VERB nodes/SUBRESOURCE NAME``: the verb from the HTTP
    method (GET ``get``, POST ``create``, PUT ``update``, PATCH ``patch``, DELETE ``delete``),
    the subresource from the path: ``/stats/…`` ``stats``, ``/metrics/…`` ``metrics``,
    ``/logs/…`` ``log``, everything else (``/pods``, ``/exec``, ``/containerLogs`` …)
    ``proxy``.
 3. The decision comes from a SubjectAccessReview to the API server, cached 5 minutes when
    allowed and 30 seconds when denied (the kubelet's defaults). A refusal is 403 with the
    kubelet's text ``Forbidden (user=U, verb=V, resource=nodes, subresource=S)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeward.api.user import UserInfo
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError
from kubeward.expiring import ExpiringCache

TOKEN_TTL = 120.0
ALLOWED_TTL = 300.0
DENIED_TTL = 30.0
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}
_VERBS["DELETE"] = "delete"


@dataclass(frozen=True)
class NodeAttributes:
    """Rule 2's request: what the caller asks of this node."""

    verb: str
    subresource: str

    @classmethod
    def of(cls, method: str, path: str) -> NodeAttributes:
        first = path.lstrip("/").split("/", 1)[0]
        subresource = {"stats": "stats", "metrics": "metrics", "logs": "log"}.get(first, "proxy")
        return cls(_VERBS.get(method.upper(), method.lower()), subresource)


def certificate_user(peercert: dict[str, Any] | None) -> UserInfo | None:
    """Rule 1: the user named by a certificate the handshake verified (``getpeercert()``)."""
    if not peercert:
        return None
    common_names: list[str] = []
    groups: list[str] = []
    for rdn in peercert.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                common_names.append(str(value))
            elif key == "organizationName":
                groups.append(str(value))
    if not common_names:
        return None
    return UserInfo(name=common_names[0], groups=tuple(groups))


class KubeletAuth:
    """Rules 1 and 3, asking the API server as the node's own identity."""

    def __init__(self, client: APIClient, node_name: str) -> None:
        self.client = client
        self.node_name = node_name
        # A refused token is cached too: the value is a 1-tuple so that None can be stored.
        self._tokens: ExpiringCache[str, tuple[UserInfo | None]] = ExpiringCache(1024)
        self._decisions: ExpiringCache[tuple[UserInfo, str, str], bool] = ExpiringCache(4096)

    async def user_of_token(self, token: str) -> UserInfo | None:
        """Rule 1: the TokenReview's user, None when the token is refused."""
        if (cached := self._tokens.get(token)) is not None:
            return cached[0]
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        answer = await self.client.create_raw("/apis/authentication.k8s.io/v1/tokenreviews", review)
        status = answer.get("status") or {}
        user: UserInfo | None = None
        if status.get("authenticated"):
            info = status.get("user") or {}
            user = UserInfo(
                name=str(info.get("username", "")),
                uid=str(info.get("uid", "")),
                groups=tuple(info.get("groups") or ()),
                extra={k: tuple(v) for k, v in (info.get("extra") or {}).items()},
            )
        self._tokens.put(token, (user,), TOKEN_TTL)
        return user

    async def allowed(self, user: UserInfo, attributes: NodeAttributes) -> bool:
        """Rule 3."""
        key = (user, attributes.verb, attributes.subresource)
        cached = self._decisions.get(key)
        if cached is not None:
            return cached
        spec: dict[str, Any] = {
            "user": user.name,
            "groups": list(user.groups),
            "resourceAttributes": {
                "verb": attributes.verb,
                "group": "",
                "version": "v1",
                "resource": "nodes",
                "subresource": attributes.subresource,
                "name": self.node_name,
            },
        }
        if user.uid:
            spec["uid"] = user.uid
        if user.extra:
            spec["extra"] = {k: list(v) for k, v in user.extra.items()}
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": spec,
        }
        try:
            answer = await self.client.create_raw(
                "/apis/authorization.k8s.io/v1/subjectaccessreviews", review
            )
        except KubewardError:
            return False  # not cached: the next request asks again
        allowed = bool((answer.get("status") or {}).get("allowed"))
        self._decisions.put(key, allowed, ALLOWED_TTL if allowed else DENIED_TTL)
        return allowed


def forbidden_text(user: UserInfo, attributes: NodeAttributes) -> str:
    """Rule 3's refusal, as the kubelet words it."""
    return (
        f"Forbidden (user={user.name}, verb={attributes.verb}, resource=nodes, "
        f"subresource={attributes.subresource})"
    )
