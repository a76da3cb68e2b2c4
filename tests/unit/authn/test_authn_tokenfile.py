"""The static token file stays keyed by token: one token names one user."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kubeward.authn.interfaces import AuthRequest
from kubeward.authn.tokenfile import TokenFileAuthenticator


def bearer(token: str) -> AuthRequest:
    return AuthRequest(headers={"Authorization": f"Bearer {token}"})


def test_a_token_names_its_user_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('t1,jane,1001,"dev,qa"\nt2,jane,1001\n')
    authenticator = TokenFileAuthenticator(path)
    first = authenticator.authenticate(bearer("t1"))
    second = authenticator.authenticate(bearer("t2"))
    assert first is not None and first.user.groups == ("dev", "qa")
    # The same user may hold two tokens: the file is keyed by token, not by user.
    assert second is not None and second.user.name == "jane"
    assert authenticator.authenticate(bearer("t3")) is None


def test_a_duplicate_token_is_logged_and_the_later_line_wins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text("same,alice,1\nsame,bob,2\n")
    with caplog.at_level(logging.WARNING):
        authenticator = TokenFileAuthenticator(path)
    assert "tokens.csv:2: duplicate token; the later line wins" in caplog.text
    response = authenticator.authenticate(bearer("same"))
    assert response is not None and response.user.name == "bob"
