"""How the store reads back what it wrote: objects, resource versions, continue tokens.

1. An object is stored as its JSON without ``resourceVersion``; reading it back sets
   ``metadata.resourceVersion`` to the backend revision of its last write.
2. A resource version given by a client is a non-negative integer (400 otherwise).
3. A continue token carries the revision of the first page and the last key returned, so every
   page of a list reads the same revision (410 with Kubernetes' message once compacted).
"""

from __future__ import annotations

import base64

import orjson

from kubeward.api import meta as m
from kubeward.errors import BadRequest
from kubeward.storage.interfaces import KeyValue

CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)


def encode(obj: m.JSONObject) -> bytes:
    """The stored form: ``apiVersion``, ``kind`` and ``metadata`` first, and no resourceVersion.

    The fixed head lets a list splice ``resourceVersion`` into the stored bytes instead of
    decoding and encoding every item (``Store.list_json``). That relies on the store being
    the only writer of its keys and never storing ``metadata.resourceVersion`` (the revision is
    the backend's): every write path drops it. Values stored before this order was fixed, or
    without the head, are still read; they take the decoding path.
    """
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "resourceVersion" in meta:
        meta = {k: v for k, v in meta.items() if k != "resourceVersion"}
    if "apiVersion" not in obj or "kind" not in obj or not isinstance(meta, dict):
        return orjson.dumps(obj)
    ordered: m.JSONObject = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": {}}
    ordered.update(obj)
    ordered["metadata"] = meta
    return orjson.dumps(ordered)


def decode(kv: KeyValue) -> m.JSONObject:
    obj: m.JSONObject = orjson.loads(kv.value)
    m.metadata(obj)["resourceVersion"] = str(kv.mod_revision)
    return obj


def encode_continue(revision: int, last_key: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": last_key})
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=="))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"continue key is not valid: {exc}") from exc


def parse_rv(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f'invalid resource version "{text}"') from None
    if value < 0:
        raise BadRequest(f'invalid resource version "{text}"')
    return value
