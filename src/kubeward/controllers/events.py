"""Events a controller records about the objects it acts on (client-go's ``EventRecorder``,
reduced), so ``kubectl describe`` tells what happened.

Rules:

 1. An event is a core/v1 Event in the object's namespace, named ``<object>.<hex nanoseconds>``,
    with the object as ``involvedObject``, ``source.component`` and ``reportingComponent`` the
    controller's name (``replicaset-controller``), type ``Normal`` or ``Warning``, ``count`` 1.
 2. Recording never delays or fails the controller: the write is sent in the background, with
    the controller's own client (its role allows events), and a failure is logged at debug
    level only. At most ``MAX_PENDING`` writes are in flight; beyond that events are dropped,
    as client-go's broadcaster drops them when its queue is full.
 3. Spam filter, as client-go's ``EventSourceObjectSpamFilter``: each involved object has a
    token bucket of ``SPAM_BURST`` (25) events refilled at one per ``SPAM_REFILL_SECONDS``
    (300); an event without a token is dropped. A ReplicaSet of 1,000 pods records its first
    25 creations, not 1,000.
 4. Repeats are counted, as client-go's ``EventCorrelator`` counts them: the same event (object,
    field path, type, reason and message) recorded again patches the first one's ``count`` and
    ``lastTimestamp`` instead of writing another, which ``kubectl describe`` shows as
    ``(x3 over 2m)``. The last ``CORRELATION_ENTRIES`` (4,096) events are remembered; each
    write waits for the one before it of the same event, so a count never reaches the server
    before the event it counts.
 5. A node's kubelet records with its ``host`` (``source.host``, ``reportingInstance``); the
    scheduler and the node agent use this recorder as the controllers do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core import EVENTS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError

log = logging.getLogger("kubeward.controllers")

NORMAL = "Normal"
WARNING = "Warning"
MAX_PENDING = 1000
SPAM_BURST = 25
SPAM_REFILL_SECONDS = 300.0
CORRELATION_ENTRIES = 4096

# An event's identity for rule 4: (uid, field path, type, reason, message).
_Key = tuple[str, str, str, str, str]


class EventRecorder:
    def __init__(self, client: APIClient, component: str, host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host
        self._pending: set[asyncio.Task[None]] = set()
        self._buckets: dict[str, tuple[float, float]] = {}  # uid -> (tokens, last refill)
        # rule 4: the event's name, how often it was recorded, and its last write
        self._seen: OrderedDict[_Key, tuple[str, int, asyncio.Task[None]]] = OrderedDict()

    def _allowed(self, uid: str) -> bool:
        """Rule 3."""
        now = time.monotonic()
        tokens, since = self._buckets.get(uid, (float(SPAM_BURST), now))
        tokens = min(float(SPAM_BURST), tokens + (now - since) / SPAM_REFILL_SECONDS)
        if tokens < 1.0:
            self._buckets[uid] = (tokens, now)
            return False
        self._buckets[uid] = (tokens - 1.0, now)
        return True

    def event(
        self,
        obj: m.JSONObject,
        rt: ResourceType,
        kind: str,
        reason: str,
        message: str,
        *,
        field_path: str = "",
    ) -> None:
        """Rules 1 to 4; ``field_path`` names a part of the object (``spec.containers{web}``)."""
        meta = m.metadata(obj)
        uid = str(meta.get("uid") or "")
        if len(self._pending) >= MAX_PENDING or not self._allowed(uid):
            return
        namespace = str(meta.get("namespace") or "default")
        now = m.format_time(m.now())
        key = (uid, field_path, kind, reason, message)
        seen = self._seen.pop(key, None)
        if seen is not None:
            name, count, before = seen
            patch = {"count": count + 1, "lastTimestamp": now}
            task = self._start(self._count(before, name, patch, namespace))
            self._remember(key, (name, count + 1, task))
            return
        involved: m.JSONObject = {
            "apiVersion": rt.api_version,
            "kind": rt.kind,
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        if field_path:
            involved["fieldPath"] = field_path
        name = f"{meta.get('name')}.{time.time_ns():x}"
        source = {"component": self.component, **({"host": self.host} if self.host else {})}
        body: m.JSONObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": kind,
            "source": source,
            "reportingComponent": self.component,
            **({"reportingInstance": self.host} if self.host else {}),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        self._remember(key, (name, 1, self._start(self._send(body, namespace))))

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    def _remember(self, key: _Key, entry: tuple[str, int, asyncio.Task[None]]) -> None:
        self._seen[key] = entry
        while len(self._seen) > CORRELATION_ENTRIES:
            self._seen.popitem(last=False)

    async def _count(
        self, before: asyncio.Task[None], name: str, patch: m.JSONObject, namespace: str
    ) -> None:
        await asyncio.wait([before])
        try:
            await self.client.patch(EVENTS, name, patch, namespace=namespace)
        except (KubewardError, OSError) as exc:
            log.debug("%s: event %s not counted: %s", self.component, name, exc)

    async def _send(self, body: m.JSONObject, namespace: str) -> None:
        try:
            await self.client.create(EVENTS, body, namespace)
        except (KubewardError, OSError) as exc:
            log.debug("%s: event %s not recorded: %s", self.component, body["reason"], exc)
