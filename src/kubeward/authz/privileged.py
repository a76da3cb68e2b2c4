"""The authorizer that always allows the ``system:masters`` group.

Kubernetes puts ``authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)`` in front
of every authorizer chain, whatever ``--authorization-mode`` says (``pkg/kubeapiserver/
authorizer``), so that ``system:masters`` — the group of the API server's own loopback
identity and of break-glass credentials such as kubeadm's ``super-admin.conf`` — can never be
locked out by RBAC. The bootstrap ClusterRoleBinding ``cluster-admin`` grants the same group
everything through RBAC as well.

Rules:
 1. A user in any privileged group is allowed, with an empty reason (as upstream).
 2. Anyone else gets NO_OPINION and falls through to the configured modes.
 3. It is not a rule resolver: a SelfSubjectRulesReview reports what RBAC grants.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubeward.api.user import SYSTEM_MASTERS
from kubeward.authz.interfaces import NO_OPINION, Attributes, AuthzResult, Decision

NAME = "system-privileged-group"


class PrivilegedGroupsAuthorizer:
    name = NAME

    def __init__(self, groups: Iterable[str] = (SYSTEM_MASTERS,)) -> None:
        self.groups = frozenset(groups)

    def authorize(self, attributes: Attributes) -> AuthzResult:
        for group in attributes.user.groups:
            if group in self.groups:
                return AuthzResult(
                    Decision.ALLOW,
                    "",
                    (
                        f'allowed because the user is in the group "{group}", which is always allowed',
                    ),
                    NAME,
                )
        return NO_OPINION
