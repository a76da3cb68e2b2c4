"""Impersonation: ``kubectl --as jane --as-group dev`` runs a request as another identity.

Kubernetes' impersonation filter (``k8s.io/apiserver/pkg/endpoints/filters/impersonation.go``),
applied right after authentication. Rules:

 1. The headers are ``Impersonate-User``, ``Impersonate-Uid``, ``Impersonate-Group``
    (repeatable) and ``Impersonate-Extra-<key>`` (repeatable; the key is lower-cased, then
    percent-decoded). Without any of them the request runs as its authenticated user.
 2. Groups, a uid or extras without ``Impersonate-User`` are refused (500, as upstream).
 3. Each requested part is authorized separately for the authenticated user with the verb
    ``impersonate``: a user name on ``users``; a ``system:serviceaccount:NS:NAME`` name on
    ``serviceaccounts`` named NAME in namespace NS; each group on ``groups``; the uid on
    ``uids`` and each extra value on ``userextras/<key>`` (both in API group
    ``authentication.k8s.io``; the others in the core group). The object name is the value.
    The first part refused ends the request with 403, worded as any other refusal.
 4. The identity is built by :func:`kubeward.api.user.impersonated_user` — the function
    ``kubeward rbac explain --as`` uses too: a service account asked for without groups gets
    its fixed groups, any user but ``system:anonymous`` gets ``system:authenticated`` (unless
    it or ``system:unauthenticated`` was asked for), ``system:anonymous`` gets
    ``system:unauthenticated``.
"""

from __future__ import annotations

from urllib.parse import unquote

from multidict import MultiMapping

from kubeward.api.user import UserInfo, impersonated_user, split_service_account_username
from kubeward.authz.interfaces import Attributes, Authorizer, Decision, decide
from kubeward.errors import ImpersonationRefused, InternalError

USER_HEADER = "Impersonate-User"
UID_HEADER = "Impersonate-Uid"
GROUP_HEADER = "Impersonate-Group"
EXTRA_HEADER_PREFIX = "Impersonate-Extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


def _extra_key(header: str) -> str:
    key = header[len(EXTRA_HEADER_PREFIX) :].lower()
    try:
        return unquote(key, errors="strict")
    except UnicodeDecodeError:
        return key


def requested_extras(headers: MultiMapping[str]) -> dict[str, list[str]]:
    """``Impersonate-Extra-<key>`` values by key (rule 1)."""
    extras: dict[str, list[str]] = {}
    names = {name.lower(): name for name in headers.keys()}  # noqa: SIM118 (a multidict)
    for _, name in sorted(names.items()):
        if not name.lower().startswith(EXTRA_HEADER_PREFIX.lower()):
            continue
        extras.setdefault(_extra_key(name), []).extend(headers.getall(name, []))
    return extras


async def impersonate(
    headers: MultiMapping[str], requester: UserInfo, authorizer: Authorizer
) -> UserInfo:
    """The identity the request runs as.

    Raises:
        ImpersonationRefused: the requester may not impersonate a requested part (403).
        InternalError: groups, a uid or extras asked for without a user (rule 2).
    """
    name = headers.get(USER_HEADER) or ""
    uid = headers.get(UID_HEADER) or ""
    groups_requested = [g for g in headers.getall(GROUP_HEADER, []) if g]
    extras = requested_extras(headers)
    if not name:
        if groups_requested or uid or extras:
            raise InternalError(
                "requested impersonation of groups, uid or extra without impersonating a user"
            )
        return requester

    async def check(
        resource: str, value: str, *, namespace: str = "", group: str = "", subresource: str = ""
    ) -> None:
        attributes = Attributes(
            user=requester,
            verb="impersonate",
            namespace=namespace,
            api_group=group,
            api_version="v1",
            resource=resource,
            subresource=subresource,
            name=value,
        )
        result = await decide(authorizer, attributes)
        if result.decision is not Decision.ALLOW:
            raise ImpersonationRefused(attributes, result.reason)

    service_account = split_service_account_username(name)
    if service_account is not None:
        await check("serviceaccounts", service_account[1], namespace=service_account[0])
    else:
        await check("users", name)
    if uid:
        await check("uids", uid, group=AUTHENTICATION_GROUP)
    for group in groups_requested:
        await check("groups", group)
    for key, values in extras.items():
        for value in values:
            await check("userextras", value, group=AUTHENTICATION_GROUP, subresource=key)
    return impersonated_user(name, groups_requested, uid=uid, extra=extras)
