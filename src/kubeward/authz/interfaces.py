"""The authorization seam.

Rules:
 1. An authorizer returns a decision as a value — ALLOW, DENY or NO_OPINION — and never raises
    to say no.
 2. NO_OPINION falls through the union to the next authorizer; if nobody allows, the request is
    refused with 403.
 3. ``reason`` is written for the person who was refused (or for the SubjectAccessReview reader);
    ``explanation`` holds the trail behind the decision: which binding, role and rule allowed it,
    or the near misses behind a denial.
 4. An authorizer that asks another service (Webhook) also has ``authorize_async``; its plain
    ``authorize`` answers only from what it already knows (its cache), NO_OPINION otherwise.
    Code that can await asks through :func:`decide`, which awaits such an authorizer; the union
    and the chain have both forms.
 5. An authorizer that could not decide (its webhook failed) answers NO_OPINION with ``error``
    set. If no authorizer allows, the request is answered 500 naming the error, as
    kube-apiserver answers it, and a SubjectAccessReview reports it as ``evaluationError``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kubeward.api.user import UserInfo


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True)
class Attributes:
    """What a request wants to do, as Kubernetes' ``authorizer.Attributes``.

    For a resource request ``resource_request`` is true and ``api_group``/``resource``/
    ``subresource``/``namespace``/``name`` are set; otherwise ``path`` is the non-resource URL.
    """

    user: UserInfo
    verb: str
    resource_request: bool = True
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    # The raw field selector of a list, watch or deletecollection (``spec.nodeName=worker-1``);
    # authorizers that decide with selectors parse it (KEP-4601, beta and on in 1.32).
    field_selector: str = ""


Trail = tuple[str, ...]


@dataclass(frozen=True)
class AuthzResult:
    """A decision, its reason, and the trail behind it.

    ``trail`` may be a function that computes the trail: working out the near misses of a
    refusal costs far more than the decision, and most refusals are never explained to anyone
    (a 403 carries only the reason). ``explanation`` computes it on first use, from the
    authorizer's state at that moment; callers that explain do so right after deciding.
    """

    decision: Decision
    reason: str = ""
    trail: Trail | Callable[[], Trail] = ()
    authorizer: str = ""
    error: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    @property
    def explanation(self) -> Trail:
        if callable(self.trail):
            return self.trail()
        return self.trail


NO_OPINION = AuthzResult(Decision.NO_OPINION)


class Authorizer(Protocol):
    """Decides one request."""

    name: str

    def authorize(self, attributes: Attributes) -> AuthzResult: ...


class RemoteAuthorizer(Authorizer, Protocol):
    """An authorizer that may have to ask another service (rule 4)."""

    async def authorize_async(self, attributes: Attributes) -> AuthzResult: ...


async def decide(authorizer: Authorizer, attributes: Attributes) -> AuthzResult:
    """``authorizer``'s decision, awaited when it asks another service (rule 4)."""
    ask = getattr(authorizer, "authorize_async", None)
    if ask is not None:
        result: AuthzResult = await ask(attributes)
        return result
    return authorizer.authorize(attributes)


@dataclass(frozen=True)
class ResourceRule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class NonResourceRule:
    verbs: tuple[str, ...]
    non_resource_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class RulesResult:
    """What a user may do in a namespace (SelfSubjectRulesReview)."""

    resource_rules: tuple[ResourceRule, ...] = ()
    non_resource_rules: tuple[NonResourceRule, ...] = ()
    incomplete: bool = False
    evaluation_error: str = ""


class RuleResolver(Protocol):
    """Lists the rules that apply to a user in a namespace."""

    def rules_for(self, user: UserInfo, namespace: str) -> RulesResult: ...
