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
"""

from __future__ import annotations

import asyncio
import logging
import time

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


class EventRecorder:
    def __init__(self, client: APIClient, component: str) -> None:
        self.client = client
        self.component = component
        self._pending: set[asyncio.Task[None]] = set()
        self._buckets: dict[str, tuple[float, float]] = {}  # uid -> (tokens, last refill)

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
        self, obj: m.JSONObject, rt: ResourceType, kind: str, reason: str, message: str
    ) -> None:
        """Rules 1 and 2."""
        meta = m.metadata(obj)
        if len(self._pending) >= MAX_PENDING or not self._allowed(str(meta.get("uid") or "")):
            return
        namespace = str(meta.get("namespace") or "default")
        now = m.format_time(m.now())
        body: m.JSONObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": rt.api_version,
                "kind": rt.kind,
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        task = asyncio.get_running_loop().create_task(self._send(body, namespace))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, body: m.JSONObject, namespace: str) -> None:
        try:
            await self.client.create(EVENTS, body, namespace)
        except (KubewardError, OSError) as exc:
            log.debug("%s: event %s not recorded: %s", self.component, body["reason"], exc)
