"""Who a request acts for, and the users and groups Kubernetes gives special meaning.

Authentication produces a :class:`UserInfo`; authorization, admission and the registry read it.
The well-known names live here, in one place, as Kubernetes keeps them in
``k8s.io/apiserver/pkg/authentication/user``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

# Groups
SYSTEM_MASTERS = "system:masters"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
NODES_GROUP = "system:nodes"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
SERVICE_ACCOUNT_GROUP_PREFIX = "system:serviceaccounts:"
BOOTSTRAPPERS_GROUP = "system:bootstrappers"

# Users
ANONYMOUS = "system:anonymous"
APISERVER_USER = "system:apiserver"
KUBE_PROXY = "system:kube-proxy"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_SCHEDULER = "system:kube-scheduler"
NODE_USER_PREFIX = "system:node:"
SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"

_EMPTY: Mapping[str, tuple[str, ...]] = MappingProxyType({})


@dataclass(frozen=True)
class UserInfo:
    """An authenticated identity: name, uid, groups and extra attributes."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY, hash=False)

    def to_dict(self) -> dict[str, object]:
        """The ``UserInfo`` JSON shape of authentication.k8s.io (omits empty fields)."""
        out: dict[str, object] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


def node_username(node_name: str) -> str:
    """``system:node:NAME``: the user a node's kubelet authenticates as."""
    return NODE_USER_PREFIX + node_name


def service_account_username(namespace: str, name: str) -> str:
    """``system:serviceaccount:NS:NAME``, the user a service-account token authenticates as."""
    return f"{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"


def split_service_account_username(username: str) -> tuple[str, str] | None:
    """``(namespace, name)`` for a service-account user name, or None for any other user."""
    if not username.startswith(SERVICE_ACCOUNT_USER_PREFIX):
        return None
    rest = username[len(SERVICE_ACCOUNT_USER_PREFIX) :]
    namespace, sep, name = rest.partition(":")
    if not sep or not namespace or not name or ":" in name:
        return None
    return namespace, name


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """The groups every service account of ``namespace`` is in."""
    return (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNT_GROUP_PREFIX}{namespace}")


def impersonated_user(
    name: str,
    groups: Sequence[str] = (),
    *,
    uid: str = "",
    extra: Mapping[str, Sequence[str]] | None = None,
) -> UserInfo:
    """The identity impersonating ``name`` (with ``groups``) yields, as kube-apiserver builds it.

    The one place both the server's impersonation filter and the ``kubeward rbac`` tools build
    an ``--as`` user, so a review asked about that user cannot disagree with
    ``kubectl --as``. Rules (k8s.io/apiserver's impersonation filter):

     1. A service account asked for without groups gets its fixed groups
        (``system:serviceaccounts`` and ``system:serviceaccounts:NS``).
     2. Any user but ``system:anonymous`` gets ``system:authenticated`` unless
        ``system:authenticated`` or ``system:unauthenticated`` is among its groups;
        ``system:anonymous`` gets ``system:unauthenticated`` unless it is there already.
    """
    chosen = list(groups)
    service_account = split_service_account_username(name)
    if service_account is not None and not chosen:
        chosen.extend(service_account_groups(service_account[0]))
    if name != ANONYMOUS:
        if ALL_AUTHENTICATED not in chosen and ALL_UNAUTHENTICATED not in chosen:
            chosen.append(ALL_AUTHENTICATED)
    elif ALL_UNAUTHENTICATED not in chosen:
        chosen.append(ALL_UNAUTHENTICATED)
    return UserInfo(
        name=name,
        uid=uid,
        groups=tuple(chosen),
        extra={key: tuple(values) for key, values in (extra or {}).items()},
    )
