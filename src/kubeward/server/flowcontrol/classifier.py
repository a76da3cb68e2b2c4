"""Which FlowSchema a request matches, and which flow within it, as upstream classifies.

Rules (k8s.io/apiserver ``pkg/util/flowcontrol``, ``matchesFlowSchema``):
 1. FlowSchemas are tried in order of ``matchingPrecedence`` (lowest first), ties broken by
    name; the first one with a matching rule wins. Dangling schemas (their priority level is
    missing) are skipped.
 2. A rule matches when one of its subjects matches the user and one of its resource rules
    (for a resource request) or non-resource rules (otherwise) matches the request.
 3. Subjects: a ``User`` by name, a ``Group`` by one of the user's groups, a ``ServiceAccount``
    by namespace and name (``system:serviceaccount:NS:NAME``); ``*`` matches any name.
 4. Resource rules: the verb, the API group and the resource are each listed or ``*``; a
    subresource is listed as ``resource/subresource``. A namespaced request needs its
    namespace (or ``*``) in ``namespaces``; a cluster-scoped one needs ``clusterScope``.
 5. Non-resource rules: the verb is listed or ``*``; a URL matches exactly, or ``*``, or a
    ``/prefix/*`` entry matches what is under the prefix.
 6. The flow distinguisher is the user name (``ByUser``), the namespace (``ByNamespace``) or
    nothing; the flow is the pair (schema name, distinguisher).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubeward.api.request_info import RequestInfo
from kubeward.api.user import UserInfo, split_service_account_username
from kubeward.server.flowcontrol.config import (
    ALL,
    BY_NAMESPACE,
    BY_USER,
    FlowSchema,
    NonResourceRule,
    PolicyRule,
    ResourceRule,
    Subject,
)


def ordered(schemas: Iterable[FlowSchema]) -> list[FlowSchema]:
    """Rule 1's order."""
    return sorted(schemas, key=lambda s: (s.matching_precedence, s.name))


def _listed(value: str, allowed: Sequence[str]) -> bool:
    return ALL in allowed or value in allowed


def subject_matches(subject: Subject, user: UserInfo) -> bool:
    """Rule 3."""
    if subject.kind == "User":
        return subject.name in (ALL, user.name)
    if subject.kind == "Group":
        return subject.name == ALL or subject.name in user.groups
    if subject.kind == "ServiceAccount":
        found = split_service_account_username(user.name)
        if found is None:
            return False
        namespace, name = found
        return subject.namespace == namespace and subject.name in (ALL, name)
    return False


def resource_rule_matches(rule: ResourceRule, info: RequestInfo) -> bool:
    """Rule 4."""
    if not _listed(info.verb, rule.verbs) or not _listed(info.api_group, rule.api_groups):
        return False
    resource = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
    if not _listed(resource, rule.resources):
        return False
    if not info.namespace:
        return rule.cluster_scope
    return _listed(info.namespace, rule.namespaces)


def non_resource_rule_matches(rule: NonResourceRule, info: RequestInfo) -> bool:
    """Rule 5."""
    if not _listed(info.verb, rule.verbs):
        return False
    for url in rule.urls:
        if url in (ALL, info.path):
            return True
        if url.endswith("/*") and info.path.startswith(url[:-1]):
            return True
    return False


def rule_matches(rule: PolicyRule, user: UserInfo, info: RequestInfo) -> bool:
    """Rule 2."""
    if not any(subject_matches(s, user) for s in rule.subjects):
        return False
    if info.is_resource_request:
        return any(resource_rule_matches(r, info) for r in rule.resource_rules)
    return any(non_resource_rule_matches(r, info) for r in rule.non_resource_rules)


def distinguisher(schema: FlowSchema, user: UserInfo, info: RequestInfo) -> str:
    """Rule 6."""
    if schema.distinguisher == BY_USER:
        return user.name
    if schema.distinguisher == BY_NAMESPACE:
        return info.namespace
    return ""


def classify(
    schemas: Sequence[FlowSchema], user: UserInfo, info: RequestInfo, levels: Iterable[str]
) -> FlowSchema | None:
    """The first schema, in ``schemas``' order (see :func:`ordered`), that matches (rules 1–5)."""
    known = set(levels)
    for schema in schemas:
        if schema.priority_level not in known:
            continue
        if any(rule_matches(rule, user, info) for rule in schema.rules):
            return schema
    return None
