"""authentication.k8s.io/v1: the review kinds, which are answered, never stored."""

from __future__ import annotations

from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import CREATE_ONLY, ResourceType

SELF_SUBJECT_REVIEWS = ResourceType(
    "authentication.k8s.io",
    "v1",
    "SelfSubjectReview",
    "selfsubjectreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
)
TOKEN_REVIEWS = ResourceType(
    "authentication.k8s.io",
    "v1",
    "TokenReview",
    "tokenreviews",
    False,
    verbs=CREATE_ONLY,
    stored=False,
)
TYPES = (SELF_SUBJECT_REVIEWS, TOKEN_REVIEWS)
STRATEGIES: dict[ResourceType, type[Strategy]] = {}
