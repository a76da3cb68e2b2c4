"""FlowSchemas and priority levels as typed values, read from the stored API objects.

The API objects (``flowcontrol.apiserver.k8s.io/v1``) are validated on write; this module turns
them into frozen values the classifier and the queues use, and computes each level's share of
the server's concurrency. Rules:

 1. The server's concurrency limit is ``--max-requests-inflight`` + ``--max-mutating-requests-inflight``
    (600 by default), as kube-apiserver's with priority and fairness on.
 2. A Limited level's concurrency limit is ``ceil(server limit × its nominalConcurrencyShares /
    the sum of every level's shares)``, and at least 1. Exempt levels are not limited.
 3. A FlowSchema whose priority level does not exist is "dangling" and matches nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ALL = "*"
BY_USER = "ByUser"
BY_NAMESPACE = "ByNamespace"


@dataclass(frozen=True)
class Subject:
    kind: str  # User, Group or ServiceAccount
    name: str
    namespace: str = ""


@dataclass(frozen=True)
class ResourceRule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    namespaces: tuple[str, ...] = ()
    cluster_scope: bool = False


@dataclass(frozen=True)
class NonResourceRule:
    verbs: tuple[str, ...]
    urls: tuple[str, ...]


@dataclass(frozen=True)
class PolicyRule:
    subjects: tuple[Subject, ...]
    resource_rules: tuple[ResourceRule, ...] = ()
    non_resource_rules: tuple[NonResourceRule, ...] = ()


@dataclass(frozen=True)
class FlowSchema:
    name: str
    priority_level: str
    matching_precedence: int
    distinguisher: str = ""  # "", ByUser or ByNamespace
    rules: tuple[PolicyRule, ...] = ()
    uid: str = ""


@dataclass(frozen=True)
class PriorityLevel:
    name: str
    exempt: bool
    shares: int = 0
    reject: bool = False  # limitResponse Reject: no queues
    queues: int = 0
    hand_size: int = 0
    queue_length_limit: int = 0
    uid: str = ""


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _get(obj: object, *path: str) -> Any:
    for step in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(step)
    return obj


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _subject(raw: object) -> Subject | None:
    kind = _get(raw, "kind")
    if kind == "User":
        return Subject("User", str(_get(raw, "user", "name") or ""))
    if kind == "Group":
        return Subject("Group", str(_get(raw, "group", "name") or ""))
    if kind == "ServiceAccount":
        return Subject(
            "ServiceAccount",
            str(_get(raw, "serviceAccount", "name") or ""),
            str(_get(raw, "serviceAccount", "namespace") or ""),
        )
    return None


def flow_schema_from_object(obj: Mapping[str, Any]) -> FlowSchema:
    rules: list[PolicyRule] = []
    for raw in _get(obj, "spec", "rules") or []:
        subjects = tuple(s for s in (_subject(r) for r in _get(raw, "subjects") or []) if s)
        resource_rules = tuple(
            ResourceRule(
                verbs=_strings(_get(r, "verbs")),
                api_groups=_strings(_get(r, "apiGroups")),
                resources=_strings(_get(r, "resources")),
                namespaces=_strings(_get(r, "namespaces")),
                cluster_scope=_get(r, "clusterScope") is True,
            )
            for r in _get(raw, "resourceRules") or []
        )
        non_resource_rules = tuple(
            NonResourceRule(_strings(_get(r, "verbs")), _strings(_get(r, "nonResourceURLs")))
            for r in _get(raw, "nonResourceRules") or []
        )
        rules.append(PolicyRule(subjects, resource_rules, non_resource_rules))
    return FlowSchema(
        name=str(_get(obj, "metadata", "name") or ""),
        priority_level=str(_get(obj, "spec", "priorityLevelConfiguration", "name") or ""),
        matching_precedence=_int(_get(obj, "spec", "matchingPrecedence"), 1000),
        distinguisher=str(_get(obj, "spec", "distinguisherMethod", "type") or ""),
        rules=tuple(rules),
        uid=str(_get(obj, "metadata", "uid") or ""),
    )


def priority_level_from_object(obj: Mapping[str, Any]) -> PriorityLevel:
    name = str(_get(obj, "metadata", "name") or "")
    uid = str(_get(obj, "metadata", "uid") or "")
    if _get(obj, "spec", "type") == "Exempt":
        return PriorityLevel(name, exempt=True, uid=uid)
    limited = _get(obj, "spec", "limited")
    queuing = _get(limited, "limitResponse", "queuing")
    reject = _get(limited, "limitResponse", "type") != "Queue"
    return PriorityLevel(
        name,
        exempt=False,
        shares=_int(_get(limited, "nominalConcurrencyShares"), 30),
        reject=reject,
        queues=0 if reject else _int(_get(queuing, "queues"), 64),
        hand_size=0 if reject else _int(_get(queuing, "handSize"), 8),
        queue_length_limit=0 if reject else _int(_get(queuing, "queueLengthLimit"), 50),
        uid=uid,
    )


def concurrency_limits(levels: Iterable[PriorityLevel], server_limit: int) -> dict[str, int]:
    """Rule 2: each Limited level's nominal concurrency limit."""
    limited = [level for level in levels if not level.exempt]
    total = sum(level.shares for level in limited)
    limits: dict[str, int] = {}
    for level in limited:
        share = server_limit * level.shares / total if total else 0
        limits[level.name] = max(1, math.ceil(share))
    return limits
