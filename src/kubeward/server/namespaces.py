"""Namespace lifecycle inside the API server.

Rules:
 1. ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist from the start.
 2. Deleting a namespace marks it ``Terminating``; the controller then deletes everything in it,
    and once it is empty clears ``spec.finalizers`` so that the namespace itself goes. Objects
    with finalizers of their own keep the namespace until their finalizers are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core import NAMESPACES
from kubeward.api.scheme import ResourceType
from kubeward.errors import AlreadyExists, Conflict, NotFound, StatusError

log = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_default_namespaces(stores: dict[ResourceType, Store]) -> None:
    store = stores[NAMESPACES]
    for name in DEFAULT_NAMESPACES:
        with contextlib.suppress(AlreadyExists):
            await store.create(
                "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )


class NamespaceController:
    def __init__(self, stores: dict[ResourceType, Store], interval: float = 0.5) -> None:
        self._stores = stores
        self._interval = interval

    async def run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("namespace controller pass failed")
            await asyncio.sleep(self._interval)

    async def sync_once(self) -> None:
        namespaces = await self._stores[NAMESPACES].list("", ListOptions())
        for ns in namespaces["items"]:
            if m.metadata(ns).get("deletionTimestamp"):
                await self._finalize(m.name_of(ns))

    async def _finalize(self, name: str) -> None:
        remaining = 0
        for rt, store in self._stores.items():
            if not rt.namespaced:
                continue
            listed = await store.list(name, ListOptions())
            for item in listed["items"]:
                remaining += 1
                if m.metadata(item).get("deletionTimestamp"):
                    continue
                with contextlib.suppress(NotFound, Conflict):
                    await store.delete(name, m.name_of(item))
        if remaining:
            return

        def clear(obj: m.JSONObject) -> m.JSONObject:
            obj.setdefault("spec", {})["finalizers"] = []
            return obj

        try:
            await self._stores[NAMESPACES].guaranteed_update("", name, clear)
        except NotFound:
            return
        except StatusError as exc:
            log.warning("finalizing namespace %s: %s", name, exc)
