"""events.k8s.io/v1 events: a second view of the core Events (``api.events_v1``).

The kind's objects are stored under the core Event's keys in the core form, so an Event created
through either API is listed, watched, patched and deleted through both. Writes through
events.k8s.io/v1 are held to upstream's rules for that version (``ValidateEventCreate`` and
the legacy rules it includes); the field paths in the refusals are the core names, because
upstream validates the internal (core-shaped) type. Always (legacy rules):

 1. An event without ``eventTime`` lives in its object's namespace (an event about a
    cluster-scoped object in ``default``).
 2. An event with ``eventTime``: about a cluster-scoped object, it lives in ``default`` or
    ``kube-system``; ``reportingController`` (a qualified name), ``reportingInstance``,
    ``action`` and ``reason`` are required, each at most 128 characters; the note at most 1024.

On create (strict rules):

 3. ``eventTime`` is required; ``type`` is Normal or Warning; a ``series`` has a count of at
    least 2 and a ``lastObservedTime``.
 4. The deprecated fields (``firstTimestamp``, ``lastTimestamp``, ``count``, ``source``) are
    unset.

On update: only the ``series`` (checked as on create when it changes) and metadata may change;
every other field of the event is immutable.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.events_v1 import to_core, to_events
from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import field
from kubeward.api.validation.meta import check_qualified_name
from kubeward.errors import Cause

EVENTS_V1 = ResourceType(
    "events.k8s.io", "v1", "Event", "events", True, short_names=("ev",), storage_group=""
)
TYPES = (EVENTS_V1,)
LENGTH_LIMIT = 128
NOTE_LENGTH_LIMIT = 1024
EVENT_TYPES = ("Normal", "Warning")


def _too_long(path: str, limit: int) -> Cause:
    return field.invalid(path, "", f"can have at most {limit} characters")


def validate_legacy(event: JSONObject) -> list[Cause]:
    """Rules 1 and 2, checked on the core form as upstream checks its internal type."""
    core: dict[str, Any] = to_core(event)
    namespace = str((core.get("metadata") or {}).get("namespace") or "")
    involved_namespace = str((core.get("involvedObject") or {}).get("namespace") or "")
    mismatch = field.invalid(
        "involvedObject.namespace", involved_namespace, "does not match event.namespace"
    )
    if not core.get("eventTime"):
        if involved_namespace:
            return [] if namespace == involved_namespace else [mismatch]
        return [] if namespace in ("", "default") else [mismatch]
    causes: list[Cause] = []
    if not involved_namespace and namespace not in ("default", "kube-system"):
        causes.append(mismatch)
    controller = str(core.get("reportingComponent") or "")
    if not controller:
        causes.append(field.required("reportingController"))
    causes.extend(
        field.invalid("reportingController", controller, m)
        for m in check_qualified_name(controller)
    )
    for key in ("reportingInstance", "action", "reason"):
        value = str(core.get(key) or "")
        if not value:
            causes.append(field.required(key))
        elif len(value) > LENGTH_LIMIT:
            causes.append(_too_long(key, LENGTH_LIMIT))
    if len(str(core.get("message") or "")) > NOTE_LENGTH_LIMIT:
        causes.append(_too_long("message", NOTE_LENGTH_LIMIT))
    return causes


_IMMUTABLE = (
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "type",
    "eventTime",
    "action",
    "related",
    "reportingComponent",
    "reportingInstance",
)
_CORE_PATHS = {"reportingComponent": "reportingController"}


def _series_causes(core: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    series = core.get("series")
    if isinstance(series, dict):
        count = series.get("count")
        if not isinstance(count, int) or count < 2:
            causes.append(field.invalid("series.count", "", "should be at least 2"))
        if not series.get("lastObservedTime"):
            causes.append(field.required("series.lastObservedTime"))
    return causes


def validate_strict(event: JSONObject) -> list[Cause]:
    """Rules 3 and 4, for a create through events.k8s.io/v1."""
    core: dict[str, Any] = to_core(event)
    causes = _series_causes(core)
    if not core.get("eventTime"):
        causes.append(field.required("eventTime"))
    event_type = core.get("type")
    if event_type not in EVENT_TYPES:
        causes.append(field.invalid("type", "", f"has invalid value: {event_type or ''}"))
    for key in ("firstTimestamp", "lastTimestamp", "count"):
        if core.get(key):
            causes.append(field.invalid(key, "", "needs to be unset"))
    source = core.get("source") or {}
    if isinstance(source, dict) and (source.get("component") or source.get("host")):
        causes.append(field.invalid("source", "", "needs to be unset"))
    return causes


def validate_update(new: JSONObject, old: JSONObject) -> list[Cause]:
    """The update rule of the module docstring, on the core forms."""
    new_core, old_core = to_core(new), to_core(old)
    causes = _series_causes(new_core) if new_core.get("series") != old_core.get("series") else []
    for key in _IMMUTABLE:
        if new_core.get(key) != old_core.get(key):
            path = _CORE_PATHS.get(key, key)
            causes.append(field.invalid(path, new_core.get(key), "field is immutable"))
    return causes


class EventV1Strategy(Strategy):
    generation_fields = ()
    selectable_fields = (
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "regarding.apiVersion",
        "regarding.resourceVersion",
        "regarding.fieldPath",
        "reason",
        "reportingController",
        "type",
    )

    def to_storage(self, obj: JSONObject) -> JSONObject:
        return to_core(obj)

    def from_storage(self, obj: JSONObject) -> JSONObject:
        return to_events(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_legacy(obj)

    def validate_create(self, obj: JSONObject) -> list[Cause]:
        return validate_strict(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return validate_update(new, old)


STRATEGIES: dict[ResourceType, type[Strategy]] = {EVENTS_V1: EventV1Strategy}
