"""authorization.k8s.io/v1: the access reviews, which are answered by the authorizer, never stored.

SubjectAccessReview (any user, cluster-scoped), LocalSubjectAccessReview (any user, one
namespace), SelfSubjectAccessReview (``kubectl auth can-i``) and SelfSubjectRulesReview
(``kubectl auth can-i --list``). The server answers them in ``server.authz_reviews``.

``v1beta1`` SubjectAccessReview (``spec.group`` for the groups) is also answered, with the
deprecation warning kube-apiserver sent before removing it in 1.22: the course's example uses
it, and a learner should see the warning rather than "no matches for kind". ``v1`` stays the
preferred version.
"""

from __future__ import annotations

import copy
from typing import Any

from kubeward.api.openapi.catalog import REF_PREFIX, all_schemas
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


def _v1beta1_schema() -> dict[str, Any]:
    """v1's SubjectAccessReview schema with ``spec.groups`` named ``group``, as v1beta1 had it."""
    v1 = "io.k8s.api.authorization.v1."
    spec = copy.deepcopy(all_schemas()[f"{v1}SubjectAccessReviewSpec"])
    spec["properties"]["group"] = spec["properties"].pop("groups")
    return {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": spec,
            "status": {"allOf": [{"$ref": f"{REF_PREFIX}{v1}SubjectAccessReviewStatus"}]},
        },
    }


SUBJECT_ACCESS_REVIEWS_V1BETA1 = ResourceType(
    GROUP,
    "v1beta1",
    "SubjectAccessReview",
    "subjectaccessreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
    openapi_schema=_v1beta1_schema(),
)
TYPES = (
    LOCAL_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_RULES_REVIEWS,
    SUBJECT_ACCESS_REVIEWS,
    SUBJECT_ACCESS_REVIEWS_V1BETA1,  # after every v1 kind: v1 is the preferred version
)
STRATEGIES: dict[ResourceType, type[Strategy]] = {}
