"""``kubeward token``: kubeadm's Secret layout, validation messages and ``token list`` table."""

from __future__ import annotations

import base64
import datetime

import pytest

from kubeward.cli.token import (
    format_table,
    generate_token,
    parse_ttl,
    token_id_of,
    token_secret,
)
from kubeward.errors import InputError

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(hours=24)
GROUP = "system:bootstrappers:kubeadm:default-node-token"


def decoded(secret: dict[str, object]) -> dict[str, str]:
    data = secret["data"]
    assert isinstance(data, dict)
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def test_the_secret_is_kubeadms() -> None:
    secret = token_secret(
        "abcdef.0123456789abcdef", DAY, ["signing", "authentication"], [GROUP], "for worker-1", NOW
    )
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert decoded(secret) == {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "description": "for worker-1",
        "expiration": "2026-12-07T12:00:00Z",
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": GROUP,
    }


def test_ttl_zero_never_expires() -> None:
    secret = token_secret("abcdef.0123456789abcdef", parse_ttl("0"), ["signing"], [], "", NOW)
    assert "expiration" not in decoded(secret)
    assert parse_ttl("1h30m") == datetime.timedelta(minutes=90)


@pytest.mark.parametrize(
    ("token", "usages", "groups", "message"),
    [
        ("abcdef.0123", ["signing"], [], 'the bootstrap token "abcdef.0123" was not of the form'),
        (
            "abcdef.0123456789abcdef",
            ["signing", "auth"],
            [],
            "invalid bootstrap token usage string: auth",
        ),
        (
            "abcdef.0123456789abcdef",
            ["authentication"],
            ["system:masters"],
            'bootstrap group "system:masters" is invalid',
        ),
        (
            "abcdef.0123456789abcdef",
            ["signing"],
            [GROUP],
            "token groups cannot be specified unless",
        ),
    ],
    ids=[
        "malformed-token",
        "unknown-usage",
        "group-outside-bootstrappers",
        "groups-without-authentication",
    ],
)
def test_bad_input_is_refused_in_one_line(
    token: str, usages: list[str], groups: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        token_secret(token, DAY, usages, groups, "", NOW)


def test_a_generated_token_has_the_bootstrap_shape() -> None:
    token = generate_token()
    assert token_id_of(token) == token[:6]
    assert token_secret(token, DAY, ["signing"], [], "", NOW)


def test_token_id_of_accepts_a_token_or_an_id() -> None:
    assert token_id_of("abcdef.0123456789abcdef") == token_id_of("abcdef") == "abcdef"
    with pytest.raises(InputError, match="didn't match pattern"):
        token_id_of("ABC")


def test_the_list_table_is_kubeadms() -> None:
    first = token_secret(
        "abcdef.0123456789abcdef", DAY, ["signing", "authentication"], [GROUP], "", NOW
    )
    second = token_secret(
        "zyxwvu.0123456789abcdef", parse_ttl("0"), ["signing"], [], "cluster-info", NOW
    )
    table = format_table([first, second], NOW + datetime.timedelta(hours=1))
    lines = table.splitlines()
    assert lines[0].split() == [
        "TOKEN",
        "TTL",
        "EXPIRES",
        "USAGES",
        "DESCRIPTION",
        "EXTRA",
        "GROUPS",
    ]
    assert lines[1].split() == [
        "abcdef.0123456789abcdef",
        "23h",
        "2026-12-07T12:00:00Z",
        "authentication,signing",
        "<none>",
        GROUP,
    ]
    assert lines[2].split() == [
        "zyxwvu.0123456789abcdef",
        "<forever>",
        "<never>",
        "signing",
        "cluster-info",
        "<none>",
    ]
    # Columns are padded as kubeadm pads them: the header's TTL starts where the token ends + 3.
    assert lines[0].index("TTL") == len("abcdef.0123456789abcdef") + 3 == lines[1].index("23h")
