"""Which webhooks a write goes to: rules, scope and selectors, as kube-apiserver matches them.

Rules (``k8s.io/apiserver/pkg/admission/plugin/webhook``):
 1. A rule matches when its operations hold the request's (or ``*``), its apiGroups and
    apiVersions hold the request's (or ``*``), one of its resources names the request's resource
    and subresource, and its scope fits (``Cluster``: no namespace; ``Namespaced``: a namespace;
    ``*``: both).
 2. Resources: ``*/*`` is everything; ``*`` every resource but no subresource; ``pods`` only the
    resource; ``pods/status`` that subresource; ``pods/*`` the resource's subresources and
    ``*/status`` that subresource of every resource.
 3. ``objectSelector`` matches the labels of the object or, failing that, of the old object.
 4. ``namespaceSelector`` matches the labels of the request's namespace (a Namespace object's own
    labels when the Namespace is the object); it does not restrict cluster-scoped objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.api.selectors import LabelSelector
from kubeward.errors import BadRequest


def _resource_matches(pattern: str, resource: str, subresource: str) -> bool:
    """Rule 2."""
    if pattern == "*/*":
        return True
    res, sep, sub = pattern.partition("/")
    if not sep:
        return not subresource and pattern in ("*", resource)
    return res in ("*", resource) and sub in ("*", subresource) and bool(subresource)


def rule_matches(rule: Mapping[str, Any], request: AdmissionRequest) -> bool:
    """Rule 1."""

    def holds(key: str, value: str) -> bool:
        values = rule.get(key) or []
        return "*" in values or value in values

    if not holds("operations", request.operation):
        return False
    if not holds("apiGroups", request.group) or not holds("apiVersions", request.version):
        return False
    if not any(
        _resource_matches(str(p), request.resource, request.subresource)
        for p in rule.get("resources") or []
    ):
        return False
    scope = rule.get("scope", "*")
    namespaced = bool(request.namespace)
    return bool(scope == "*" or (scope == "Namespaced") == namespaced)


def _labels(obj: Mapping[str, Any] | None) -> dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    try:
        return LabelSelector.from_dict(selector or {}).matches(labels)
    except BadRequest:
        return False


def object_selector_matches(hook: Mapping[str, Any], request: AdmissionRequest) -> bool:
    """Rule 3."""
    selector = hook.get("objectSelector") or {}
    if not selector:
        return True
    return selector_matches(selector, _labels(request.object)) or (
        request.old_object is not None and selector_matches(selector, _labels(request.old_object))
    )


def namespace_labels_needed(hook: Mapping[str, Any], request: AdmissionRequest) -> bool:
    """Rule 4: whether the namespace's labels must be read to decide."""
    return (
        bool(hook.get("namespaceSelector"))
        and bool(request.namespace)
        and not (request.group == "" and request.resource == "namespaces")
    )


def namespace_selector_matches(
    hook: Mapping[str, Any], request: AdmissionRequest, namespace_labels: Mapping[str, str]
) -> bool:
    """Rule 4."""
    selector = hook.get("namespaceSelector") or {}
    if not selector:
        return True
    if request.group == "" and request.resource == "namespaces":
        return selector_matches(selector, _labels(request.object or request.old_object))
    if not request.namespace:
        return True
    return selector_matches(selector, namespace_labels)


def rules_match(hook: Mapping[str, Any], request: AdmissionRequest) -> bool:
    return any(rule_matches(r, request) for r in hook.get("rules") or [] if isinstance(r, Mapping))
