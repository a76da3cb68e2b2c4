"""The token webhook against a fake transport: the review sent, the answer read, audiences,
caching and failures (the HTTPS path is tests/integration/test_authn_token_webhook.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.authn.factory import (
    AuthenticationOptions,
    TokenWebhookOptions,
    TokenWebhookSettings,
    build_authenticator,
)
from kubeward.authn.interfaces import AuthRequest
from kubeward.authn.webhook import WebhookTokenAuthenticator
from kubeward.errors import AuthenticationError, InputError, ServiceUnavailable, StatusError
from kubeward.webhook_calls import Backoff

FAST = Backoff(initial=0.0, attempts=2)


class FakeTransport:
    server = "https://ldap-bridge.example/authenticate"

    def __init__(self, reply: dict[str, Any] | StatusError) -> None:
        self.reply = reply
        self.sent: list[dict[str, Any]] = []

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.sent.append(review)
        if isinstance(self.reply, StatusError):
            raise self.reply
        return self.reply


def answer(version: str = "v1", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"authentication.k8s.io/{version}",
        "kind": "TokenReview",
        "status": status,
    }


ALICE = {"username": "alice", "uid": "7", "groups": ["developers"], "extra": {"dept": ["qa"]}}


def authenticate(
    authenticator: WebhookTokenAuthenticator, token: str = "t0k3n", audiences: tuple[str, ...] = ()
) -> Any:
    return asyncio.run(authenticator.authenticate_token_async(token, audiences))


def test_an_authenticated_answer_is_the_user() -> None:
    transport = FakeTransport(answer(authenticated=True, user=ALICE))
    response = authenticate(WebhookTokenAuthenticator(transport, TokenWebhookSettings("v1")))
    assert transport.sent == [
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": "t0k3n"},
        }
    ]
    assert response.user == UserInfo("alice", "7", ("developers",), {"dept": ("qa",)})
    assert response.authenticator == "webhook"


def test_a_refusal_with_an_error_is_401_and_without_one_is_not_mine() -> None:
    refused = WebhookTokenAuthenticator(
        FakeTransport(answer(authenticated=False, error="account locked")),
        TokenWebhookSettings("v1"),
    )
    with pytest.raises(AuthenticationError, match="account locked"):
        authenticate(refused)
    unknown = WebhookTokenAuthenticator(
        FakeTransport(answer(authenticated=False)), TokenWebhookSettings("v1")
    )
    assert authenticate(unknown) is None


@pytest.mark.parametrize(
    ("answered", "asked", "granted"),
    [
        (["api"], ("api",), ("api",)),
        ([], ("https://kubernetes.default.svc",), ("https://kubernetes.default.svc",)),
        (["vault"], ("api",), None),
        ([], ("vault",), None),
    ],
    ids=["named", "implicit", "mismatch", "implicit-mismatch"],
)
def test_audiences_must_meet(answered: list[str], asked: tuple[str, ...], granted: Any) -> None:
    transport = FakeTransport(answer(authenticated=True, user=ALICE, audiences=answered))
    authenticator = WebhookTokenAuthenticator(
        transport, TokenWebhookSettings("v1"), api_audiences=("https://kubernetes.default.svc",)
    )
    response = authenticate(authenticator, audiences=asked)
    assert transport.sent[0]["spec"]["audiences"] == list(asked)
    assert (response.audiences if response else None) == granted


def test_answers_are_cached_by_token_and_audiences_without_keeping_the_token() -> None:
    transport = FakeTransport(answer(authenticated=True, user=ALICE))
    authenticator = WebhookTokenAuthenticator(transport, TokenWebhookSettings("v1"))
    assert authenticator.authenticate_token("t0k3n") is None  # the cache only: not asked yet
    authenticate(authenticator)
    authenticate(authenticator)
    assert len(transport.sent) == 1
    assert authenticator.authenticate_token("t0k3n") is not None
    authenticate(authenticator, audiences=("other",))
    assert len(transport.sent) == 2
    assert all(b"t0k3n" not in key for key in authenticator._cache._entries)


def test_a_failed_call_refuses_the_token_and_is_not_cached() -> None:
    transport = FakeTransport(ServiceUnavailable("connection refused"))
    authenticator = WebhookTokenAuthenticator(transport, TokenWebhookSettings("v1", backoff=FAST))
    with pytest.raises(
        AuthenticationError, match="webhook authentication failed: connection refused"
    ):
        authenticate(authenticator)
    assert len(transport.sent) == 2
    with pytest.raises(AuthenticationError):
        authenticate(authenticator)
    assert len(transport.sent) == 4


def test_the_union_awaits_the_webhook_after_the_other_token_authenticators(tmp_path: Path) -> None:
    transport = FakeTransport(answer(authenticated=True, user=ALICE))
    options = AuthenticationOptions(
        token_webhook=TokenWebhookOptions(
            tmp_path / "w.conf", lambda _: transport, TokenWebhookSettings("v1")
        )
    )
    union = build_authenticator(options)
    request = AuthRequest(headers={"Authorization": "Bearer t0k3n"})
    with pytest.raises(AuthenticationError):
        union.authenticate(request)  # the plain form does not call out
    response = asyncio.run(union.authenticate_async(request))
    assert response.user.name == "alice"
    assert response.user.groups == ("developers", "system:authenticated")
    assert union.authenticate(request).user.name == "alice"  # now cached


def test_an_unsupported_version_is_refused(tmp_path: Path) -> None:
    options = AuthenticationOptions(
        token_webhook=TokenWebhookOptions(
            tmp_path / "w.conf", lambda _: FakeTransport(answer()), TokenWebhookSettings("v2")
        )
    )
    with pytest.raises(
        InputError, match='authentication-token-webhook-version: Unsupported value: "v2"'
    ):
        build_authenticator(options)
