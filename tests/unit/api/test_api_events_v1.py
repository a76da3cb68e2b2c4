"""events.k8s.io/v1 Event: the conversion to and from the core Event it is a view of, its
validation as upstream's, and one stored object seen through both stores."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.api.events_v1 import to_core, to_events
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import EVENTS, EventStrategy
from kubeward.api.resources.events import (
    EVENTS_V1,
    EventV1Strategy,
    validate_legacy,
    validate_strict,
    validate_update,
)
from kubeward.errors import Invalid
from kubeward.storage.memory import MemoryBackend

V1_EVENT: dict[str, Any] = {
    "apiVersion": "events.k8s.io/v1",
    "kind": "Event",
    "metadata": {"name": "web.1", "namespace": "default"},
    "eventTime": "2024-06-01T12:00:00.000000Z",
    "reportingController": "example.com/scaler",
    "reportingInstance": "scaler-1",
    "action": "Scale",
    "reason": "Scaled",
    "type": "Normal",
    "note": "scaled to 3",
    "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
    "series": {"count": 2, "lastObservedTime": "2024-06-01T12:01:00.000000Z"},
}


def test_conversion_renames_fields_and_round_trips() -> None:
    core = to_core(V1_EVENT)
    assert core["apiVersion"] == "v1"
    assert core["involvedObject"] == V1_EVENT["regarding"]
    assert core["message"] == "scaled to 3"
    assert core["reportingComponent"] == "example.com/scaler"
    assert "regarding" not in core and "note" not in core
    assert to_events(core) == V1_EVENT
    legacy = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "x"},
        "count": 3,
        "source": {"component": "kubelet"},
        "firstTimestamp": "2024-06-01T12:00:00Z",
    }
    assert to_events(legacy) == {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "x"},
        "deprecatedCount": 3,
        "deprecatedSource": {"component": "kubelet"},
        "deprecatedFirstTimestamp": "2024-06-01T12:00:00Z",
    }


def _without(*keys: str, **changes: Any) -> dict[str, Any]:
    event = {k: v for k, v in V1_EVENT.items() if k not in keys}
    event.update(changes)
    return event


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("valid", V1_EVENT, []),
    (
        "no controller",
        _without("reportingController"),
        [
            ("reportingController", "Required value"),
            ("reportingController", 'Invalid value: "": name part must be non-empty'),
        ],
    ),
    ("no action", _without("action"), [("action", "Required value")]),
    (
        "long reason",
        _without(reason="r" * 129),
        [("reason", 'Invalid value: "": can have at most 128 characters')],
    ),
    (
        "cluster-scoped object elsewhere",
        _without(
            regarding={"kind": "Node", "name": "n1"}, metadata={"name": "x", "namespace": "team"}
        ),
        [("involvedObject.namespace", 'Invalid value: "": does not match event.namespace')],
    ),
]


@pytest.mark.parametrize(("event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_legacy_rules(event: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(c.field, c.message) for c in validate_legacy(event)] == expected


STRICT: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("valid", V1_EVENT, []),
    ("no eventTime", _without("eventTime"), [("eventTime", "Required value")]),
    ("bad type", _without(type="Info"), [("type", 'Invalid value: "": has invalid value: Info')]),
    (
        "deprecated count",
        _without(deprecatedCount=2),
        [("count", 'Invalid value: "": needs to be unset')],
    ),
    (
        "short series",
        _without(series={"count": 1, "lastObservedTime": "2024-06-01T12:00:00Z"}),
        [("series.count", 'Invalid value: "": should be at least 2')],
    ),
]


@pytest.mark.parametrize(("event", "expected"), [c[1:] for c in STRICT], ids=[c[0] for c in STRICT])
def test_strict_rules_on_create(event: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(c.field, c.message) for c in validate_strict(event)] == expected


def test_one_object_through_both_stores() -> None:
    async def scenario() -> None:
        backend = MemoryBackend()
        await backend.start()
        core = Store(EVENTS, EventStrategy(EVENTS), backend)
        events = Store(EVENTS_V1, EventV1Strategy(EVENTS_V1), backend)
        created = await events.create("default", dict(V1_EVENT))
        assert created["apiVersion"] == "events.k8s.io/v1" and created["note"] == "scaled to 3"
        seen = await core.get("default", "web.1")
        assert seen["message"] == "scaled to 3" and seen["apiVersion"] == "v1"
        await core.create(
            "default",
            {
                "metadata": {"name": "old"},
                "message": "hi",
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
            },
        )
        listed = await events.list("default", ListOptions())
        assert [(e["metadata"]["name"], e.get("note")) for e in listed["items"]] == [
            ("old", "hi"),
            ("web.1", "scaled to 3"),
        ]
        with pytest.raises(Invalid):
            await events.create("default", {"metadata": {"name": "bad"}, "note": "x"})
        assert len((await core.list("default", ListOptions()))["items"]) == 2
        await events.delete("default", "old")
        assert [
            e["metadata"]["name"] for e in (await core.list("default", ListOptions()))["items"]
        ] == ["web.1"]
        await backend.close()

    asyncio.run(scenario())


def test_updates_through_events_k8s_io_may_change_only_the_series() -> None:
    grown = _without(series={"count": 3, "lastObservedTime": "2024-06-01T12:02:00.000000Z"})
    assert validate_update(grown, V1_EVENT) == []
    renoted = _without(note="other", reportingController="example.com/other")
    assert [(c.field, c.message) for c in validate_update(renoted, V1_EVENT)] == [
        ("message", 'Invalid value: "other": field is immutable'),
        ("reportingController", 'Invalid value: "example.com/other": field is immutable'),
    ]
    shrunk = _without(series={"count": 1, "lastObservedTime": "2024-06-01T12:02:00.000000Z"})
    assert [c.field for c in validate_update(shrunk, V1_EVENT)] == ["series.count"]
