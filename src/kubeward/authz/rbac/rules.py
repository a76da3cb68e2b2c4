"""RBAC policy rules and how one request is matched against them.

The matching is Kubernetes' ``pkg/apis/rbac/v1/evaluation_helpers.go``, rule for rule:

 1. Verbs: ``*`` matches every verb; otherwise the request's verb must be listed.
 2. API groups: ``*`` matches every group; ``""`` is the core group and matches only it.
 3. Resources: ``*`` matches every resource and subresource; ``pods`` matches only the
    resource itself, never ``pods/log``; ``pods/log`` matches that subresource; ``*/scale``
    matches the ``scale`` subresource of any resource. Nothing else is a wildcard: ``pods/*``
    matches only a subresource literally named ``*`` (Kubernetes does not expand it).
 4. Resource names: an empty list matches every name. A non-empty list matches only a request
    whose name is in it, so it never matches a request that carries no name — list, watch,
    create (without a name) and deletecollection.
 5. Non-resource URLs: ``*`` matches every path; a rule path ending in ``*`` matches every path
    that starts with what comes before the ``*``s (``/healthz/*`` matches ``/healthz/etcd``,
    not ``/healthz``); any other rule path must equal the request's path.
 6. A resource request is allowed by a rule when verb, group, resource and name all match; a
    non-resource request when verb and path match.

Rules also know how Kubernetes prints them in escalation refusals (``CompactString``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.authz.interfaces import Attributes

VERB_ALL = "*"
API_GROUP_ALL = "*"
RESOURCE_ALL = "*"
NON_RESOURCE_ALL = "*"


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class PolicyRule:
    """One entry of a Role's or ClusterRole's ``rules``."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, rule: Mapping[str, Any]) -> PolicyRule:
        """Read a ``rbac.authorization.k8s.io/v1`` PolicyRule; missing fields are empty."""
        return cls(
            verbs=_strings(rule.get("verbs")),
            api_groups=_strings(rule.get("apiGroups")),
            resources=_strings(rule.get("resources")),
            resource_names=_strings(rule.get("resourceNames")),
            non_resource_urls=_strings(rule.get("nonResourceURLs")),
        )

    def to_dict(self) -> dict[str, list[str]]:
        """The JSON form, omitting empty lists as the API does (``verbs`` is always written)."""
        out: dict[str, list[str]] = {}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        out["verbs"] = list(self.verbs)
        return out

    @functools.cached_property
    def compact(self) -> str:
        """:meth:`compact_string`, computed once per rule."""
        return self.compact_string()

    def compact_string(self) -> str:
        """Kubernetes' ``CompactString``: ``{APIGroups:[""], Resources:["pods"], Verbs:["get"]}``."""
        parts = []
        if self.api_groups:
            parts.append("APIGroups:" + go_quote_list(self.api_groups))
        if self.resources:
            parts.append("Resources:" + go_quote_list(self.resources))
        if self.non_resource_urls:
            parts.append("NonResourceURLs:" + go_quote_list(self.non_resource_urls))
        if self.resource_names:
            parts.append("ResourceNames:" + go_quote_list(self.resource_names))
        if self.verbs:
            parts.append("Verbs:" + go_quote_list(self.verbs))
        return "{" + ", ".join(parts) + "}"

    def __str__(self) -> str:
        return self.compact_string()


def rules_from_list(rules: object) -> tuple[PolicyRule, ...]:
    """The rules of a role object's ``rules`` field; anything that is not a rule is skipped."""
    if not isinstance(rules, list | tuple):
        return ()
    return tuple(
        PolicyRule.from_dict(r) for r in rules if type(r) is dict or isinstance(r, Mapping)
    )


# --- matching (evaluation_helpers.go) ---------------------------------------------------------


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    verbs = rule.verbs
    return VERB_ALL in verbs or verb in verbs


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    groups = rule.api_groups
    return API_GROUP_ALL in groups or group in groups


def resource_matches(rule: PolicyRule, combined_resource: str, subresource: str) -> bool:
    """``combined_resource`` is ``pods`` or ``pods/log``; ``subresource`` is ``""`` or ``log``."""
    resources = rule.resources
    if RESOURCE_ALL in resources or combined_resource in resources:
        return True
    return bool(subresource) and ("*/" + subresource) in resources


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    for url in rule.non_resource_urls:
        if url in (NON_RESOURCE_ALL, path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def combined_resource(attributes: Attributes) -> str:
    if attributes.subresource:
        return f"{attributes.resource}/{attributes.subresource}"
    return attributes.resource


def rule_allows(attributes: Attributes, rule: PolicyRule) -> bool:
    """Kubernetes' ``RuleAllows``: does this one rule allow the request."""
    if attributes.resource_request:
        return (
            verb_matches(rule, attributes.verb)
            and api_group_matches(rule, attributes.api_group)
            and resource_matches(rule, combined_resource(attributes), attributes.subresource)
            and resource_name_matches(rule, attributes.name)
        )
    return verb_matches(rule, attributes.verb) and non_resource_url_matches(rule, attributes.path)


def rules_allow(attributes: Attributes, rules: Iterable[PolicyRule]) -> bool:
    return any(rule_allows(attributes, rule) for rule in rules)


# --- Go's %q, for messages that must read exactly as Kubernetes prints them -------------------

_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
_GO_ESCAPES.update({"\v": r"\v", "\\": "\\\\", '"': '\\"'})


@functools.lru_cache(maxsize=8192)
def go_quote(text: str) -> str:
    """``fmt.Sprintf("%q", s)``: a double-quoted string with Go escapes."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = ['"']
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_quote_list(items: Iterable[str]) -> str:
    """``fmt.Sprintf("%q", []string{...})``: ``["a" "b"]``."""
    return _quote_tuple(tuple(items))


@functools.lru_cache(maxsize=4096)
def _quote_tuple(items: tuple[str, ...]) -> str:
    return "[" + " ".join(go_quote(i) for i in items) + "]"
