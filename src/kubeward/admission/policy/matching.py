"""Which writes a policy or a binding applies to: ``matchConstraints`` and ``matchResources``.

Rules (``k8s.io/apiserver/pkg/admission/plugin/policy/matching`` of 1.32):
 1. The policies and bindings themselves, and the webhook configurations, are never matched,
    so that no policy can lock the cluster out of fixing it (``IsExemptAdmissionConfigurationResource``).
 2. A write matches when its namespace's labels fit ``namespaceSelector`` (the Namespace's own
    labels when the Namespace is the object; cluster-scoped objects always fit), its object's
    or old object's labels fit ``objectSelector``, one of ``resourceRules`` matches it as a
    webhook rule does (``admission.webhooks.matching``) and, when the rule lists
    ``resourceNames``, the object's name is among them (no ``resourceRules`` at all: every
    resource, as a binding's ``matchResources`` may say); and no ``excludeResourceRules`` does.
 3. A binding without ``matchResources`` matches every write its policy matches.
 4. ``matchPolicy: Equivalent`` is treated as ``Exact``: kubeward serves each resource at one
    version, so there is no other version of the same resource to convert to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.webhooks.matching import (
    namespace_labels_needed,
    namespace_selector_matches,
    object_selector_matches,
    rule_matches,
)

GROUP = "admissionregistration.k8s.io"
EXEMPT_RESOURCES = frozenset(
    {
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
    }
)


def is_exempt(request: AdmissionRequest) -> bool:
    """Rule 1."""
    return request.group == GROUP and request.resource in EXEMPT_RESOURCES


def _named_rule_matches(rule: Mapping[str, Any], request: AdmissionRequest) -> bool:
    if not rule_matches(rule, request):
        return False
    names = rule.get("resourceNames") or []
    return not names or request.name in names


def needs_namespace(match: Mapping[str, Any] | None, request: AdmissionRequest) -> bool:
    """Whether deciding ``match`` needs the labels of the request's namespace."""
    return match is not None and namespace_labels_needed(match, request)


def matches(
    match: Mapping[str, Any] | None,
    request: AdmissionRequest,
    namespace_labels: Mapping[str, str],
) -> bool:
    """Rules 2 and 3."""
    if match is None:
        return True
    if not namespace_selector_matches(match, request, namespace_labels):
        return False
    if not object_selector_matches(match, request):
        return False
    excluded = [r for r in match.get("excludeResourceRules") or [] if isinstance(r, Mapping)]
    if any(_named_rule_matches(r, request) for r in excluded):
        return False
    rules = [r for r in match.get("resourceRules") or [] if isinstance(r, Mapping)]
    return not rules or any(_named_rule_matches(r, request) for r in rules)
