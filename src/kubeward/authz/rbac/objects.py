"""The four RBAC kinds as values the authorizer reads, parsed from their JSON objects.

Roles and bindings reach the authorizer as the Kubernetes JSON dicts of watch events. Parsing
them once into frozen values keeps the per-request path free of dict digging. The rules of who
a binding applies to are Kubernetes' (``pkg/registry/rbac/validation/rule.go`` ``appliesTo``):

 1. A ``User`` subject applies to the user of that name; a ``Group`` subject to every member of
    that group. Their ``apiGroup`` is not consulted when deciding.
 2. A ``ServiceAccount`` subject applies to the user ``system:serviceaccount:NS:NAME``. In a
    RoleBinding an empty ``namespace`` means the binding's own namespace; in a
    ClusterRoleBinding a ServiceAccount without a namespace applies to no one.
 3. Any other subject kind applies to no one.
 4. A ClusterRoleBinding may refer only to a ClusterRole; a RoleBinding to a Role of its own
    namespace or to a ClusterRole, whose rules it then grants only inside its namespace.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from kubeward.api.user import service_account_username
from kubeward.authz.rbac.rules import PolicyRule, go_quote, rules_from_list

RBAC_GROUP = "rbac.authorization.k8s.io"

ROLE = "Role"
CLUSTER_ROLE = "ClusterRole"
ROLE_BINDING = "RoleBinding"
CLUSTER_ROLE_BINDING = "ClusterRoleBinding"
KINDS = (ROLE, CLUSTER_ROLE, ROLE_BINDING, CLUSTER_ROLE_BINDING)

USER = "User"
GROUP = "Group"
SERVICE_ACCOUNT = "ServiceAccount"

# A namespace no role can have (names are DNS labels): the role key of a roleRef that cannot
# resolve, such as a ClusterRoleBinding's reference to a Role.
UNRESOLVABLE = "/"

# How a binding is found from the requester: ("User", name) or ("Group", name). A service
# account is a user, so its subjects are indexed under ("User", "system:serviceaccount:NS:N").
SubjectKey = tuple[str, str]


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # JSON objects are dicts; the ABC check is the slow path for other mappings.
    return type(value) is dict or isinstance(value, Mapping)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if _is_mapping(meta) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""
    api_group: str = ""

    @classmethod
    def from_dict(cls, subject: Mapping[str, Any]) -> Subject:
        return cls(
            kind=_text(subject.get("kind")),
            name=_text(subject.get("name")),
            namespace=_text(subject.get("namespace")),
            api_group=_text(subject.get("apiGroup")),
        )

    def describe(self, binding_namespace: str) -> str:
        """Kubernetes' ``describeSubject``: ``User "jane"`` or ``ServiceAccount "builder/ci"``."""
        if self.kind == SERVICE_ACCOUNT:
            return (
                f"{self.kind} {go_quote(self.name + '/' + (self.namespace or binding_namespace))}"
            )
        return f"{self.kind} {go_quote(self.name)}"


@dataclass(frozen=True)
class RoleRef:
    api_group: str
    kind: str
    name: str

    @classmethod
    def from_dict(cls, ref: object) -> RoleRef:
        if not _is_mapping(ref):
            return cls("", "", "")
        return cls(_text(ref.get("apiGroup")), _text(ref.get("kind")), _text(ref.get("name")))

    def to_dict(self) -> dict[str, str]:
        return {"apiGroup": self.api_group, "kind": self.kind, "name": self.name}


@dataclass(frozen=True)
class Role:
    """A Role (``namespace`` set) or a ClusterRole (``namespace`` empty) and its rules."""

    kind: str
    namespace: str
    name: str
    rules: tuple[PolicyRule, ...]

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], kind: str) -> Role:
        meta = _meta(obj)
        namespace = _text(meta.get("namespace")) if kind == ROLE else ""
        return cls(kind, namespace, _text(meta.get("name")), rules_from_list(obj.get("rules")))

    def describe(self) -> str:
        if self.kind == ROLE:
            return f"Role {go_quote(self.name)} in namespace {go_quote(self.namespace)}"
        return f"ClusterRole {go_quote(self.name)}"


@dataclass(frozen=True)
class Binding:
    """A RoleBinding (``namespace`` set) or a ClusterRoleBinding (``namespace`` empty)."""

    kind: str
    namespace: str
    name: str
    role_ref: RoleRef
    subjects: tuple[Subject, ...]

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], kind: str) -> Binding:
        meta = _meta(obj)
        namespace = _text(meta.get("namespace")) if kind == ROLE_BINDING else ""
        raw = obj.get("subjects")
        subjects = tuple(
            Subject.from_dict(s) for s in (raw if isinstance(raw, list) else []) if _is_mapping(s)
        )
        return cls(
            kind,
            namespace,
            _text(meta.get("name")),
            RoleRef.from_dict(obj.get("roleRef")),
            subjects,
        )

    @functools.cached_property
    def role_key(self) -> tuple[str, str]:
        """Where the role referred to is found: ``("", name)`` for a ClusterRole,
        ``(namespace, name)`` for a Role of a RoleBinding's namespace, and a key no role has
        for anything else (a ClusterRoleBinding cannot refer to a Role)."""
        if self.role_ref.kind == CLUSTER_ROLE:
            return ("", self.role_ref.name)
        if self.role_ref.kind == ROLE and self.namespace:
            return (self.namespace, self.role_ref.name)
        return (UNRESOLVABLE, self.role_ref.name)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    def subject_user(self, subject: Subject) -> str | None:
        """The user a ServiceAccount subject stands for, or None if it applies to no one."""
        namespace = subject.namespace or (self.namespace if self.kind == ROLE_BINDING else "")
        if not namespace:
            return None
        return service_account_username(namespace, subject.name)

    def subject_key(self, subject: Subject) -> SubjectKey | None:
        """The index key under which ``subject`` is found, or None if it applies to no one."""
        if subject.kind == USER:
            return (USER, subject.name)
        if subject.kind == GROUP:
            return (GROUP, subject.name)
        if subject.kind == SERVICE_ACCOUNT:
            user = self.subject_user(subject)
            return None if user is None else (USER, user)
        return None

    def subject_keys(self) -> tuple[SubjectKey, ...]:
        keys: dict[SubjectKey, None] = {}
        for subject in self.subjects:
            key = self.subject_key(subject)
            if key is not None:
                keys[key] = None
        return tuple(keys)

    def describe(self, subject: Subject) -> str:
        """How Kubernetes names a binding in its allow reasons (``rule.go`` describers).

        ``ClusterRoleBinding "admins" of ClusterRole "cluster-admin" to Group "ops"`` or
        ``RoleBinding "dev/default" of Role "developer" to User "jane"``.
        """
        name = self.name if self.kind == CLUSTER_ROLE_BINDING else f"{self.name}/{self.namespace}"
        return (
            f"{self.kind} {go_quote(name)} of {self.role_ref.kind} {go_quote(self.role_ref.name)}"
            f" to {subject.describe(self.namespace)}"
        )

    def display_name(self) -> str:
        """``ClusterRoleBinding "admins"`` or ``RoleBinding "dev" in namespace "default"``."""
        if self.kind == ROLE_BINDING:
            return f"RoleBinding {go_quote(self.name)} in namespace {go_quote(self.namespace)}"
        return f"ClusterRoleBinding {go_quote(self.name)}"


def role_ref_error(ref: RoleRef, binding_namespace: str) -> str:
    """The error Kubernetes' rule resolver reports for a roleRef that does not resolve.

    These are the lister messages (singular resource names), which upstream puts in the
    RBAC denial reason: ``RBAC: role.rbac.authorization.k8s.io "developer" not found``.
    """
    if ref.kind == ROLE:
        return f"role.{RBAC_GROUP} {go_quote(ref.name)} not found"
    if ref.kind == CLUSTER_ROLE:
        return f"clusterrole.{RBAC_GROUP} {go_quote(ref.name)} not found"
    return f"unsupported role reference kind: {go_quote(ref.kind)}"
