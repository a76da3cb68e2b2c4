"""Impersonation headers → the identity a request runs as, and the checks made on the way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from multidict import CIMultiDict

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import NO_OPINION, Attributes, AuthzResult, Decision
from kubeward.errors import ImpersonationRefused, InternalError
from kubeward.server.impersonation import impersonate

REQUESTER = UserInfo("alice", groups=("ops", "system:authenticated"))


class RecordingAuthorizer:
    """Allows what ``allowed`` lists as (resource, subresource, namespace, name), records asks."""

    name = "recording"

    def __init__(self, allowed: set[tuple[str, str, str, str]] | None = None) -> None:
        self.allowed = allowed
        self.asked: list[Attributes] = []

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.asked.append(attributes)
        key = (attributes.resource, attributes.subresource, attributes.namespace, attributes.name)
        if self.allowed is None or key in self.allowed:
            return AuthzResult(Decision.ALLOW)
        return NO_OPINION


def run_impersonate(*args: Any) -> Any:
    return asyncio.run(impersonate(*args))


def headers(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    return CIMultiDict(pairs)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((("Impersonate-User", "jane"),), UserInfo("jane", groups=("system:authenticated",))),
        (
            (
                ("Impersonate-User", "jane"),
                ("Impersonate-Group", "dev"),
                ("Impersonate-Group", "qa"),
            ),
            UserInfo("jane", groups=("dev", "qa", "system:authenticated")),
        ),
        (
            (("Impersonate-User", "jane"), ("Impersonate-Group", "system:unauthenticated")),
            UserInfo("jane", groups=("system:unauthenticated",)),
        ),
        (
            (("Impersonate-User", "system:anonymous"),),
            UserInfo("system:anonymous", groups=("system:unauthenticated",)),
        ),
        (
            (("Impersonate-User", "system:serviceaccount:apps:bot"),),
            UserInfo(
                "system:serviceaccount:apps:bot",
                groups=(
                    "system:serviceaccounts",
                    "system:serviceaccounts:apps",
                    "system:authenticated",
                ),
            ),
        ),
        (
            (
                ("Impersonate-User", "jane"),
                ("Impersonate-Uid", "42"),
                ("Impersonate-Extra-Scopes", "a"),
                ("impersonate-extra-scopes", "b"),
                ("Impersonate-Extra-Example.com%2fteam", "x"),
            ),
            UserInfo(
                "jane",
                uid="42",
                groups=("system:authenticated",),
                extra={"example.com/team": ("x",), "scopes": ("a", "b")},
            ),
        ),
    ],
    ids=[
        "user",
        "user-and-groups",
        "unauthenticated-group",
        "anonymous",
        "service-account",
        "uid-and-extras",
    ],
)
def test_impersonated_identity(pairs: tuple[tuple[str, str], ...], expected: UserInfo) -> None:
    user = run_impersonate(headers(*pairs), REQUESTER, RecordingAuthorizer())
    assert (user.name, user.uid, user.groups) == (expected.name, expected.uid, expected.groups)
    assert dict(user.extra) == dict(expected.extra)


def test_no_headers_keep_the_requester() -> None:
    authorizer = RecordingAuthorizer(set())
    assert (
        run_impersonate(headers(("Accept", "application/json")), REQUESTER, authorizer) is REQUESTER
    )
    assert authorizer.asked == []


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ((("Impersonate-User", "jane"),), [("users", "", "", "", "jane")]),
        (
            (("Impersonate-User", "system:serviceaccount:apps:bot"),),
            [("serviceaccounts", "", "apps", "", "bot")],
        ),
        (
            (
                ("Impersonate-User", "jane"),
                ("Impersonate-Group", "dev"),
                ("Impersonate-Uid", "42"),
                ("Impersonate-Extra-Scopes", "a"),
            ),
            [
                ("users", "", "", "", "jane"),
                ("uids", "", "", "authentication.k8s.io", "42"),
                ("groups", "", "", "", "dev"),
                ("userextras", "scopes", "", "authentication.k8s.io", "a"),
            ],
        ),
    ],
    ids=["user", "service-account", "every-part"],
)
def test_each_part_is_authorized_with_the_impersonate_verb(
    pairs: tuple[tuple[str, str], ...], expected: list[tuple[str, str, str, str, str]]
) -> None:
    authorizer = RecordingAuthorizer()
    run_impersonate(headers(*pairs), REQUESTER, authorizer)
    asked = [
        (a.resource, a.subresource, a.namespace, a.api_group, a.name) for a in authorizer.asked
    ]
    assert asked == expected
    assert all(a.verb == "impersonate" and a.user is REQUESTER for a in authorizer.asked)


@pytest.mark.parametrize(
    ("allowed", "refused"),
    [
        (set(), ("users", "jane")),
        ({("users", "", "", "jane")}, ("groups", "dev")),
        ({("users", "", "", "jane"), ("groups", "", "", "dev")}, ("userextras", "a")),
    ],
    ids=["user", "group", "extra"],
)
def test_the_first_refused_part_ends_the_request(
    allowed: set[tuple[str, str, str, str]], refused: tuple[str, str]
) -> None:
    pairs = (
        ("Impersonate-User", "jane"),
        ("Impersonate-Group", "dev"),
        ("Impersonate-Extra-Scopes", "a"),
    )
    with pytest.raises(ImpersonationRefused) as caught:
        run_impersonate(headers(*pairs), REQUESTER, RecordingAuthorizer(allowed))
    assert (caught.value.attributes.resource, caught.value.attributes.name) == refused


@pytest.mark.parametrize(
    "pairs",
    [
        (("Impersonate-Group", "dev"),),
        (("Impersonate-Uid", "1"),),
        (("Impersonate-Extra-Scopes", "a"),),
    ],
    ids=["group", "uid", "extra"],
)
def test_parts_without_a_user_are_refused(pairs: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(InternalError):
        run_impersonate(headers(*pairs), REQUESTER, RecordingAuthorizer())
