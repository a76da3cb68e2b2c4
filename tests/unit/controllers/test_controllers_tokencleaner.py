"""The tokencleaner's deadlines: when a bootstrap token Secret is due for deletion."""

from __future__ import annotations

import base64

import pytest

from kubeward.controllers.tokencleaner import seconds_left

NOW = 1_900_000_000.0  # 2030-03-17T17:46:40Z


def secret(expiration: str | None) -> dict[str, object]:
    data = (
        {} if expiration is None else {"expiration": base64.b64encode(expiration.encode()).decode()}
    )
    return {"metadata": {"name": "bootstrap-token-abcdef"}, "data": data}


@pytest.mark.parametrize(
    ("expiration", "left"),
    [
        (None, None),
        ("2030-03-17T18:46:40Z", 3600.0),
        ("2030-03-17T16:46:40Z", -3600.0),
        ("next tuesday", 0.0),
    ],
    ids=["no-expiration", "in-an-hour", "an-hour-ago", "unparseable"],
)
def test_seconds_left(expiration: str | None, left: float | None) -> None:
    assert seconds_left(secret(expiration), NOW) == left
