"""The authenticator union built from kube-apiserver's flags (``authn.factory``)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from kubeward.api.user import UserInfo
from kubeward.authn.factory import AuthenticationOptions, build_authenticator
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.errors import InputError


class FixedToken:
    """A token authenticator of kubeward's own seam that knows one token."""

    name = "fixed"

    def __init__(self, token: str, user: str) -> None:
        self.token, self.user = token, user

    def authenticate_token(
        self, token: str, audiences: tuple[str, ...] = ()
    ) -> AuthResponse | None:
        if token != self.token:
            return None
        return AuthResponse(UserInfo(name=self.user), self.name)


def bearer(token: str) -> AuthRequest:
    return AuthRequest(headers={"Authorization": f"Bearer {token}"})


def test_the_token_file_comes_before_the_tokens_the_caller_adds(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("shared-token,from-file,u1\n")
    union = build_authenticator(
        AuthenticationOptions(token_auth_file=tokens),
        [FixedToken("shared-token", "from-caller"), FixedToken("other", "only-caller")],
    )
    assert union.authenticate(bearer("shared-token")).user.name == "from-file"
    assert union.authenticate(bearer("other")).user.name == "only-caller"


def test_anonymous_only_when_asked(tmp_path: Path) -> None:
    anonymous = build_authenticator(AuthenticationOptions(anonymous=True))
    assert anonymous.authenticate(AuthRequest(headers={})).user.name == "system:anonymous"
    assert build_authenticator(AuthenticationOptions(anonymous=False)).anonymous is False


def test_the_basic_auth_file_warns_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    passwords = tmp_path / "users.csv"
    passwords.write_text("password123,user1,u0001\n")
    with caplog.at_level(logging.WARNING):
        union = build_authenticator(AuthenticationOptions(basic_auth_file=passwords))
    assert any("--basic-auth-file is set" in r.getMessage() for r in caplog.records)
    encoded = base64.b64encode(b"user1:password123").decode()
    answer = union.authenticate(AuthRequest(headers={"Authorization": f"Basic {encoded}"}))
    assert answer.user.name == "user1"


def test_an_unusable_client_ca_file_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "ca.crt"
    with pytest.raises(InputError, match=rf"^{missing}: no such file$"):
        build_authenticator(AuthenticationOptions(client_ca_file=missing))
    missing.write_text("not a certificate")
    with pytest.raises(InputError, match=rf"^{missing}: not a PEM certificate bundle$"):
        build_authenticator(AuthenticationOptions(client_ca_file=missing))
