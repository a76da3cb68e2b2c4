"""One informer per kind, shared by everyone in the process who follows that kind.

client-go's ``SharedInformerFactory``, reduced. In the API server the RBAC index, the
service-account index, the namespace controller and the service-account controllers all follow
namespaces, secrets or service accounts; with the factory each kind is listed once and watched
through one stream, however many handlers it feeds. Rules:

 1. :meth:`InformerFactory.informer` returns the same informer for the same kind; handlers may be
    added before or after it starts (an informer replays its cache to a late handler).
 2. :meth:`InformerFactory.start` starts every informer asked for so far that is not running,
    and may be called again after more were asked for.
 3. :meth:`InformerFactory.wait_for_sync` returns once the named kinds (default: all) have
    delivered their first list. The server awaits it before it accepts a request, so that what
    it decides from an index (RBAC, service-account tokens) is never decided from an empty one.
 4. :meth:`InformerFactory.stop` cancels and awaits every informer's task;
    :meth:`InformerFactory.remove` stops one kind's (a kind no longer served, such as a custom
    resource whose definition was deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from kubeward.api.scheme import ResourceType
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ListWatchSource

SourceFor = Callable[[ResourceType], ListWatchSource]


class InformerFactory:
    """Shared informers over one kind of source (see the rules)."""

    def __init__(self, source_for: SourceFor, *, resync: float = 300.0) -> None:
        self._source_for = source_for
        self._resync = resync
        self._informers: dict[ResourceType, Informer] = {}
        self._tasks: dict[ResourceType, asyncio.Task[None]] = {}

    def informer(self, rt: ResourceType) -> Informer:
        """Rule 1."""
        found = self._informers.get(rt)
        if found is None:
            found = Informer(self._source_for(rt), resync=self._resync)
            self._informers[rt] = found
        return found

    def start(self) -> None:
        """Rule 2."""
        for rt, informer in self._informers.items():
            if rt not in self._tasks:
                self._tasks[rt] = asyncio.create_task(
                    informer.run(), name=f"informer-{rt.resource}"
                )

    async def wait_for_sync(self, kinds: Iterable[ResourceType] | None = None) -> None:
        """Rule 3 (the named kinds must have been asked for and started)."""
        wanted = list(self._informers) if kinds is None else list(kinds)
        for rt in wanted:
            task = self._tasks.get(rt)
            if task is None:
                raise RuntimeError(f"informer for {rt.resource} was not started")
            synced = asyncio.ensure_future(self._informers[rt].synced.wait())
            # A task that dies before it syncs would leave the waiter hanging: watch both.
            await asyncio.wait({synced, task}, return_when=asyncio.FIRST_COMPLETED)
            if not synced.done():
                synced.cancel()
                task.result()  # raises what killed the informer
                raise RuntimeError(f"informer for {rt.resource} stopped before it synced")

    def remove(self, rt: ResourceType) -> None:
        """Rule 4: forget the kind's informer and cancel its task."""
        self._informers.pop(rt, None)
        task = self._tasks.pop(rt, None)
        if task is not None:
            task.cancel()

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks.values())

    async def stop(self) -> None:
        """Rule 4."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
