"""The reconcile contract every controller follows.

A controller is fed keys by an :class:`~kubeward.controllers.informer.Informer` through a
:class:`~kubeward.controllers.queue.WorkQueue` and implements one method, ``reconcile(key)``,
which reads the cached object and makes the world agree with it. Rules:

 1. ``reconcile`` is idempotent: called twice for the same state it does nothing the second
    time, so resyncs and duplicate events are harmless.
 2. An exception makes the key retry with backoff; a clean return forgets its failures.
 3. ``reconcile`` may return a delay: the key is looked at again after it (deadlines).
 4. One key is never reconciled by two workers at once (the queue guarantees it).
 5. Workers start once the controller's informer, and every other informer it reads
    (:meth:`Controller.depends_on`), has delivered its first list.
"""

from __future__ import annotations

import asyncio
import logging

from kubeward.api.meta import JSONObject
from kubeward.controllers.informer import Informer
from kubeward.controllers.queue import WorkQueue
from kubeward.errors import KubewardError

log = logging.getLogger("kubeward.controllers")


class Controller:
    """Subclasses set ``name`` and implement :meth:`reconcile`."""

    name = "controller"

    def __init__(self, informer: Informer, *, workers: int = 1) -> None:
        self.informer = informer
        self.queue = WorkQueue()
        self.workers = workers
        self._informers = [informer]
        informer.add_listener(self._enqueue)

    def depends_on(self, *informers: Informer) -> None:
        """Rule 5: wait for these informers too before the first reconcile."""
        self._informers.extend(informers)

    def _enqueue(self, key: str, obj: JSONObject | None) -> None:
        self.queue.add(key)

    def cached(self, key: str) -> JSONObject | None:
        return self.informer.cache.get(key)

    async def reconcile(self, key: str) -> float | None:
        """Make the world agree with the object at ``key``; optionally ask to be called again."""
        raise NotImplementedError

    async def run(self) -> None:
        """Run the workers until cancelled (the informer is run by the manager)."""
        for informer in self._informers:
            await informer.synced.wait()
        workers = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            self.queue.shutdown()
            for task in workers:
                task.cancel()

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            if key is None:
                return
            try:
                again = await self.reconcile(key)
            except (KubewardError, OSError) as exc:
                delay = self.queue.add_rate_limited(key)
                log.warning("%s: %s: %s (retrying in %.1fs)", self.name, key, exc, delay)
            except Exception:
                delay = self.queue.add_rate_limited(key)
                log.exception("%s: %s: unexpected error (retrying in %.1fs)", self.name, key, delay)
            else:
                self.queue.forget(key)
                if again is not None:
                    self.queue.add_after(key, again)
            finally:
                self.queue.done(key)
