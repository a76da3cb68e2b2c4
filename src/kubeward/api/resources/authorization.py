"""authorization.k8s.io/v1: the access reviews, which are answered by the authorizer, never stored.

SubjectAccessReview (any user, cluster-scoped), LocalSubjectAccessReview (any user, one
namespace), SelfSubjectAccessReview (``kubectl auth can-i``) and SelfSubjectRulesReview
(``kubectl auth can-i --list``). The server answers them in ``server.authz_reviews``.
"""

from __future__ import annotations

from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import CREATE_ONLY, ResourceType

GROUP = "authorization.k8s.io"
SUBJECT_ACCESS_REVIEWS = ResourceType(
    GROUP,
    "v1",
    "SubjectAccessReview",
    "subjectaccessreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
)
LOCAL_SUBJECT_ACCESS_REVIEWS = ResourceType(
    GROUP,
    "v1",
    "LocalSubjectAccessReview",
    "localsubjectaccessreviews",
    True,
    verbs=CREATE_ONLY,
    stored=False,
)
SELF_SUBJECT_ACCESS_REVIEWS = ResourceType(
    GROUP,
    "v1",
    "SelfSubjectAccessReview",
    "selfsubjectaccessreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
)
SELF_SUBJECT_RULES_REVIEWS = ResourceType(
    GROUP,
    "v1",
    "SelfSubjectRulesReview",
    "selfsubjectrulesreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
)
TYPES = (
    LOCAL_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_RULES_REVIEWS,
    SUBJECT_ACCESS_REVIEWS,
)
STRATEGIES: dict[ResourceType, type[Strategy]] = {}
