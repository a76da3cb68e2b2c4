"""rbac.authorization.k8s.io/v1: roles, rolebindings, clusterroles, clusterrolebindings.

Validation is Kubernetes' (``api.validation.rbac``); object names are path segments, not DNS
names. Escalation prevention needs the authorizer and so lives above this layer, in
``authz.rbac.policybased``: a write check the server attaches to these four stores.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import rbac as v
from kubeward.api.validation.meta import check_path_segment_name
from kubeward.errors import Cause

GROUP = "rbac.authorization.k8s.io"
ROLES = ResourceType(GROUP, "v1", "Role", "roles", True)
ROLE_BINDINGS = ResourceType(GROUP, "v1", "RoleBinding", "rolebindings", True)
CLUSTER_ROLES = ResourceType(GROUP, "v1", "ClusterRole", "clusterroles", False)
CLUSTER_ROLE_BINDINGS = ResourceType(
    GROUP, "v1", "ClusterRoleBinding", "clusterrolebindings", False
)
TYPES = (CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES)


class _RBACStrategy(Strategy):
    name_check = staticmethod(check_path_segment_name)
    generation_fields = ()


class RoleStrategy(_RBACStrategy):
    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_role(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_role_update(new, old)


class ClusterRoleStrategy(_RBACStrategy):
    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_cluster_role(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_cluster_role_update(new, old)


class RoleBindingStrategy(_RBACStrategy):
    def default(self, obj: JSONObject) -> None:
        v.default_binding(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_role_binding(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_role_binding_update(new, old)


class ClusterRoleBindingStrategy(_RBACStrategy):
    def default(self, obj: JSONObject) -> None:
        v.default_binding(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_cluster_role_binding(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_cluster_role_binding_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    ROLES: RoleStrategy,
    ROLE_BINDINGS: RoleBindingStrategy,
    CLUSTER_ROLES: ClusterRoleStrategy,
    CLUSTER_ROLE_BINDINGS: ClusterRoleBindingStrategy,
}
