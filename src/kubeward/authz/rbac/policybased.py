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
 4. The ``escalate`` or ``bind`` question goes to the whole chain, awaited, so a Webhook mode
    is asked as for any request; the checks then read that one answer.
"""

from __future__ import annotations

from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope, WriteCheck
from kubeward.authz.interfaces import NO_OPINION, Attributes, Authorizer, AuthzResult, decide
from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.escalation import (
    BINDING_RESOURCES,
    ROLE_RESOURCES,
    bind_attributes,
    check_binding_write,
    check_role_write,
    escalate_attributes,
)
from kubeward.authz.rbac.objects import RoleRef


class _Answered:
    """The chain's answer to the one question the check asks (rule 4)."""

    name = "chain"

    def __init__(self, attributes: Attributes | None, result: AuthzResult) -> None:
        self.attributes = attributes
        self.result = result

    def authorize(self, attributes: Attributes) -> AuthzResult:
        return self.result if attributes == self.attributes else NO_OPINION


def _verb_attributes(
    resource: str, scope: RequestScope, namespace: str, new: JSONObject
) -> Attributes | None:
    if resource in ROLE_RESOURCES:
        name = str((new.get("metadata") or {}).get("name") or "")
        return escalate_attributes(scope.user, resource=resource, namespace=namespace, name=name)
    return bind_attributes(scope.user, RoleRef.from_dict(new.get("roleRef")), namespace)


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

    async def refuse_escalation(
        scope: RequestScope, namespace: str, new: JSONObject, old: JSONObject | None
    ) -> None:
        asked = _verb_attributes(resource, scope, namespace, new)
        answer = await decide(authorizer, asked) if asked is not None else NO_OPINION
        error = check(
            authorizer=_Answered(asked, answer),
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
