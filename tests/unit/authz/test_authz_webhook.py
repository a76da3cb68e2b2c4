"""The Webhook mode against a fake transport: the review sent, the decision read, caching,
retries and failures (the real HTTPS path is tests/integration/test_authz_webhook.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.modes import Backoff, WebhookOptions, WebhookSettings, build_authorizer
from kubeward.authz.webhook import WebhookAuthorizer
from kubeward.errors import Forbidden, InputError, InternalError, ServiceUnavailable, StatusError

JANE = UserInfo("jane", uid="42", groups=("dev", "system:authenticated"), extra={"scopes": ("a",)})
LIST_PODS = Attributes(user=JANE, verb="list", namespace="ns", api_version="v1", resource="pods")
HEALTH = Attributes(user=JANE, verb="get", resource_request=False, path="/healthz")
FAST = Backoff(initial=0.0, attempts=3)


class FakeTransport:
    server = "https://policy.example:8443/authorize"

    def __init__(self, *replies: dict[str, Any] | StatusError) -> None:
        self.replies = list(replies)
        self.sent: list[dict[str, Any]] = []

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.sent.append(review)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, StatusError):
            raise reply
        return reply


def answer(version: str = "v1", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"authorization.k8s.io/{version}",
        "kind": "SubjectAccessReview",
        "status": status,
    }


def decide(authorizer: WebhookAuthorizer, attributes: Attributes = LIST_PODS) -> Any:
    return asyncio.run(authorizer.authorize_async(attributes))


def test_the_review_carries_the_user_and_the_request_v1() -> None:
    transport = FakeTransport(answer(allowed=True))
    decide(WebhookAuthorizer(transport, WebhookSettings(version="v1")))
    decide(WebhookAuthorizer(transport, WebhookSettings(version="v1")), HEALTH)
    assert transport.sent == [
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": "jane",
                "uid": "42",
                "groups": ["dev", "system:authenticated"],
                "extra": {"scopes": ["a"]},
                "resourceAttributes": {
                    "namespace": "ns",
                    "verb": "list",
                    "version": "v1",
                    "resource": "pods",
                },
            },
        },
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": "jane",
                "uid": "42",
                "groups": ["dev", "system:authenticated"],
                "extra": {"scopes": ["a"]},
                "nonResourceAttributes": {"path": "/healthz", "verb": "get"},
            },
        },
    ]


def test_v1beta1_names_the_groups_group() -> None:
    transport = FakeTransport(answer("v1beta1", allowed=True))
    result = decide(WebhookAuthorizer(transport, WebhookSettings()))  # v1beta1 is the default
    assert transport.sent[0]["apiVersion"] == "authorization.k8s.io/v1beta1"
    assert transport.sent[0]["spec"]["group"] == ["dev", "system:authenticated"]
    assert result.allowed


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        ({"allowed": True, "reason": "ok"}, Decision.ALLOW),
        ({"allowed": False, "denied": True, "reason": "no"}, Decision.DENY),
        ({"allowed": False, "reason": "not mine"}, Decision.NO_OPINION),
        ({}, Decision.NO_OPINION),
    ],
    ids=["allowed", "denied", "no-opinion", "empty"],
)
def test_the_answer_decides(status: dict[str, Any], decision: Decision) -> None:
    result = decide(WebhookAuthorizer(FakeTransport(answer(**status)), WebhookSettings("v1")))
    assert result.decision is decision
    assert result.reason == status.get("reason", "")
    assert result.error == ""


def test_answers_are_cached_by_spec_and_the_plain_authorize_reads_the_cache() -> None:
    transport = FakeTransport(answer(allowed=True))
    authorizer = WebhookAuthorizer(transport, WebhookSettings("v1"))
    assert authorizer.authorize(LIST_PODS).decision is Decision.NO_OPINION  # not asked yet
    decide(authorizer)
    decide(authorizer)
    assert len(transport.sent) == 1
    assert authorizer.authorize(LIST_PODS).allowed
    decide(authorizer, HEALTH)
    assert len(transport.sent) == 2


def test_a_zero_ttl_caches_nothing() -> None:
    transport = FakeTransport(answer(allowed=False))
    authorizer = WebhookAuthorizer(transport, WebhookSettings("v1", unauthorized_ttl=0))
    decide(authorizer)
    decide(authorizer)
    assert len(transport.sent) == 2


def test_unavailable_and_5xx_are_retried_then_succeed() -> None:
    transport = FakeTransport(
        ServiceUnavailable("connection refused"),
        InternalError("boom"),
        answer(allowed=True),
    )
    result = decide(WebhookAuthorizer(transport, WebhookSettings("v1", backoff=FAST)))
    assert result.allowed and len(transport.sent) == 3


def test_a_failure_is_no_opinion_with_the_error_and_is_not_cached() -> None:
    transport = FakeTransport(ServiceUnavailable("connection refused"))
    authorizer = WebhookAuthorizer(transport, WebhookSettings("v1", backoff=FAST))
    result = decide(authorizer)
    assert result.decision is Decision.NO_OPINION
    assert result.error == f"{transport.server}: connection refused"
    assert len(transport.sent) == 3  # every attempt of the backoff
    decide(authorizer)
    assert len(transport.sent) == 6


def test_a_4xx_is_not_retried() -> None:
    transport = FakeTransport(Forbidden("no"))
    result = decide(WebhookAuthorizer(transport, WebhookSettings("v1", backoff=FAST)))
    assert result.error and len(transport.sent) == 1


def test_a_wrong_answer_is_an_error() -> None:
    transport = FakeTransport({"apiVersion": "v1", "kind": "Status"})
    result = decide(WebhookAuthorizer(transport, WebhookSettings("v1", backoff=FAST)))
    assert "not authorization.k8s.io/v1, SubjectAccessReview" in result.error


def test_rules_are_not_resolved() -> None:
    rules = WebhookAuthorizer(FakeTransport(answer()), WebhookSettings()).rules_for(JANE, "ns")
    assert rules.incomplete
    assert rules.evaluation_error == "webhook authorizer does not support user rule resolution"


def test_the_chain_falls_through_a_failed_webhook_and_carries_its_error(tmp_path: Path) -> None:
    transport = FakeTransport(ServiceUnavailable("connection refused"))
    options = WebhookOptions(
        tmp_path / "w.conf", lambda _: transport, WebhookSettings("v1", backoff=FAST)
    )
    chain = build_authorizer(["Webhook", "AlwaysDeny"], webhook=options)
    result = asyncio.run(chain.authorize_async(LIST_PODS))
    assert result.decision is Decision.NO_OPINION
    assert "connection refused" in result.error
    assert "Everything is forbidden." in result.reason


@pytest.mark.parametrize(
    ("modes", "config", "version", "message"),
    [
        (
            ["Webhook"],
            None,
            "v1",
            "authorization-mode Webhook's authorization config file not passed",
        ),
        (
            ["RBAC"],
            "w.conf",
            "v1",
            "cannot specify --authorization-webhook-config-file without mode Webhook",
        ),
        (
            ["Webhook"],
            "w.conf",
            "v2",
            'authorization-webhook-version: Unsupported value: "v2": supported values: "v1", "v1beta1"',
        ),
    ],
    ids=["no-file", "file-without-mode", "bad-version"],
)
def test_flags_are_checked_as_kube_apiserver_checks_them(
    tmp_path: Path, modes: list[str], config: str | None, version: str, message: str
) -> None:
    options = (
        WebhookOptions(
            tmp_path / config, lambda _: FakeTransport(answer()), WebhookSettings(version)
        )
        if config
        else None
    )
    with pytest.raises(InputError) as caught:
        build_authorizer(modes, webhook=options)
    assert str(caught.value) == message
