"""Access reviews: ``kubectl auth can-i`` and its kin, answered by the whole authorizer chain.

The same chain that enforces requests answers the reviews, so a review says exactly what a
request would meet. Rules (Kubernetes' ``pkg/registry/authorization``):

 1. SelfSubjectAccessReview asks for the requester; SubjectAccessReview and
    LocalSubjectAccessReview for ``spec.user``/``spec.groups``/``spec.uid``/``spec.extra``.
 2. Exactly one of ``spec.resourceAttributes`` and ``spec.nonResourceAttributes``; a
    SubjectAccessReview names a user or a group; a LocalSubjectAccessReview has no
    ``nonResourceAttributes`` and its ``resourceAttributes.namespace``, when set, is the URL's
    namespace (an empty one is filled from it) — 422 ``Invalid`` otherwise.
 3. ``status.allowed`` is true on ALLOW, ``status.denied`` on DENY. ``status.reason`` holds the
    decision's reason and then its explanation trail (which binding, role and rule allowed it,
    or the near misses of a refusal), one line each — kubeward's "explained decisions";
    kubectl prints it after ``no -``. Lines saying only that an
    authorizer had no opinion, or repeating the reason, are left out.
 4. SelfSubjectRulesReview lists the rules of the chain's rule resolvers for the requester in
    ``spec.namespace``, with ``incomplete`` and ``evaluationError``.
 5. Responses are 201 with the request's ``spec`` echoed and ``metadata.creationTimestamp``
    null, as kube-apiserver answers.
 6. ``GET /debug/rbac/who-can`` (kubeward's own, for ``kubeward rbac who-can``) lists every
    subject RBAC lets do an action, from the index the authorizer decides with, and with ABAC
    every policy line that allows it (file and line number). It is a
    non-resource URL, so only those granted it (cluster-admin's ``*``) may read it: the answer
    reveals every binding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.authorization import GROUP
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import (
    Attributes,
    Authorizer,
    AuthzResult,
    Decision,
    RuleResolver,
    decide,
)
from kubeward.authz.rbac.index import RBACIndex
from kubeward.authz.rbac.whocan import who_can
from kubeward.errors import BadRequest, Cause, invalid
from kubeward.server.endpoints.bodies import read_body_as
from kubeward.server.http import json_response, warning_header

if TYPE_CHECKING:
    from kubeward.authz.abac import ABACAuthorizer, PolicyGrant
    from kubeward.server.app import APIServer

API_VERSION = f"{GROUP}/v1"
WHO_CAN_PATH = "/debug/rbac/who-can"
_INVALID = "FieldValueInvalid"


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _text(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    return value if isinstance(value, str) else ""


# kube-apiserver's warning for the version it removed in 1.22 (api.resources.authorization).
V1BETA1_WARNING = (
    "authorization.k8s.io/v1beta1 SubjectAccessReview is deprecated in v1.19+, unavailable in "
    "v1.22+; use authorization.k8s.io/v1 SubjectAccessReview"
)


def _from_v1beta1(review: dict[str, Any]) -> None:
    """v1beta1 names the groups ``spec.group``; v1 ``spec.groups``."""
    spec = review.get("spec")
    if isinstance(spec, dict) and "group" in spec and "groups" not in spec:
        spec["groups"] = spec.pop("group")
    review["apiVersion"] = API_VERSION


async def read_review(
    request: web.Request, info: RequestInfo, body: bytes, kind: str
) -> dict[str, Any]:
    """The decoded, type-checked review body (only ``create`` is served)."""
    if not body.strip():
        raise BadRequest("the request body is empty")
    upgrade = _from_v1beta1 if info.api_version == "v1beta1" else None
    return await read_body_as(request, body, group=GROUP, kind=kind, upgrade=upgrade)


def attribute_causes(spec: Mapping[str, Any]) -> list[Cause]:
    """Rule 2's shared check: exactly one of resource and non-resource attributes."""
    has_resource = _mapping(spec.get("resourceAttributes")) is not None
    has_non_resource = _mapping(spec.get("nonResourceAttributes")) is not None
    if has_resource and has_non_resource:
        return [
            Cause(
                _INVALID,
                "cannot be specified in combination with resourceAttributes",
                "spec.nonResourceAttributes",
            )
        ]
    if not has_resource and not has_non_resource:
        return [
            Cause(
                _INVALID,
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                "spec.resourceAttributes",
            )
        ]
    return []


def attributes_from_spec(spec: Mapping[str, Any], user: UserInfo) -> Attributes:
    resource = _mapping(spec.get("resourceAttributes"))
    if resource is not None:
        return Attributes(
            user=user,
            verb=_text(resource, "verb"),
            namespace=_text(resource, "namespace"),
            api_group=_text(resource, "group"),
            api_version=_text(resource, "version"),
            resource=_text(resource, "resource"),
            subresource=_text(resource, "subresource"),
            name=_text(resource, "name"),
            field_selector=_field_selector(_mapping(resource.get("fieldSelector"))),
        )
    non_resource = _mapping(spec.get("nonResourceAttributes")) or {}
    return Attributes(
        user=user,
        verb=_text(non_resource, "verb"),
        resource_request=False,
        path=_text(non_resource, "path"),
    )


def _field_selector(selector: Mapping[str, Any] | None) -> str:
    """A review's ``fieldSelector`` as selector text: ``rawSelector``, or the ``requirements``
    whose ``In``/``NotIn`` name one value (as upstream turns them into ``=``/``!=`` terms)."""
    if selector is None:
        return ""
    raw = selector.get("rawSelector")
    if isinstance(raw, str) and raw:
        return raw
    terms: list[str] = []
    for requirement in selector.get("requirements") or []:
        if not isinstance(requirement, Mapping):
            continue
        values = requirement.get("values") or []
        operator = {"In": "=", "NotIn": "!="}.get(str(requirement.get("operator")))
        if operator is not None and isinstance(values, list) and len(values) == 1:
            terms.append(f"{requirement.get('key')}{operator}{values[0]}")
    return ",".join(terms)


def user_from_spec(spec: Mapping[str, Any]) -> UserInfo:
    groups = spec.get("groups")
    extra = _mapping(spec.get("extra")) or {}
    return UserInfo(
        name=_text(spec, "user"),
        uid=_text(spec, "uid"),
        groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
        extra={
            str(k): tuple(str(v) for v in vs) for k, vs in extra.items() if isinstance(vs, list)
        },
    )


def review_status(result: AuthzResult) -> dict[str, Any]:
    """Rule 3: the status of an access review."""
    status: dict[str, Any] = {"allowed": result.decision is Decision.ALLOW}
    if result.decision is Decision.DENY:
        status["denied"] = True
    trail = [
        line
        for line in result.explanation
        if not line.endswith(": no opinion") and not result.reason.endswith(line)
    ]
    reason = "\n".join(part for part in (result.reason, *trail) if part)
    if reason:
        status["reason"] = reason
    if result.error:
        status["evaluationError"] = result.error
    return status


def _answer(
    kind: str,
    review: Mapping[str, Any],
    status: Mapping[str, Any],
    api_version: str = API_VERSION,
) -> web.Response:
    metadata = dict(_mapping(review.get("metadata")) or {})
    metadata["creationTimestamp"] = None
    return json_response(
        {
            "kind": kind,
            "apiVersion": api_version,
            "metadata": metadata,
            "spec": dict(_mapping(review.get("spec")) or {}),
            "status": dict(status),
        },
        201,
    )


class AccessReviews:
    """The four review endpoints over one authorizer chain."""

    def __init__(self, authorizer: Authorizer, resolver: RuleResolver) -> None:
        self.authorizer = authorizer
        self.resolver = resolver

    async def decide(self, spec: Mapping[str, Any], user: UserInfo) -> dict[str, Any]:
        return review_status(await decide(self.authorizer, attributes_from_spec(spec, user)))

    async def self_subject_access_review(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        review = await read_review(request, info, body, "SelfSubjectAccessReview")
        spec = _mapping(review.get("spec")) or {}
        causes = attribute_causes(spec)
        if causes:
            raise invalid("SelfSubjectAccessReview", "", causes, GROUP)
        return _answer("SelfSubjectAccessReview", review, await self.decide(spec, user))

    async def subject_access_review(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        review = await read_review(request, info, body, "SubjectAccessReview")
        spec = _mapping(review.get("spec")) or {}
        causes = attribute_causes(spec)
        if not _text(spec, "user") and not spec.get("groups"):
            causes.append(
                Cause(_INVALID, "at least one of user or group must be specified", "spec.user")
            )
        if causes:
            raise invalid("SubjectAccessReview", "", causes, GROUP)
        status = await self.decide(spec, user_from_spec(spec))
        if info.api_version != "v1beta1":
            return _answer("SubjectAccessReview", review, status)
        # Answered in v1beta1's words (spec.group), with the warning upstream gave.
        older = {**review, "spec": {("group" if k == "groups" else k): v for k, v in spec.items()}}
        answer = _answer("SubjectAccessReview", older, status, f"{GROUP}/v1beta1")
        answer.headers.add("Warning", warning_header(V1BETA1_WARNING))
        return answer

    async def local_subject_access_review(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        review = await read_review(request, info, body, "LocalSubjectAccessReview")
        spec = dict(_mapping(review.get("spec")) or {})
        causes = attribute_causes(spec)
        if _mapping(spec.get("nonResourceAttributes")) is not None:
            causes = [
                Cause(_INVALID, "disallowed on this kind of request", "spec.nonResourceAttributes")
            ]
        resource = dict(_mapping(spec.get("resourceAttributes")) or {})
        if resource:
            namespace = _text(resource, "namespace")
            if namespace and namespace != info.namespace:
                causes.append(
                    Cause(
                        _INVALID,
                        "must match metadata.namespace",
                        "spec.resourceAttributes.namespace",
                    )
                )
            resource["namespace"] = info.namespace
            spec["resourceAttributes"] = resource
        if not _text(spec, "user") and not spec.get("groups"):
            causes.append(
                Cause(_INVALID, "at least one of user or group must be specified", "spec.user")
            )
        if causes:
            raise invalid("LocalSubjectAccessReview", "", causes, GROUP)
        review = {**review, "spec": spec}
        review.setdefault("metadata", {})
        review["metadata"] = {**review["metadata"], "namespace": info.namespace}
        return _answer(
            "LocalSubjectAccessReview", review, await self.decide(spec, user_from_spec(spec))
        )

    async def self_subject_rules_review(
        self, request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        review = await read_review(request, info, body, "SelfSubjectRulesReview")
        spec = _mapping(review.get("spec")) or {}
        result = self.resolver.rules_for(user, _text(spec, "namespace"))
        status: dict[str, Any] = {
            "resourceRules": [
                _without_empty(
                    {
                        "verbs": list(r.verbs),
                        "apiGroups": list(r.api_groups),
                        "resources": list(r.resources),
                        "resourceNames": list(r.resource_names),
                    },
                    keep=("verbs",),
                )
                for r in result.resource_rules
            ],
            "nonResourceRules": [
                _without_empty(
                    {"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_urls)},
                    keep=("verbs",),
                )
                for r in result.non_resource_rules
            ],
            "incomplete": result.incomplete,
        }
        if result.evaluation_error:
            status["evaluationError"] = result.evaluation_error
        return _answer("SelfSubjectRulesReview", review, status)


def _without_empty(obj: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v or k in keep}


def who_can_attributes(query: Mapping[str, str]) -> Attributes:
    """The action a who-can query asks about, from its query parameters."""
    nobody = UserInfo("")
    path = query.get("path", "")
    verb = query.get("verb", "")
    if not verb:
        raise BadRequest("verb: Required value")
    if path:
        return Attributes(user=nobody, verb=verb, resource_request=False, path=path)
    if not query.get("resource"):
        raise BadRequest("resource or path: Required value")
    return Attributes(
        user=nobody,
        verb=verb,
        namespace=query.get("namespace", ""),
        api_group=query.get("group", ""),
        api_version=query.get("version", ""),
        resource=query.get("resource", ""),
        subresource=query.get("subresource", ""),
        name=query.get("name", ""),
    )


def policy_grant_entries(grant: PolicyGrant) -> list[dict[str, Any]]:
    """An ABAC line as who-can entries: its user (or else its group), and where it is."""
    line = grant.line
    policy: dict[str, Any] = {"file": grant.source, "line": line.number}
    if line.user and line.group:
        policy["group"] = line.group  # the user must also be in this group
    subject = (
        {"kind": "User", "name": line.user} if line.user else {"kind": "Group", "name": line.group}
    )
    return [{"subject": subject, "policy": policy}]


def who_can_handler(
    index: RBACIndex, abac: ABACAuthorizer | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """``GET /debug/rbac/who-can?verb=&resource=&group=&namespace=...`` (rule 6)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        attributes = who_can_attributes(request.query)
        entries = [grant.to_dict() for grant in who_can(index, attributes)]
        if abac is not None:
            for grant in abac.who_can(attributes):
                entries.extend(policy_grant_entries(grant))
        return json_response({"grants": entries})

    return handle


def register(
    server: APIServer,
    authorizer: Authorizer,
    resolver: RuleResolver,
    index: RBACIndex,
    abac: ABACAuthorizer | None = None,
) -> None:
    server.non_resource[WHO_CAN_PATH] = who_can_handler(index, abac)
    reviews = AccessReviews(authorizer, resolver)
    server.virtual[(GROUP, "selfsubjectaccessreviews", "")] = reviews.self_subject_access_review
    server.virtual[(GROUP, "subjectaccessreviews", "")] = reviews.subject_access_review
    server.virtual[(GROUP, "localsubjectaccessreviews", "")] = reviews.local_subject_access_review
    server.virtual[(GROUP, "selfsubjectrulesreviews", "")] = reviews.self_subject_rules_review
