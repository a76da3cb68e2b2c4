"""The ``--as`` user: built once, the same for the server's impersonation and ``kubeward rbac``."""

from __future__ import annotations

import pytest

from kubeward.api.user import UserInfo, impersonated_user

AUTHENTICATED = "system:authenticated"


@pytest.mark.parametrize(
    ("name", "groups", "expected"),
    [
        ("dev-user", (), (AUTHENTICATED,)),
        ("dev-user", ("dev", "qa"), ("dev", "qa", AUTHENTICATED)),
        ("dev-user", (AUTHENTICATED, "dev"), (AUTHENTICATED, "dev")),
        ("dev-user", ("system:unauthenticated",), ("system:unauthenticated",)),
        ("system:anonymous", (), ("system:unauthenticated",)),
        ("system:anonymous", ("system:unauthenticated",), ("system:unauthenticated",)),
        (
            "system:serviceaccount:apps:bot",
            (),
            ("system:serviceaccounts", "system:serviceaccounts:apps", AUTHENTICATED),
        ),
        ("system:serviceaccount:apps:bot", ("ops",), ("ops", AUTHENTICATED)),
        ("system:serviceaccount:broken", (), (AUTHENTICATED,)),
    ],
    ids=[
        "plain-user",
        "with-groups",
        "authenticated-asked",
        "unauthenticated-asked",
        "anonymous",
        "anonymous-asked",
        "service-account",
        "service-account-with-groups",
        "not-a-service-account-name",
    ],
)
def test_impersonated_user_groups(name: str, groups: tuple[str, ...], expected: tuple[str, ...]):
    assert impersonated_user(name, groups) == UserInfo(name, groups=expected)


def test_uid_and_extras_are_kept():
    user = impersonated_user("jane", uid="42", extra={"scopes": ["a", "b"]})
    assert (user.uid, dict(user.extra)) == ("42", {"scopes": ("a", "b")})
