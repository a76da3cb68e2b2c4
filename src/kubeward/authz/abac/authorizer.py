"""The ``ABAC`` authorization mode: the first policy line that matches allows.

Rules (``pkg/auth/authorizer/abac``):
 1. A line matches when its subject, verb and target match. Subject: a user, if given, must be
    the requester (or ``*``); a group, if given, must be one of the requester's groups (or
    ``*``); a line naming neither matches no one.
 2. Verb: every line allows the read-only verbs get, list and watch; a ``readonly`` line allows
    nothing else.
 3. Target: a resource request matches a line whose namespace, resource and apiGroup each equal
    the request's or are ``*``; a non-resource request matches a line whose nonResourcePath is
    ``*``, the path itself, or a prefix ending in ``*``. One line never matches both kinds.
 4. No line matching is NO_OPINION with the reason ``No policy matched.``, so the next mode
    decides. ABAC never denies.
 5. An allow names the deciding line (file and line number) in its trail, so ``kubeward rbac
    explain`` and SubjectAccessReviews show it.
 6. The file is followed (``fileio.ReloadingFile``): an edit applies within a second, and a
    broken edit keeps the previous policy and logs the line and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from kubeward.api.user import UserInfo
from kubeward.authz.abac.policy import Policy, PolicyLine, parse_policy_file
from kubeward.authz.interfaces import (
    Attributes,
    AuthzResult,
    Decision,
    NonResourceRule,
    ResourceRule,
    RulesResult,
)
from kubeward.fileio import ReloadingFile

MODE_ABAC = "ABAC"
NO_POLICY_MATCHED = "No policy matched."
READ_ONLY_VERBS = ("get", "list", "watch")


def subject_matches(line: PolicyLine, user: UserInfo) -> bool:
    """Rule 1."""
    matched = False
    if line.user:
        if line.user != "*" and line.user != user.name:
            return False
        matched = True
    if line.group:
        if line.group != "*" and line.group not in user.groups:
            return False
        matched = True
    return matched


def verb_matches(line: PolicyLine, verb: str) -> bool:
    """Rule 2."""
    return verb in READ_ONLY_VERBS or not line.readonly


def target_matches(line: PolicyLine, attributes: Attributes) -> bool:
    """Rule 3."""
    if attributes.resource_request:
        return (
            line.namespace in ("*", attributes.namespace)
            and line.resource in ("*", attributes.resource)
            and line.api_group in ("*", attributes.api_group)
        )
    pattern = line.non_resource_path
    if pattern in ("*", attributes.path):
        return True
    return pattern.endswith("*") and attributes.path.startswith(pattern.rstrip("*"))


@dataclass(frozen=True)
class PolicyGrant:
    """A line that lets a subject do an action (for who-can), the subject as the line names it."""

    source: str
    line: PolicyLine


class ABACAuthorizer:
    """Decides from a policy file it follows (rules 1-6)."""

    name = MODE_ABAC

    def __init__(self, path: str | os.PathLike[str], *, check_interval: float = 0.5) -> None:
        self._file = ReloadingFile(path, parse_policy_file, check_interval=check_interval)

    @property
    def policy(self) -> Policy:
        return self._file.value

    def authorize(self, attributes: Attributes) -> AuthzResult:
        policy = self.policy
        for line in policy.lines:
            if (
                subject_matches(line, attributes.user)
                and verb_matches(line, attributes.verb)
                and target_matches(line, attributes)
            ):
                where = f"ABAC policy {policy.source}, line {line.number}"
                return AuthzResult(
                    Decision.ALLOW, "", (f"allowed by {where}: {line.text}",), MODE_ABAC
                )
        return AuthzResult(Decision.NO_OPINION, NO_POLICY_MATCHED, (), MODE_ABAC)

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult:
        """The rules of every line whose subject is ``user`` and namespace fits (as upstream)."""
        resource_rules: list[ResourceRule] = []
        non_resource_rules: list[NonResourceRule] = []
        for line in self.policy.lines:
            if not subject_matches(line, user) or line.namespace not in ("*", namespace):
                continue
            verbs = READ_ONLY_VERBS if line.readonly else ("*",)
            if line.resource:
                resource_rules.append(
                    ResourceRule(
                        verbs=verbs, api_groups=(line.api_group,), resources=(line.resource,)
                    )
                )
            if line.non_resource_path:
                non_resource_rules.append(
                    NonResourceRule(verbs=verbs, non_resource_urls=(line.non_resource_path,))
                )
        return RulesResult(tuple(resource_rules), tuple(non_resource_rules))

    def who_can(self, attributes: Attributes) -> Iterator[PolicyGrant]:
        """Every line that allows the action, whoever it names (the requester is ignored)."""
        policy = self.policy
        for line in policy.lines:
            named = bool(line.user or line.group)
            if named and verb_matches(line, attributes.verb) and target_matches(line, attributes):
                yield PolicyGrant(policy.source, line)
