"""An in-memory index of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.

Kubernetes' RBAC authorizer lists every ClusterRoleBinding, and every RoleBinding of the
request's namespace, on each request and checks whether each applies to the requester. This
index instead files every binding under the subjects it names, so a decision looks up only the
bindings of the requester's user name and groups: its cost does not grow with the number of
unrelated bindings.

Rules:
 1. The index is kept current by :meth:`RBACIndex.apply` with the events of a watch on the
    four kinds (``ADDED``, ``MODIFIED``, ``DELETED``; ``BOOKMARK`` is ignored). An ``ADDED`` of
    an object already present replaces it; after a broken watch, :meth:`RBACIndex.replace`
    loads a fresh list, forgetting objects deleted meanwhile.
 2. A binding is filed under ``("User", name)`` for User subjects, ``("Group", name)`` for
    Group subjects and ``("User", "system:serviceaccount:NS:NAME")`` for ServiceAccount
    subjects (``objects`` rule 2); a ClusterRoleBinding's ServiceAccount subject without a
    namespace is filed apart, as a near miss for explanations.
 3. Bindings are also filed under the role they refer to, for who-can queries.
 4. Roles are looked up by reference at decision time, so a binding to a role created later
    starts to grant as soon as the role arrives, as in Kubernetes.

Concurrency: the index is meant for one asyncio event loop. ``apply`` and every reader are
plain synchronous code that never awaits, so each decision sees the index as one consistent
state. Do not call ``apply`` from another thread while decisions run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, ValuesView
from typing import Any

from kubeward.authz.rbac.objects import (
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    GROUP,
    KINDS,
    ROLE,
    SERVICE_ACCOUNT,
    USER,
    Binding,
    Role,
    RoleRef,
    SubjectKey,
)

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"

_Bucket = dict[tuple[str, str, str], Binding]


def _add(buckets: dict[Any, _Bucket], key: Any, binding: Binding) -> None:
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = {}
    bucket[binding.key] = binding


def _remove(buckets: dict[Any, _Bucket], key: Any, binding: Binding) -> None:
    bucket = buckets.get(key)
    if bucket is not None:
        bucket.pop(binding.key, None)
        if not bucket:
            del buckets[key]


class RBACIndex:
    """The four RBAC kinds, indexed by subject and by role reference."""

    def __init__(self) -> None:
        self.generation = 0
        self._clear()

    def _clear(self) -> None:
        # Roles by (namespace, name) and ClusterRoles by ("", name), in one table.
        self._role_table: dict[tuple[str, str], Role] = {}
        self._roles: dict[tuple[str, str], Role] = {}
        self._cluster_roles: dict[str, Role] = {}
        self._bindings: dict[tuple[str, str, str], Binding] = {}
        # ClusterRoleBindings by subject kind ("User" or "Group"), then name.
        self._cluster: dict[str, dict[str, _Bucket]] = {USER: {}, GROUP: {}}
        # RoleBindings by subject kind, then name, then namespace.
        self._namespaced: dict[str, dict[str, dict[str, _Bucket]]] = {USER: {}, GROUP: {}}
        # ClusterRoleBindings naming a ServiceAccount without a namespace, by its name.
        self._service_accounts_without_namespace: dict[str, _Bucket] = {}
        # Bindings by the role they refer to: (namespace of the binding, kind, role name).
        self._by_role: dict[tuple[str, str, str], _Bucket] = {}

    # --- keeping current ------------------------------------------------------------------

    def apply(self, event_type: str, obj: Mapping[str, Any], kind: str | None = None) -> None:
        """Apply one watch event for any of the four kinds.

        Args:
            event_type: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK`` (ignored).
            obj: the object as Kubernetes JSON.
            kind: the object's kind, when ``obj`` carries no ``kind`` field.

        Raises:
            ValueError: an unknown event type or a kind that is not one of the four.
        """
        if event_type == BOOKMARK:
            return
        kind = kind or str(obj.get("kind") or "")
        if kind not in KINDS:
            raise ValueError(f"RBAC index: not an RBAC kind: {kind!r}")
        if event_type in (ADDED, MODIFIED):
            self._put(obj, kind)
        elif event_type == DELETED:
            self._delete(obj, kind)
        else:
            raise ValueError(f"RBAC index: unknown watch event type {event_type!r}")
        self.generation += 1

    def load(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Apply ``ADDED`` for each object (each must carry its ``kind``)."""
        for obj in objects:
            self.apply(ADDED, obj)

    def replace(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Forget everything and load ``objects``: the result of a re-list after a broken watch,
        which may have missed deletions."""
        self._clear()
        self.generation += 1
        self.load(objects)

    def _put(self, obj: Mapping[str, Any], kind: str) -> None:
        if kind == ROLE:
            role = Role.from_dict(obj, ROLE)
            if role.namespace:
                self._roles[(role.namespace, role.name)] = role
                self._role_table[(role.namespace, role.name)] = role
        elif kind == CLUSTER_ROLE:
            role = Role.from_dict(obj, CLUSTER_ROLE)
            self._cluster_roles[role.name] = role
            self._role_table[("", role.name)] = role
        else:
            binding = Binding.from_dict(obj, kind)
            old = self._bindings.get(binding.key)
            if old is not None:
                self._unfile(old)
            self._bindings[binding.key] = binding
            self._file(binding)

    def _delete(self, obj: Mapping[str, Any], kind: str) -> None:
        if kind == ROLE:
            role = Role.from_dict(obj, ROLE)
            if role.namespace:
                self._roles.pop((role.namespace, role.name), None)
                self._role_table.pop((role.namespace, role.name), None)
        elif kind == CLUSTER_ROLE:
            name = Role.from_dict(obj, CLUSTER_ROLE).name
            self._cluster_roles.pop(name, None)
            self._role_table.pop(("", name), None)
        else:
            key = Binding.from_dict(obj, kind).key
            old = self._bindings.pop(key, None)
            if old is not None:
                self._unfile(old)

    def _file(self, binding: Binding) -> None:
        for kind, name in binding.subject_keys():
            if binding.kind == CLUSTER_ROLE_BINDING:
                _add(self._cluster[kind], name, binding)
            else:
                _add(self._namespaced[kind].setdefault(name, {}), binding.namespace, binding)
        for name in self._namespaceless_service_accounts(binding):
            _add(self._service_accounts_without_namespace, name, binding)
        _add(self._by_role, self._role_key(binding), binding)

    def _unfile(self, binding: Binding) -> None:
        for kind, name in binding.subject_keys():
            if binding.kind == CLUSTER_ROLE_BINDING:
                _remove(self._cluster[kind], name, binding)
            else:
                per_namespace = self._namespaced[kind].get(name)
                if per_namespace is not None:
                    _remove(per_namespace, binding.namespace, binding)
                    if not per_namespace:
                        del self._namespaced[kind][name]
        for name in self._namespaceless_service_accounts(binding):
            _remove(self._service_accounts_without_namespace, name, binding)
        _remove(self._by_role, self._role_key(binding), binding)

    @staticmethod
    def _namespaceless_service_accounts(binding: Binding) -> list[str]:
        if binding.kind != CLUSTER_ROLE_BINDING:
            return []
        return [s.name for s in binding.subjects if s.kind == SERVICE_ACCOUNT and not s.namespace]

    @staticmethod
    def _role_key(binding: Binding) -> tuple[str, str, str]:
        return (binding.namespace, binding.role_ref.kind, binding.role_ref.name)

    # --- lookups for decisions ------------------------------------------------------------

    def candidate_buckets(
        self, user: str, groups: Iterable[str], namespace: str
    ) -> list[ValuesView[Binding]]:
        """The bindings that may apply to a requester, for the decision's hot path.

        ClusterRoleBindings first, then the RoleBindings of ``namespace``: one group of
        bindings for the user name and one per group. A binding naming the user under two
        subjects appears twice.
        """
        found: list[ValuesView[Binding]] = []
        by_group = self._cluster[GROUP]
        bucket = self._cluster[USER].get(user)
        if bucket:
            found.append(bucket.values())
        for group in groups:
            bucket = by_group.get(group)
            if bucket:
                found.append(bucket.values())
        if namespace:
            per_namespace = self._namespaced[USER].get(user)
            if per_namespace:
                bucket = per_namespace.get(namespace)
                if bucket:
                    found.append(bucket.values())
            namespaced_groups = self._namespaced[GROUP]
            for group in groups:
                per_namespace = namespaced_groups.get(group)
                if per_namespace:
                    bucket = per_namespace.get(namespace)
                    if bucket:
                        found.append(bucket.values())
        return found

    def cluster_bindings_for(self, keys: Iterable[SubjectKey]) -> Iterator[Binding]:
        """ClusterRoleBindings naming any of ``keys``, each once."""
        seen: set[tuple[str, str, str]] = set()
        for kind, name in keys:
            for bkey, binding in self._cluster.get(kind, {}).get(name, {}).items():
                if bkey not in seen:
                    seen.add(bkey)
                    yield binding

    def namespace_bindings_for(
        self, namespace: str, keys: Iterable[SubjectKey]
    ) -> Iterator[Binding]:
        """RoleBindings of ``namespace`` naming any of ``keys``, each once."""
        seen: set[tuple[str, str, str]] = set()
        for kind, name in keys:
            bucket = self._namespaced.get(kind, {}).get(name, {}).get(namespace, {})
            for bkey, binding in bucket.items():
                if bkey not in seen:
                    seen.add(bkey)
                    yield binding

    def role_bindings_anywhere_for(self, keys: Iterable[SubjectKey]) -> Iterator[Binding]:
        """RoleBindings of every namespace naming any of ``keys`` (for explanations)."""
        seen: set[tuple[str, str, str]] = set()
        for kind, name in keys:
            for bucket in self._namespaced.get(kind, {}).get(name, {}).values():
                for bkey, binding in bucket.items():
                    if bkey not in seen:
                        seen.add(bkey)
                        yield binding

    def cluster_bindings_with_namespaceless_service_account(self, name: str) -> list[Binding]:
        return list(self._service_accounts_without_namespace.get(name, {}).values())

    def role_of(self, binding: Binding) -> Role | None:
        """The Role or ClusterRole ``binding`` refers to, or None if it does not exist."""
        return self._role_table.get(binding.role_key)

    def role_for(self, ref: RoleRef, binding_namespace: str) -> Role | None:
        """The Role or ClusterRole a binding refers to, or None if it does not exist."""
        if ref.kind == CLUSTER_ROLE:
            return self._cluster_roles.get(ref.name)
        if ref.kind == ROLE and binding_namespace:
            return self._roles.get((binding_namespace, ref.name))
        return None

    # --- lookups for who-can, aggregation and tooling -------------------------------------

    def cluster_role(self, name: str) -> Role | None:
        return self._cluster_roles.get(name)

    def role(self, namespace: str, name: str) -> Role | None:
        return self._roles.get((namespace, name))

    def cluster_roles(self) -> list[Role]:
        return list(self._cluster_roles.values())

    def roles_in(self, namespace: str) -> list[Role]:
        return [r for (ns, _), r in self._roles.items() if ns == namespace]

    def bindings_referring_to(self, binding_namespace: str, kind: str, name: str) -> list[Binding]:
        """Bindings of ``binding_namespace`` (``""``: ClusterRoleBindings) referring to a role."""
        return list(self._by_role.get((binding_namespace, kind, name), {}).values())

    def bindings(self) -> list[Binding]:
        return list(self._bindings.values())

    def __len__(self) -> int:
        return len(self._roles) + len(self._cluster_roles) + len(self._bindings)
