"""The ``authorizer`` of a policy's expressions: checks asked of the server's authorizer chain.

Rules (``admission/plugin/authorizer`` and ``cel/library/authz.go`` of k8s.io/apiserver 1.32):
 1. A check is asked as the requester, or as ``system:serviceaccount:NS:NAME`` (with the groups
    ``system:serviceaccounts``, ``system:serviceaccounts:NS`` and ``system:authenticated``)
    after ``authorizer.serviceAccount(NS, NAME)``.
 2. A resource check names the group, resource, subresource, namespace and name given; a path
    check the non-resource path. The decision is allowed only when the chain allows; its reason
    and error are the chain's.
 3. The decisions of one write are cached: the same check asked twice is decided once, as
    upstream's caching authorizer does.
 4. Without an authorizer (a chain built without one), every check is an evaluation error.
"""

from __future__ import annotations

from kubeward.api.user import (
    ALL_AUTHENTICATED,
    UserInfo,
    service_account_groups,
    split_service_account_username,
)
from kubeward.authz.interfaces import Attributes, Authorizer, Decision


class RequestChecks:
    """Rules 1-3 for one write (a :data:`kubeward.cel.library.authz.Checker`)."""

    def __init__(self, authorizer: Authorizer, requester: UserInfo) -> None:
        self._authorizer = authorizer
        self._requester = requester
        self._decided: dict[tuple[tuple[str, str], ...], tuple[bool, str, str]] = {}

    def _user(self, name: str) -> UserInfo:
        account = split_service_account_username(name) if name else None
        if account is None:
            return self._requester
        groups = (*service_account_groups(account[0]), ALL_AUTHENTICATED)
        return UserInfo(name, groups=groups)

    def __call__(self, attributes: dict[str, str]) -> tuple[bool, str, str]:
        key = tuple(sorted(attributes.items()))
        found = self._decided.get(key)
        if found is not None:
            return found
        user = self._user(attributes.get("user", ""))
        verb = attributes.get("verb", "")
        if "path" in attributes:
            asked = Attributes(user, verb, resource_request=False, path=attributes["path"])
        else:
            asked = Attributes(
                user,
                verb,
                namespace=attributes.get("namespace", ""),
                api_group=attributes.get("group", ""),
                resource=attributes.get("resource", ""),
                subresource=attributes.get("subresource", ""),
                name=attributes.get("name", ""),
            )
        result = self._authorizer.authorize(asked)
        decided = (result.decision is Decision.ALLOW, result.reason, result.error)
        self._decided[key] = decided
        return decided
