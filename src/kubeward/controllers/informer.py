"""List, then watch, one resource, keeping a cache and telling listeners which keys changed.

Rules (client-go's reflector and informer, reduced to what kubeward's controllers need):

 1. Start with a list; every object becomes a cache entry and a notification.
 2. Watch from the list's resourceVersion; each event updates the cache and notifies. When the
    stream ends (timeout, server restart) watch again from the last resourceVersion seen.
 3. When the watch cannot resume (410 Gone) or the server cannot be reached, wait with
    exponential backoff and list again; objects that vanished meanwhile are reported deleted.
 4. Every ``resync`` seconds every cached key is notified again, so a controller retries work
    that an outside change did not trigger.
 5. 401 and 403 are reported once per change of situation through ``on_error`` and retried
    with backoff: a mis-configured identity is visible, not silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kubeward.api.meta import JSONObject
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import Gone, StatusError

log = logging.getLogger("kubeward.controllers")

Listener = Callable[[str, JSONObject | None], None]


class Informer:
    def __init__(
        self,
        client: APIClient,
        rt: ResourceType,
        *,
        resync: float = 300.0,
        watch_timeout: int = 300,
        on_error: Callable[[StatusError], None] | None = None,
    ) -> None:
        self.client = client
        self.rt = rt
        self.resync = resync
        self.watch_timeout = watch_timeout
        self.on_error = on_error
        self.cache: dict[str, JSONObject] = {}
        self.listeners: list[Listener] = []
        self.synced = asyncio.Event()
        self._resource_version = ""
        self._last_error = ""

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    @staticmethod
    def key_of(obj: JSONObject) -> str:
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        name = str(meta.get("name") or "")
        return f"{namespace}/{name}" if namespace else name

    def _notify(self, key: str, obj: JSONObject | None) -> None:
        for listener in self.listeners:
            listener(key, obj)

    async def run(self) -> None:
        """List and watch until cancelled (rules 1-3)."""
        resync_task = asyncio.create_task(self._resync_loop())
        failures = 0
        try:
            while True:
                try:
                    if not self._resource_version:
                        await self._list()
                    await self._watch()
                    failures = 0
                except Gone:
                    self._resource_version = ""
                except StatusError as exc:
                    self._report(exc)
                    self._resource_version = ""
                    failures += 1
                    await asyncio.sleep(min(30.0, 0.2 * 2 ** min(failures, 8)))
        finally:
            resync_task.cancel()

    def _report(self, exc: StatusError) -> None:
        text = f"{exc.code} {exc.message}"
        if text != self._last_error:
            self._last_error = text
            log.error("%s: list/watch failed: %s", self.rt.resource, text)
            if self.on_error is not None:
                self.on_error(exc)

    async def _list(self) -> None:
        listed = await self.client.list(self.rt)
        fresh: dict[str, JSONObject] = {}
        for item in listed.get("items") or []:
            item.setdefault("apiVersion", self.rt.api_version)
            item.setdefault("kind", self.rt.kind)
            fresh[self.key_of(item)] = item
        gone = [key for key in self.cache if key not in fresh]
        self.cache = fresh
        self._resource_version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
        self._last_error = ""
        for key in gone:
            self._notify(key, None)
        for key, obj in fresh.items():
            self._notify(key, obj)
        self.synced.set()

    async def _watch(self) -> None:
        async for event in self.client.watch(
            self.rt, resource_version=self._resource_version, timeout_seconds=self.watch_timeout
        ):
            rv = str((event.object.get("metadata") or {}).get("resourceVersion") or "")
            if rv:
                self._resource_version = rv
            if event.type == "BOOKMARK":
                continue
            key = self.key_of(event.object)
            if event.type == "DELETED":
                self.cache.pop(key, None)
                self._notify(key, None)
            else:
                self.cache[key] = event.object
                self._notify(key, event.object)

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            for key, obj in list(self.cache.items()):
                self._notify(key, obj)
