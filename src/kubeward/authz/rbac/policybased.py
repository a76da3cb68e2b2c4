"""The RBAC kinds' write checks: nobody grants through the API what they do not hold.

Upstream wraps the REST storage of Role, ClusterRole, RoleBinding and ClusterRoleBinding in a
"policy-based" storage (``pkg/registry/rbac/*/policybased``) that checks every create and
update against the writer's own permissions before the object is stored. kubeward attaches
the same check to those four stores as a :data:`kubeward.api.registry.scope.WriteCheck`, so it
runs on every write that comes from a request — create, update, patch, apply — with the
request's scope, after validation and before validating admission. Rules:

 1. Roles and ClusterRoles: ``authz.rbac.escalation.check_role_write`` (the ``escalate`` verb,
    or holding every permission granted; the aggregationRule needs cluster-admin).
 2. RoleBindings and ClusterRoleBindings: ``check_binding_write`` (the ``bind`` verb, or
    holding every permission of the referenced role).
 3. Deletes are not checked, and neither are the server's own writes (bootstrap policy,
    aggregation), which carry no scope.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope, WriteCheck
from kubeward.authz.interfaces import Authorizer
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.escalation import (
    BINDING_RESOURCES,
    ROLE_RESOURCES,
    check_binding_write,
    check_role_write,
)


def escalation_check(authorizer: Authorizer, rbac: RBACAuthorizer, resource: str) -> WriteCheck:
    """The write check of one RBAC resource (``roles``, ``clusterrolebindings``, …).

    ``authorizer`` is the whole chain (for the ``escalate`` and ``bind`` verbs), ``rbac`` the
    RBAC authorizer whose rules the writer's own are read from.

    Raises:
        ValueError: ``resource`` is not one of the four RBAC resources.
    """
    if resource in ROLE_RESOURCES:
        check = check_role_write
    elif resource in BINDING_RESOURCES:
        check = check_binding_write
    else:
        raise ValueError(f"not an RBAC resource: {resource}")

    def refuse_escalation(
        scope: RequestScope, namespace: str, new: JSONObject, old: JSONObject | None
    ) -> None:
        error = check(
            authorizer=authorizer,
            rbac=rbac,
            user=scope.user,
            resource=resource,
            namespace=namespace,
            new=new,
            old=old,
        )
        if error is not None:
            raise error

    return refuse_escalation
