"""Who can do something: every user, group and service account, and through what.

Computed from the same index the authorizer decides with, so it cannot disagree with it:

 1. ``system:masters`` is always listed first: the privileged-group authorizer in front of
    every chain allows it whatever RBAC says.
 2. Every ClusterRole whose rules allow the action grants it through each ClusterRoleBinding
    referring to it, and — for a request in a namespace — through each RoleBinding of that
    namespace referring to it.
 3. Every Role of the request's namespace whose rules allow the action grants it through the
    RoleBindings of that namespace referring to it.
 4. A cluster-wide request (no namespace) is granted only through ClusterRoleBindings.
 5. A ServiceAccount subject without a namespace counts in a RoleBinding as the binding's
    namespace and, in a ClusterRoleBinding, as no one (it is left out).

The requester in the attributes is ignored: the question is about everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubeward.api.user import SYSTEM_MASTERS
from kubeward.authz.interfaces import Attributes
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.objects import (
    CLUSTER_ROLE,
    GROUP,
    ROLE,
    SERVICE_ACCOUNT,
    USER,
    Binding,
    Role,
)
from kubeward.authz.rbac.rules import rules_allow

_KIND_ORDER = {GROUP: 0, USER: 1, SERVICE_ACCOUNT: 2}


@dataclass(frozen=True)
class Grant:
    """One subject allowed to do the action, and the binding and role that allow it.

    ``subject_namespace`` is set for service accounts; ``binding_namespace`` for RoleBindings.
    For ``system:masters`` the binding and role fields are empty and ``always_allowed`` is set.
    """

    subject_kind: str
    subject_name: str
    subject_namespace: str = ""
    binding_kind: str = ""
    binding_name: str = ""
    binding_namespace: str = ""
    role_kind: str = ""
    role_name: str = ""
    always_allowed: bool = False

    def to_dict(self) -> dict[str, object]:
        subject: dict[str, str] = {"kind": self.subject_kind, "name": self.subject_name}
        if self.subject_namespace:
            subject["namespace"] = self.subject_namespace
        if self.always_allowed:
            return {"subject": subject, "alwaysAllowed": True}
        binding = {"kind": self.binding_kind, "name": self.binding_name}
        if self.binding_namespace:
            binding["namespace"] = self.binding_namespace
        return {
            "subject": subject,
            "binding": binding,
            "role": {"kind": self.role_kind, "name": self.role_name},
        }

    def sort_key(self) -> tuple[object, ...]:
        return (
            not self.always_allowed,
            _KIND_ORDER.get(self.subject_kind, 3),
            self.subject_namespace,
            self.subject_name,
            self.binding_kind,
            self.binding_namespace,
            self.binding_name,
        )


def _grants(binding: Binding, role: Role) -> list[Grant]:
    grants = []
    for subject in binding.subjects:
        namespace = ""
        if subject.kind == SERVICE_ACCOUNT:
            namespace = subject.namespace or binding.namespace
            if not namespace:
                continue
        elif subject.kind not in (USER, GROUP):
            continue
        grants.append(
            Grant(
                subject.kind,
                subject.name,
                namespace,
                binding.kind,
                binding.name,
                binding.namespace,
                role.kind,
                role.name,
            )
        )
    return grants


def who_can(index: RBACIndex, attributes: Attributes) -> list[Grant]:
    """Every subject that may do what ``attributes`` describes (its ``user`` is ignored)."""
    found: dict[Grant, None] = {Grant(GROUP, SYSTEM_MASTERS, always_allowed=True): None}
    namespace = attributes.namespace
    for role in index.cluster_roles():
        if not rules_allow(attributes, role.rules):
            continue
        bindings = index.bindings_referring_to("", CLUSTER_ROLE, role.name)
        if namespace:
            bindings += index.bindings_referring_to(namespace, CLUSTER_ROLE, role.name)
        for binding in bindings:
            found.update(dict.fromkeys(_grants(binding, role)))
    if namespace:
        for role in index.roles_in(namespace):
            if not rules_allow(attributes, role.rules):
                continue
            for binding in index.bindings_referring_to(namespace, ROLE, role.name):
                found.update(dict.fromkeys(_grants(binding, role)))
    return sorted(found, key=Grant.sort_key)
