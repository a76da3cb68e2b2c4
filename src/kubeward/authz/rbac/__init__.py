"""Role-based access control: Kubernetes' RBAC authorizer over an index kept current by watches.

Modules: ``rules`` (matching), ``objects`` (the four kinds as values), ``index`` (bindings by
subject), ``authorizer`` (decisions and rule listing), ``explain`` (the trail behind each
decision), ``whocan``, ``escalation`` (nobody grants what they lack), ``aggregation``
(aggregated ClusterRoles) and ``bootstrap`` (the default policy and its reconciliation).
"""

from kubeward.authz.rbac.authorizer import RBACAuthorizer
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.rules import PolicyRule

__all__ = ["PolicyRule", "RBACAuthorizer", "RBACIndex"]
