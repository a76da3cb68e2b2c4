"""List, then watch, one resource, keeping a cache and telling handlers what changed.

client-go's reflector and shared informer, reduced to what kubeward needs. The same informer
follows the API server over HTTPS (the controller-manager) and the server's own store (the
in-process indexes and controllers); ``controllers.sources`` holds the two sources. Rules:

 1. Start with a list: every object becomes a cache entry and an ``add`` (an ``update`` when the
    key was cached before). Once the first list has been delivered, ``synced`` is set.
 2. Watch from the list's resourceVersion; each event updates the cache, then the handlers.
    When the stream ends (timeout, server restart), watch again from the last resourceVersion
    seen. A stream that ends at once with nothing in it counts as a failure (rule 4), so a
    source that keeps closing is not spun on.
 3. When the watch cannot resume (410 Gone), list again at once; objects that vanished
    meanwhile are reported deleted (with their last known state), the rest as updates.
 4. Any other failure (unreachable server, 5xx, 401/403, even an unexpected exception) waits
    with exponential backoff, then lists again: an informer does not die while it is needed. 401 and 403 are reported once per change of situation through ``on_error``:
    a mis-configured identity is visible, not silent.
 5. Every ``resync`` seconds (0: never) every cached object is delivered again as an
    ``update`` with the same old and new object, so a controller retries work that no outside
    change triggered. A resync replays the cache; it never reads the source.
 6. Handlers are called in the order they were added, each event to every handler before the
    next event, and always after the cache has changed. A handler added once the informer has
    listed first gets an ``add`` for every cached object. A handler that raises is logged and
    the others still run.
 7. The cache is a dict from key (``namespace/name``, or ``name`` for cluster-scoped objects)
    to object, with an index by namespace (:meth:`Informer.in_namespace`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kubeward.api.meta import JSONObject
from kubeward.controllers.sources import ListWatchSource
from kubeward.errors import Forbidden, Gone, StatusError, Unauthorized

log = logging.getLogger("kubeward.controllers")

Listener = Callable[[str, JSONObject | None], None]
ObjectCallback = Callable[[JSONObject], None]
UpdateCallback = Callable[[JSONObject, JSONObject], None]

_SHORT_WATCH_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class EventHandler:
    """client-go's ``ResourceEventHandlerFuncs``: any of the three may be left out."""

    on_add: ObjectCallback | None = None
    on_update: UpdateCallback | None = None
    on_delete: ObjectCallback | None = None


def key_of(obj: JSONObject) -> str:
    """The cache key: ``namespace/name``, or ``name`` for a cluster-scoped object (rule 7)."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    name = str(meta.get("name") or "")
    return f"{namespace}/{name}" if namespace else name


def _namespace_of(key: str) -> str:
    return key.partition("/")[0] if "/" in key else ""


class Informer:
    """Follows one source (see the rules); run it with :meth:`run`."""

    def __init__(
        self,
        source: ListWatchSource,
        *,
        resync: float = 300.0,
        on_error: Callable[[StatusError], None] | None = None,
    ) -> None:
        self.source = source
        self.rt = source.resource_type
        self.resync = resync
        self.on_error = on_error
        self.cache: dict[str, JSONObject] = {}
        self.synced = asyncio.Event()
        self._handlers: list[EventHandler] = []
        self._by_namespace: dict[str, set[str]] = {}
        self._resource_version = ""
        self._last_error = ""
        self._listed_once = False

    # --- handlers (rule 6) ----------------------------------------------------------------

    def add_event_handler(
        self,
        on_add: ObjectCallback | None = None,
        on_update: UpdateCallback | None = None,
        on_delete: ObjectCallback | None = None,
    ) -> None:
        handler = EventHandler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if self._listed_once and on_add is not None:
            for obj in list(self.cache.values()):
                self._call(on_add, obj)

    def add_listener(self, listener: Listener) -> None:
        """A key-based handler: ``listener(key, object)``, with ``None`` for a deletion."""
        self.add_event_handler(
            on_add=lambda obj: listener(key_of(obj), obj),
            on_update=lambda _old, new: listener(key_of(new), new),
            on_delete=lambda obj: listener(key_of(obj), None),
        )

    def _call(self, callback: Callable[..., None], *args: JSONObject) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("%s: an event handler failed", self.rt.resource)

    def _added(self, obj: JSONObject) -> None:
        for handler in self._handlers:
            if handler.on_add is not None:
                self._call(handler.on_add, obj)

    def _updated(self, old: JSONObject, new: JSONObject) -> None:
        for handler in self._handlers:
            if handler.on_update is not None:
                self._call(handler.on_update, old, new)

    def _deleted(self, obj: JSONObject) -> None:
        for handler in self._handlers:
            if handler.on_delete is not None:
                self._call(handler.on_delete, obj)

    # --- the cache (rule 7) ---------------------------------------------------------------

    def has_synced(self) -> bool:
        """True once the first list has been delivered (rule 1)."""
        return self.synced.is_set()

    @property
    def resource_version(self) -> str:
        """The last resourceVersion listed or watched."""
        return self._resource_version

    def get(self, key: str) -> JSONObject | None:
        return self.cache.get(key)

    def in_namespace(self, namespace: str) -> Iterator[JSONObject]:
        """The cached objects in ``namespace``."""
        for key in list(self._by_namespace.get(namespace, ())):
            obj = self.cache.get(key)
            if obj is not None:
                yield obj

    def _store(self, key: str, obj: JSONObject) -> JSONObject | None:
        old = self.cache.get(key)
        self.cache[key] = obj
        namespace = _namespace_of(key)
        if namespace:
            self._by_namespace.setdefault(namespace, set()).add(key)
        return old

    def _forget(self, key: str) -> JSONObject | None:
        old = self.cache.pop(key, None)
        namespace = _namespace_of(key)
        keys = self._by_namespace.get(namespace)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_namespace[namespace]
        return old

    # --- list and watch (rules 1-4) -------------------------------------------------------

    async def run(self) -> None:
        """List and watch until cancelled."""
        resync_task = asyncio.create_task(self._resync_loop()) if self.resync > 0 else None
        failures = 0
        try:
            while True:
                try:
                    if not self._resource_version:
                        await self._list()
                    delivered = await self._watch()
                except Gone:
                    self._resource_version = ""
                    failures += 1
                    if failures > 1:  # relisting did not help at once: do not spin on it
                        await asyncio.sleep(_backoff(failures))
                    continue
                except StatusError as exc:
                    self._report(exc)
                    self._resource_version = ""
                    failures += 1
                    await asyncio.sleep(_backoff(failures))
                    continue
                except Exception:  # a bug or a library error: an informer must not die of it
                    log.exception("%s: list/watch failed", self.rt.resource)
                    self._resource_version = ""
                    failures += 1
                    await asyncio.sleep(_backoff(failures))
                    continue
                if delivered:
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(_backoff(failures))
        finally:
            if resync_task is not None:
                resync_task.cancel()

    def _report(self, exc: StatusError) -> None:
        text = f"{exc.code} {exc.message}"
        if text != self._last_error:
            self._last_error = text
            level = logging.ERROR if isinstance(exc, Unauthorized | Forbidden) else logging.WARNING
            log.log(level, "%s: list/watch failed: %s", self.rt.resource, text)
            if self.on_error is not None:
                self.on_error(exc)

    async def _list(self) -> None:
        listed = await self.source.list()
        fresh: dict[str, JSONObject] = {key_of(item): item for item in listed.items}
        vanished = [key for key in self.cache if key not in fresh]
        self._resource_version = listed.resource_version
        self._last_error = ""
        for key in vanished:
            old = self._forget(key)
            if old is not None:
                self._deleted(old)
        for key, obj in fresh.items():
            previous = self._store(key, obj)
            if previous is None:
                self._added(obj)
            else:
                self._updated(previous, obj)
        self._listed_once = True
        self.synced.set()

    async def _watch(self) -> bool:
        """Follow one watch stream; True unless it ended at once with nothing in it (rule 2)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        count = 0
        async for event in self.source.watch(self._resource_version):
            count += 1
            meta = event.object.get("metadata") or {}
            revision = str(meta.get("resourceVersion") or "")
            if revision:
                self._resource_version = revision
            if event.type == "BOOKMARK":
                continue
            key = key_of(event.object)
            if event.type == "DELETED":
                self._forget(key)
                self._deleted(event.object)
            else:
                previous = self._store(key, event.object)
                if previous is None:
                    self._added(event.object)
                else:
                    self._updated(previous, event.object)
        return count > 0 or loop.time() - started >= _SHORT_WATCH_SECONDS

    async def _resync_loop(self) -> None:
        """Rule 5."""
        await self.synced.wait()
        while True:
            await asyncio.sleep(self.resync)
            for obj in list(self.cache.values()):
                self._updated(obj, obj)


def _backoff(failures: int) -> float:
    return float(min(_MAX_BACKOFF_SECONDS, 0.2 * 2.0 ** min(failures, 8)))
