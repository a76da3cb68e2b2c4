"""Cell formatting of server-side tables: HumanDuration, timestamps, labels, selectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kubeward.api.tables import (
    format_created_at,
    format_label_selector,
    format_labels,
    human_duration,
    parse_timestamp,
    selector_string,
    translate_timestamp_since,
)

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.5, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (150, "2m30s"),
        (9 * MINUTE + 59, "9m59s"),
        (10 * MINUTE, "10m"),
        (10 * MINUTE + 59, "10m"),
        (3 * HOUR - 1, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + 4 * MINUTE + 59, "3h4m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (3 * DAY + 5 * HOUR, "3d5h"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (2 * YEAR - 1, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + 45 * DAY, "2y45d"),
        (8 * YEAR - 1, "7y364d"),
        (8 * YEAR, "8y"),
        (9 * YEAR + 200 * DAY, "9y"),
    ],
    ids=lambda value: str(value),
)
def test_human_duration_follows_go_boundaries(seconds: float, expected: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == expected


def _ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("not a time", "<unknown>"),
        ("0001-01-01T00:00:00Z", "<unknown>"),
        (_ago(5), "5s"),
        (_ago(150), "2m30s"),
        (_ago(-1), "0s"),
        (_ago(-5), "<invalid>"),
        ("2024-06-01T13:00:00+02:00", "60m"),
        ("2024-06-01T11:59:50.123456Z", "9s"),
    ],
    ids=[
        "absent",
        "empty",
        "garbage",
        "go-zero-time",
        "seconds",
        "minutes-seconds",
        "clock-skew",
        "future",
        "offset",
        "micro-time",
    ],
)
def test_translate_timestamp_since(value: object, expected: str) -> None:
    assert translate_timestamp_since(value, NOW) == expected


def test_translate_timestamp_since_takes_naive_now_as_utc() -> None:
    assert translate_timestamp_since(_ago(30), NOW.replace(tzinfo=None)) == "30s"


def test_parse_timestamp_accepts_nanoseconds() -> None:
    parsed = parse_timestamp("2024-06-01T11:59:50.123456789Z")
    assert parsed is not None
    assert parsed.microsecond == 123456


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z"),
        ("2024-06-01T14:00:00+02:00", "2024-06-01T12:00:00Z"),
        ("2024-06-01T12:00:00.999999Z", "2024-06-01T12:00:00Z"),
        (None, "0001-01-01T00:00:00Z"),
    ],
    ids=["utc", "offset-to-utc", "fraction-dropped", "absent-is-go-zero"],
)
def test_format_created_at(value: object, expected: str) -> None:
    assert format_created_at(value) == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, "<none>"),
        ({"app": "web"}, "app=web"),
        ({"tier": "db", "app": "web", "env": ""}, "app=web,env=,tier=db"),
    ],
    ids=["empty", "one", "sorted"],
)
def test_format_labels(labels: dict[str, str], expected: str) -> None:
    assert format_labels(labels) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"tier": "db", "app": "web"}}, "app=web,tier=db"),
        (
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
            "env in (dev,prod)",
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["qa"]}]},
            "env notin (qa)",
        ),
        (
            {
                "matchLabels": {"zone": "a"},
                "matchExpressions": [
                    {"key": "legacy", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "Exists"},
                ],
            },
            "app,!legacy,zone=a",
        ),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": []}]}, "<error>"),
        ({"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["x"]}]}, "<error>"),
        ({"matchExpressions": [{"key": "env", "operator": "Like", "values": ["x"]}]}, "<error>"),
        ({"matchLabels": {"bad key!": "x"}}, "<error>"),
        ({"matchLabels": {"app": "not a value"}}, "<error>"),
        ("app=web", "<error>"),
    ],
    ids=[
        "null",
        "empty",
        "match-label",
        "match-labels-sorted",
        "in-values-sorted",
        "notin",
        "exists-and-not-exists-sorted-by-key",
        "in-without-values",
        "exists-with-values",
        "unknown-operator",
        "invalid-key",
        "invalid-value",
        "not-an-object",
    ],
)
def test_format_label_selector(selector: object, expected: str) -> None:
    assert format_label_selector(selector) == expected


def test_selector_string_leaves_empty_selectors_empty_and_flags_invalid_ones() -> None:
    assert selector_string(None) == ""
    assert selector_string({}) == ""
    assert selector_string({"matchLabels": {"app": "web"}}) == "app=web"
    assert selector_string({"matchExpressions": [{"key": "k", "operator": "Nope"}]}) is None
