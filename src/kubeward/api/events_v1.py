"""events.k8s.io/v1 Event and core/v1 Event: two views of one stored object.

Kubernetes stores every Event once (as ``/registry/events/...``) and serves it through both
APIs, converting field by field (``pkg/apis/events/v1/conversion.go``). kubeward stores the core
form under the core key and converts the events.k8s.io view on the way in and out, so an event
written through either API is read through the other. Rules:

 1. Renamed fields: ``regarding`` is ``involvedObject``, ``note`` is ``message``,
    ``reportingController`` is ``reportingComponent``, and ``deprecatedSource``,
    ``deprecatedFirstTimestamp``, ``deprecatedLastTimestamp`` and ``deprecatedCount`` are
    ``source``, ``firstTimestamp``, ``lastTimestamp`` and ``count``.
 2. Fields with the same name (``eventTime``, ``series``, ``action``, ``reason``, ``related``,
    ``reportingInstance``, ``type``) and ``metadata`` pass unchanged; a field absent on one side
    is absent on the other.
 3. Converting one way and back gives the object back.
"""

from __future__ import annotations

from typing import Any

CORE_API_VERSION = "v1"
EVENTS_API_VERSION = "events.k8s.io/v1"
KIND = "Event"

# events.k8s.io/v1 name -> core/v1 name (rule 1).
RENAMED = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_TO_EVENTS = {core: events for events, core in RENAMED.items()}
_TYPE_META = ("apiVersion", "kind")


def to_core(event: dict[str, Any]) -> dict[str, Any]:
    """The core/v1 form of an events.k8s.io/v1 Event (a new dict; the input is not changed)."""
    out: dict[str, Any] = {"apiVersion": CORE_API_VERSION, "kind": KIND}
    for key, value in event.items():
        if key not in _TYPE_META:
            out[RENAMED.get(key, key)] = value
    return out


def to_events(event: dict[str, Any]) -> dict[str, Any]:
    """The events.k8s.io/v1 form of a core/v1 Event (a new dict; the input is not changed)."""
    out: dict[str, Any] = {"apiVersion": EVENTS_API_VERSION, "kind": KIND}
    for key, value in event.items():
        if key not in _TYPE_META:
            out[_TO_EVENTS.get(key, key)] = value
    return out
