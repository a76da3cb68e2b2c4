"""List and watch parameter combinations: accepted and refused exactly as upstream does."""

from __future__ import annotations

import pytest

from kubeward.api.list_options import (
    check_list_options,
    initial_events,
    list_option_causes,
)
from kubeward.errors import Invalid

WATCH_LIST = {
    "sendInitialEvents": "true",
    "resourceVersionMatch": "NotOlderThan",
    "resourceVersion": "",
}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"resourceVersion": "0"},
        {"resourceVersion": "42"},
        WATCH_LIST,
        {**WATCH_LIST, "resourceVersion": "42"},
        {**WATCH_LIST, "sendInitialEvents": "false"},
        {"allowWatchBookmarks": "true", **WATCH_LIST},
    ],
    ids=["plain", "rv0", "rv", "watch-list", "watch-list-rv", "no-initial", "bookmarks"],
)
def test_watches_upstream_accepts(query: dict[str, str]) -> None:
    assert list_option_causes(query, watch=True) == []


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        (
            {"sendInitialEvents": "true"},
            [
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            ],
        ),
        (
            {"sendInitialEvents": "true", "resourceVersionMatch": "Exact"},
            [
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"',
            ],
        ),
        (
            {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "5"},
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
            ],
        ),
        (
            {**WATCH_LIST, "continue": "abc"},
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"
            ],
        ),
    ],
    ids=["no-match", "exact", "match-without-initial", "continue"],
)
def test_watches_upstream_refuses(query: dict[str, str], messages: list[str]) -> None:
    causes = list_option_causes(query, watch=True)
    assert [f"{c.field}: {c.message}" for c in causes] == messages


@pytest.mark.parametrize(
    ("query", "messages"),
    [
        ({"resourceVersionMatch": "NotOlderThan", "resourceVersion": "5"}, []),
        ({"resourceVersionMatch": "Exact", "resourceVersion": "5"}, []),
        (
            {"resourceVersionMatch": "NotOlderThan", "resourceVersion": ""},
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
            ],
        ),
        (
            {"resourceVersionMatch": "Exact", "resourceVersion": "0"},
            [
                'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
            ],
        ),
        (
            {"resourceVersionMatch": "Newest", "resourceVersion": "5"},
            [
                'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'
            ],
        ),
        (
            WATCH_LIST,
            [
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
            ],
        ),
    ],
    ids=["not-older", "exact", "no-rv", "exact-zero", "unsupported", "initial-events"],
)
def test_lists(query: dict[str, str], messages: list[str]) -> None:
    causes = list_option_causes(query, watch=False)
    assert [f"{c.field}: {c.message}" for c in causes] == messages


def test_refusal_is_kube_apiservers_422() -> None:
    with pytest.raises(Invalid) as caught:
        check_list_options({"sendInitialEvents": "true"}, watch=True)
    status = caught.value.to_status()
    assert status["code"] == 422
    assert status["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
    )
    assert status["details"]["group"] == "meta.k8s.io"
    assert status["details"]["kind"] == "ListOptions"
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, True),
        ({"resourceVersion": "0"}, True),
        ({"resourceVersion": "9"}, False),
        (WATCH_LIST, True),
        ({**WATCH_LIST, "resourceVersion": "9"}, True),
        ({**WATCH_LIST, "sendInitialEvents": "false"}, False),
    ],
    ids=[
        "legacy-empty",
        "legacy-zero",
        "legacy-rv",
        "watch-list",
        "watch-list-rv",
        "explicit-false",
    ],
)
def test_initial_events(query: dict[str, str], expected: bool) -> None:
    assert initial_events(query) is expected
