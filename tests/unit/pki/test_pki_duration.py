import datetime

import pytest

from kubeward.errors import InputError
from kubeward.pki.duration import format_duration, parse_duration, short_human_duration

H = datetime.timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8760h", 8760 * H),
        ("30d", 720 * H),
        ("90m", datetime.timedelta(minutes=90)),
        ("1h30m", datetime.timedelta(minutes=90)),
        ("1.5h", datetime.timedelta(minutes=90)),
        ("45s", datetime.timedelta(seconds=45)),
        ("500ms", datetime.timedelta(milliseconds=500)),
        ("0", datetime.timedelta(0)),
        ("-2h", -2 * H),
        (" 2d ", 48 * H),
    ],
    ids=[
        "hours",
        "days",
        "minutes",
        "compound",
        "fraction",
        "seconds",
        "millis",
        "zero",
        "negative",
        "spaces",
    ],
)
def test_parse_duration(text: str, expected: datetime.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "10", "h", "10x", "1h 2m", "--1h", "1y"], ids=str)
def test_parse_duration_rejects_garbage_quoting_it(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8760 * H, "8760h0m0s"),
        (datetime.timedelta(minutes=90), "1h30m0s"),
        (datetime.timedelta(seconds=45), "45s"),
    ],
    ids=["year", "ninety-minutes", "seconds"],
)
def test_format_duration_like_go(value: datetime.timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.timedelta(seconds=-5), "<invalid>"),
        (datetime.timedelta(seconds=30), "30s"),
        (datetime.timedelta(minutes=5), "5m"),
        (5 * H, "5h"),
        (364 * 24 * H, "364d"),
        (9 * 365 * 24 * H + H, "9y"),
    ],
    ids=["expired", "seconds", "minutes", "hours", "days", "years"],
)
def test_short_human_duration_like_kubeadm(value: datetime.timedelta, expected: str) -> None:
    assert short_human_duration(value) == expected
