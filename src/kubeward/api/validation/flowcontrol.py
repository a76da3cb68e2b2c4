"""Validation and defaulting of ``flowcontrol.apiserver.k8s.io/v1`` FlowSchema and
PriorityLevelConfiguration, after Kubernetes' ``pkg/apis/flowcontrol/validation`` and the v1
defaulting functions.

Defaulting:
 1. A FlowSchema without ``spec.matchingPrecedence`` gets 1000.
 2. A Limited priority level without ``nominalConcurrencyShares`` gets 30, without
    ``lendablePercent`` 0; a ``Queue`` limit response without numbers gets 64 queues, hand size
    8 and a queue length limit of 50. An Exempt level gets 0 shares and 0 lendable percent.

Validation (FlowSchema):
 1. ``matchingPrecedence`` is 1–10000; ``priorityLevelConfiguration.name`` is required;
    ``distinguisherMethod.type`` is ``ByUser`` or ``ByNamespace``.
 2. Every rule has at least one subject and at least one resource or non-resource rule.
    A subject's ``kind`` is ``User``, ``Group`` or ``ServiceAccount`` and carries the member of
    that name with a non-empty name (and namespace, for a service account).
 3. A resource rule lists verbs, apiGroups and resources, and namespaces unless it is
    ``clusterScope``; a non-resource rule lists verbs and nonResourceURLs, each URL starting
    with ``/`` (or ``*``). A ``*`` stands alone in its list.

Validation (PriorityLevelConfiguration):
 1. ``type`` is ``Exempt`` or ``Limited``, and ``Exempt`` exactly when the name is ``exempt``;
    an Exempt level has no ``limited`` part, a Limited one has no ``exempt`` part.
 2. ``nominalConcurrencyShares`` and ``borrowingLimitPercent`` are not negative;
    ``lendablePercent`` is 0–100.
 3. ``limitResponse.type`` is ``Queue`` (with ``queuing``) or ``Reject`` (without); queues, hand
    size and queue length limit are positive and the hand is no bigger than the deck.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.validation import field
from kubeward.errors import Cause

DISTINGUISHER_METHODS = ("ByUser", "ByNamespace")
SUBJECT_KINDS = ("Group", "ServiceAccount", "User")
PRIORITY_LEVEL_TYPES = ("Exempt", "Limited")
LIMIT_RESPONSE_TYPES = ("Queue", "Reject")
EXEMPT = "exempt"


def default_flow_schema(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict) and spec.get("matchingPrecedence") is None:
        spec["matchingPrecedence"] = 1000


def default_priority_level(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    exempt = spec.get("exempt")
    if spec.get("type") == "Exempt":
        if not isinstance(exempt, dict):
            exempt = spec["exempt"] = {}
        exempt.setdefault("nominalConcurrencyShares", 0)
        exempt.setdefault("lendablePercent", 0)
    limited = spec.get("limited")
    if not isinstance(limited, dict):
        return
    if limited.get("nominalConcurrencyShares") is None:
        limited["nominalConcurrencyShares"] = 30
    if limited.get("lendablePercent") is None:
        limited["lendablePercent"] = 0
    response = limited.get("limitResponse")
    if isinstance(response, dict) and response.get("type") == "Queue":
        queuing = response.get("queuing")
        if not isinstance(queuing, dict):
            queuing = response["queuing"] = {}
        queuing.setdefault("queues", 64)
        queuing.setdefault("handSize", 8)
        queuing.setdefault("queueLengthLimit", 50)


def _strings(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _list_of_names(value: object, path: str, what: str) -> list[Cause]:
    names = _strings(value)
    if value is None or names == []:
        return [field.required(path, f"{what} must contain at least one value")]
    if names is None:
        return [field.invalid(path, value, "must be a list of strings")]
    if "*" in names and len(names) > 1:
        return [field.invalid(path, names, f"if '*' is present, must not specify other {what}")]
    return []


def _validate_subject(subject: object, path: str) -> list[Cause]:
    if not isinstance(subject, dict):
        return [field.invalid(path, subject, "must be an object")]
    kind = subject.get("kind")
    if kind not in SUBJECT_KINDS:
        return [field.not_supported(f"{path}.kind", kind, SUBJECT_KINDS)]
    member = {"User": "user", "Group": "group", "ServiceAccount": "serviceAccount"}[str(kind)]
    body = subject.get(member)
    if not isinstance(body, dict):
        return [
            field.required(
                f"{path}.{member}", f"{member} is required when subject kind is '{kind}'"
            )
        ]
    causes: list[Cause] = []
    if not isinstance(body.get("name"), str) or not body.get("name"):
        causes.append(field.required(f"{path}.{member}.name"))
    if kind == "ServiceAccount" and (
        not isinstance(body.get("namespace"), str) or not body.get("namespace")
    ):
        causes.append(field.required(f"{path}.{member}.namespace"))
    return causes


def _validate_resource_rule(rule: object, path: str) -> list[Cause]:
    if not isinstance(rule, dict):
        return [field.invalid(path, rule, "must be an object")]
    causes = _list_of_names(rule.get("verbs"), f"{path}.verbs", "verbs")
    causes += _list_of_names(rule.get("apiGroups"), f"{path}.apiGroups", "api groups")
    causes += _list_of_names(rule.get("resources"), f"{path}.resources", "resources")
    namespaces = rule.get("namespaces")
    if namespaces:
        causes += _list_of_names(namespaces, f"{path}.namespaces", "namespaces")
    elif not rule.get("clusterScope"):
        causes.append(
            field.required(
                f"{path}.namespaces",
                "resource rules that are not cluster scoped must supply at least one namespace",
            )
        )
    return causes


def _validate_non_resource_rule(rule: object, path: str) -> list[Cause]:
    if not isinstance(rule, dict):
        return [field.invalid(path, rule, "must be an object")]
    causes = _list_of_names(rule.get("verbs"), f"{path}.verbs", "verbs")
    urls = rule.get("nonResourceURLs")
    causes += _list_of_names(urls, f"{path}.nonResourceURLs", "non-resource urls")
    for i, url in enumerate(_strings(urls) or []):
        if url != "*" and not url.startswith("/"):
            causes.append(
                field.invalid(f"{path}.nonResourceURLs[{i}]", url, "must start with slash")
            )
    return causes


def _validate_policy_rule(rule: object, path: str) -> list[Cause]:
    if not isinstance(rule, dict):
        return [field.invalid(path, rule, "must be an object")]
    causes: list[Cause] = []
    subjects = rule.get("subjects")
    if not isinstance(subjects, list) or not subjects:
        causes.append(
            field.required(f"{path}.subjects", "subjects must contain at least one value")
        )
    else:
        for i, subject in enumerate(subjects):
            causes += _validate_subject(subject, f"{path}.subjects[{i}]")
    resource_rules = rule.get("resourceRules") or []
    non_resource_rules = rule.get("nonResourceRules") or []
    if not isinstance(resource_rules, list) or not isinstance(non_resource_rules, list):
        return [*causes, field.invalid(path, rule, "rules must be lists")]
    if not resource_rules and not non_resource_rules:
        causes.append(
            field.required(
                path, "at least one of resourceRules and nonResourceRules has to be non-empty"
            )
        )
    for i, resource_rule in enumerate(resource_rules):
        causes += _validate_resource_rule(resource_rule, f"{path}.resourceRules[{i}]")
    for i, non_resource_rule in enumerate(non_resource_rules):
        causes += _validate_non_resource_rule(non_resource_rule, f"{path}.nonResourceRules[{i}]")
    return causes


def validate_flow_schema_spec(spec: object) -> list[Cause]:
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes: list[Cause] = []
    precedence = spec.get("matchingPrecedence")
    if (
        not isinstance(precedence, int)
        or isinstance(precedence, bool)
        or not 1 <= precedence <= 10000
    ):
        causes.append(
            field.invalid(
                "spec.matchingPrecedence", precedence, "must be between 1 and 10000, inclusive"
            )
        )
    reference = spec.get("priorityLevelConfiguration")
    if (
        not isinstance(reference, dict)
        or not isinstance(reference.get("name"), str)
        or not reference["name"]
    ):
        causes.append(
            field.required(
                "spec.priorityLevelConfiguration.name", "must reference a priority level"
            )
        )
    method = spec.get("distinguisherMethod")
    if method is not None:
        kind = method.get("type") if isinstance(method, dict) else method
        if kind not in DISTINGUISHER_METHODS:
            causes.append(
                field.not_supported("spec.distinguisherMethod.type", kind, DISTINGUISHER_METHODS)
            )
    rules = spec.get("rules") or []
    if not isinstance(rules, list):
        return [*causes, field.invalid("spec.rules", rules, "must be a list")]
    for i, rule in enumerate(rules):
        causes += _validate_policy_rule(rule, f"spec.rules[{i}]")
    return causes


def _non_negative(value: object, path: str) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return [field.invalid(path, value, "must be a non-negative integer")]
    return []


def _percent(value: object, path: str) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        return [field.invalid(path, value, "must be between 0 and 100, inclusive")]
    return []


def _positive(value: object, path: str) -> list[Cause]:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return [field.invalid(path, value, "must be positive")]
    return []


def _validate_limited(limited: dict[str, Any]) -> list[Cause]:
    path = "spec.limited"
    causes = _non_negative(
        limited.get("nominalConcurrencyShares"), f"{path}.nominalConcurrencyShares"
    )
    causes += _percent(limited.get("lendablePercent"), f"{path}.lendablePercent")
    causes += _non_negative(limited.get("borrowingLimitPercent"), f"{path}.borrowingLimitPercent")
    response = limited.get("limitResponse")
    if not isinstance(response, dict):
        return [*causes, field.required(f"{path}.limitResponse")]
    kind = response.get("type")
    queuing = response.get("queuing")
    rpath = f"{path}.limitResponse"
    if kind not in LIMIT_RESPONSE_TYPES:
        return [*causes, field.not_supported(f"{rpath}.type", kind, LIMIT_RESPONSE_TYPES)]
    if kind == "Reject":
        if queuing is not None:
            causes.append(
                field.forbidden(
                    f"{rpath}.queuing", "must be nil if limited.limitResponse.type is not Limited"
                )
            )
        return causes
    if not isinstance(queuing, dict):
        return [
            *causes,
            field.required(
                f"{rpath}.queuing", "must not be empty if limited.limitResponse.type is Limited"
            ),
        ]
    qpath = f"{rpath}.queuing"
    causes += _positive(queuing.get("queueLengthLimit"), f"{qpath}.queueLengthLimit")
    causes += _positive(queuing.get("queues"), f"{qpath}.queues")
    causes += _positive(queuing.get("handSize"), f"{qpath}.handSize")
    queues, hand = queuing.get("queues"), queuing.get("handSize")
    if isinstance(queues, int) and isinstance(hand, int) and 0 < queues < hand:
        causes.append(
            field.invalid(
                f"{qpath}.handSize", hand, f"should not be greater than queues ({queues})"
            )
        )
    return causes


def validate_priority_level_spec(name: str, spec: object) -> list[Cause]:
    if not isinstance(spec, dict):
        return [field.required("spec")]
    kind = spec.get("type")
    if kind not in PRIORITY_LEVEL_TYPES:
        return [field.not_supported("spec.type", kind, PRIORITY_LEVEL_TYPES)]
    if (kind == "Exempt") != (name == EXEMPT):
        return [
            field.invalid(
                "spec.type", kind, "type must be 'Exempt' if and only if name is 'exempt'"
            )
        ]
    limited, exempt = spec.get("limited"), spec.get("exempt")
    if kind == "Exempt":
        causes: list[Cause] = []
        if limited is not None:
            causes.append(field.forbidden("spec.limited", "must be nil if the type is not Limited"))
        if isinstance(exempt, dict):
            causes += _non_negative(
                exempt.get("nominalConcurrencyShares"), "spec.exempt.nominalConcurrencyShares"
            )
            causes += _percent(exempt.get("lendablePercent"), "spec.exempt.lendablePercent")
        return causes
    if exempt is not None:
        return [field.forbidden("spec.exempt", "must be nil if the type is Limited")]
    if not isinstance(limited, dict):
        return [field.required("spec.limited", "must not be empty when type is Limited")]
    return _validate_limited(limited)
