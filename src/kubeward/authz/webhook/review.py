"""SubjectAccessReview bodies for an authorization webhook, as kube-apiserver sends them.

Rules (``k8s.io/apiserver/plugin/pkg/authorizer/webhook``):
 1. The request is a SubjectAccessReview of ``authorization.k8s.io/v1`` or ``v1beta1``
    (``--authorization-webhook-version``): the user, uid, groups and extra of the requester,
    and either ``resourceAttributes`` (namespace, verb, group, version, resource, subresource,
    name) or ``nonResourceAttributes`` (path, verb). v1beta1 names the groups ``group``.
 2. The answer's ``status.allowed`` allows; else ``status.denied`` denies; else the webhook has
    no opinion. ``status.reason`` is the reason in every case; ``status.evaluationError`` is
    logged.
 3. An answer that is not a SubjectAccessReview of the version asked for is an error.
"""

from __future__ import annotations

from typing import Any

from kubeward.authz.interfaces import Attributes, AuthzResult, Decision
from kubeward.errors import InputError

GROUP = "authorization.k8s.io"
VERSIONS = ("v1", "v1beta1")
KIND = "SubjectAccessReview"


def review_spec(attributes: Attributes, version: str) -> dict[str, Any]:
    """Rule 1: the ``spec`` of the review; also the cache key of the decision."""
    user = attributes.user
    spec: dict[str, Any] = {"user": user.name}
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups" if version == "v1" else "group"] = list(user.groups)
    if user.extra:
        spec["extra"] = {key: list(values) for key, values in user.extra.items()}
    if attributes.resource_request:
        spec["resourceAttributes"] = {
            key: value
            for key, value in (
                ("namespace", attributes.namespace),
                ("verb", attributes.verb),
                ("group", attributes.api_group),
                ("version", attributes.api_version),
                ("resource", attributes.resource),
                ("subresource", attributes.subresource),
                ("name", attributes.name),
            )
            if value
        }
    else:
        spec["nonResourceAttributes"] = {"path": attributes.path, "verb": attributes.verb}
    return spec


def review_request(spec: dict[str, Any], version: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{version}", "kind": KIND, "spec": spec}


def decision_of(answer: dict[str, Any], version: str, authorizer: str) -> AuthzResult:
    """Rules 2 and 3.

    Raises:
        InputError: the answer is not a SubjectAccessReview of ``version``.
    """
    if answer.get("apiVersion") != f"{GROUP}/{version}" or answer.get("kind") != KIND:
        raise InputError(
            f"the webhook answered with {answer.get('apiVersion')!s}, {answer.get('kind')!s},"
            f" not {GROUP}/{version}, {KIND}"
        )
    status = answer.get("status")
    if not isinstance(status, dict):
        status = {}
    reason = str(status.get("reason") or "")
    if status.get("allowed") is True:
        decision = Decision.ALLOW
    elif status.get("denied") is True:
        decision = Decision.DENY
    else:
        decision = Decision.NO_OPINION
    trail = (f"{authorizer}: {decision.value}" + (f": {reason}" if reason else ""),)
    return AuthzResult(decision, reason, trail, authorizer)
