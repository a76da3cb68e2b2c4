"""Object metadata: timestamps, uids and the accessors every layer uses on JSON objects.

Objects travel through kubeward as the plain JSON dicts of the Kubernetes wire format. These
helpers keep the few rules about ``metadata`` in one place:

 1. Timestamps are RFC 3339 in UTC with second precision (``2024-05-01T10:00:00Z``), as
    ``metav1.Time`` marshals them.
 2. ``resourceVersion`` is never stored inside an object: it is the storage revision of the
    object's last write, set on every read.
 3. ``uid`` is a random UUID given at creation and never changed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

JSONObject = dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    """Parse an RFC 3339 timestamp; None when it is not one."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def new_uid() -> str:
    return str(uuid.uuid4())


def metadata(obj: JSONObject) -> JSONObject:
    """The object's metadata dict, created empty if absent."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def name_of(obj: JSONObject) -> str:
    meta = obj.get("metadata")
    return str(meta.get("name") or "") if isinstance(meta, dict) else ""


def namespace_of(obj: JSONObject) -> str:
    meta = obj.get("metadata")
    return str(meta.get("namespace") or "") if isinstance(meta, dict) else ""


def labels_of(obj: JSONObject) -> dict[str, str]:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


def get_path(obj: JSONObject, dotted: str) -> Any:
    """``get_path(pod, "spec.nodeName")``; None when any step is missing."""
    current: Any = obj
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current
