"""The legacy password file: keyed by user name, so users may share a password (issue 11, item 1)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from kubeward.authn.basic import BasicAuthenticator
from kubeward.authn.interfaces import AuthRequest
from kubeward.errors import AuthenticationError

# The course's user-details.csv: five users, one password.
COURSE_USER_DETAILS = "".join(f"password123,user{n},u000{n}\n" for n in range(1, 6))


def basic(user: str, password: str) -> AuthRequest:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return AuthRequest(headers={"Authorization": f"Basic {encoded}"})


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    path = tmp_path / "user-details.csv"
    path.write_text(COURSE_USER_DETAILS)
    return path


@pytest.mark.parametrize("n", range(1, 6), ids=[f"user{n}" for n in range(1, 6)])
def test_every_course_user_sharing_one_password_authenticates(course_file: Path, n: int) -> None:
    response = BasicAuthenticator(course_file).authenticate(basic(f"user{n}", "password123"))
    assert response is not None
    assert (response.user.name, response.user.uid) == (f"user{n}", f"u000{n}")


@pytest.mark.parametrize(
    ("user", "password"),
    [("user1", "password124"), ("user6", "password123"), ("", "password123")],
    ids=["wrong-password", "unknown-user", "no-user"],
)
def test_a_wrong_password_or_unknown_user_is_refused(
    course_file: Path, user: str, password: str
) -> None:
    with pytest.raises(AuthenticationError):
        BasicAuthenticator(course_file).authenticate(basic(user, password))


def test_groups_column_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('hunter2,alice,2001,"ops,dev"\n')
    response = BasicAuthenticator(path).authenticate(basic("alice", "hunter2"))
    assert response is not None and response.user.groups == ("ops", "dev")


def test_a_duplicate_user_name_is_logged_and_the_later_line_wins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.csv"
    path.write_text("first,alice,1\nsecond,alice,2\n")
    with caplog.at_level(logging.WARNING):
        authenticator = BasicAuthenticator(path)
    assert "p.csv:2: duplicate user name 'alice'; the later line wins" in caplog.text
    response = authenticator.authenticate(basic("alice", "second"))
    assert response is not None and response.user.uid == "2"
    with pytest.raises(AuthenticationError):
        authenticator.authenticate(basic("alice", "first"))


def test_bearer_tokens_are_not_basic_auth(course_file: Path) -> None:
    request = AuthRequest(headers={"Authorization": "Bearer password123"})
    assert BasicAuthenticator(course_file).authenticate(request) is None
