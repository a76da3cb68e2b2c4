"""Admission in the running server: the chain the flags ask for, reading the server's stores.

``server.wiring.builder`` calls :func:`build_admission` once the stores and the authorizer exist and
hands the result to the request handlers. The chain itself comes from ``admission.registry``
(every plugin by Kubernetes' name and order); the handlers bind it to each write
(``server.resources``) and the store runs it around the kind's strategy
(``api.registry.scope``). This module adds what plugins need of the server: an
:class:`kubeward.admission.interfaces.ObjectReader` over the stores (also an ``ObjectWaiter``,
told by the server's informers when an awaited object appears), and the request's options
in the shape upstream's handlers give them (``CreateOptions``, ``UpdateOptions`` — also for a
patch, as upstream converts it — and ``DeleteOptions``).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import CREATE, DELETE, UPDATE
from kubeward.admission.registry import PLUGINS, build_chain
from kubeward.admission.webhooks import TransportFactory
from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.scheme import ResourceType
from kubeward.authz.interfaces import Authorizer
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import NotFound

_OPTIONS_KIND = {CREATE: "CreateOptions", UPDATE: "UpdateOptions", DELETE: "DeleteOptions"}


class NoObjects:
    """The object reader of handlers that have no stores to read (before the builder runs)."""

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


class StoreReader:
    """An :class:`kubeward.admission.interfaces.ObjectReader` over the server's stores."""

    def __init__(
        self, stores: dict[ResourceType, Store], informers: InformerFactory | None = None
    ) -> None:
        self._stores = stores  # live: CRDs add and remove stores while the server runs
        self._by_resource = {(rt.group, rt.resource): store for rt, store in stores.items()}
        self._informers = informers
        self._followed: set[ResourceType] = set()
        self._waiting: dict[tuple[str, str, str], list[asyncio.Future[dict[str, Any]]]] = {}

    def _store(self, resource: str) -> Store | None:
        plain, _, group = resource.partition(".")
        found = self._by_resource.get((group, plain))
        if found is None:
            for rt, store in list(self._stores.items()):
                if (rt.group, rt.resource) == (group, plain):
                    return store
        return found

    def resource_for(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        """The qualified resource (``configmaps``, ``widgets.example.com``) serving ``kind`` at
        ``api_version``, and whether it is namespaced; None when the server has no such kind."""
        group, _, version = api_version.rpartition("/")
        for rt in list(self._stores):
            if (rt.group, rt.version, rt.kind) == (group, version, kind):
                qualified = f"{rt.resource}.{rt.group}" if rt.group else rt.resource
                return qualified, rt.namespaced
        return None

    def schema_for(self, api_version: str, kind: str) -> Mapping[str, Any] | None:
        """The OpenAPI schema a custom resource's version declares; None for built-in kinds
        (their schemas are in the catalog) and unknown ones."""
        group, _, version = api_version.rpartition("/")
        for rt in list(self._stores):
            if (rt.group, rt.version, rt.kind) == (group, version, kind):
                return rt.openapi_schema
        return None

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        store = self._store(resource)
        if store is None or not name:
            return None
        try:
            return await store.get(namespace, name)
        except NotFound:
            return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        store = self._store(resource)
        if store is None:
            return []
        listed = await store.list(namespace, ListOptions())
        items: list[dict[str, Any]] = listed["items"]
        return items

    async def cached(self, resource: str) -> builtins.list[dict[str, Any]]:
        """Every object of ``resource`` from its informer (listed and watched once), or a list
        from storage when the reader has no informers."""
        store = self._store(resource)
        if store is None:
            return []
        if self._informers is None:
            return await self.list(resource, "")
        informer = self._informers.informer(store.rt)
        self._informers.start()
        await informer.synced.wait()
        return list(informer.cache.values())

    async def update_status(
        self,
        resource: str,
        namespace: str,
        name: str,
        mutate: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """The server's own ``/status`` update of an object (ResourceQuota usage), retried on a
        lost race; None when the object is gone."""
        store = self._store(resource)
        if store is None:
            return None
        try:
            return await store.guaranteed_update(namespace, name, mutate, subresource="status")
        except NotFound:
            return None

    async def wait_for(
        self, resource: str, namespace: str, name: str, timeout: float
    ) -> dict[str, Any] | None:
        """The object, waiting up to ``timeout`` seconds for the kind's informer to see it."""
        store = self._store(resource)
        if store is None or not name or self._informers is None:
            return await self.get(resource, namespace, name)
        self._follow(store.rt, resource)
        key = (resource, namespace, name)
        arrived: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(arrived)
        try:
            # Registered first, then read: an object written in between is not missed.
            found = await self.get(resource, namespace, name)
            if found is not None:
                return found
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(arrived, timeout)
            return None
        finally:
            waiters = self._waiting.get(key, [])
            if arrived in waiters:
                waiters.remove(arrived)
            if not waiters:
                self._waiting.pop(key, None)

    def _follow(self, rt: ResourceType, resource: str) -> None:
        if rt in self._followed or self._informers is None:
            return
        self._followed.add(rt)
        self._informers.informer(rt).add_event_handler(
            on_add=lambda obj: self._arrived(resource, obj),
            on_update=lambda _old, new: self._arrived(resource, new),
        )
        self._informers.start()

    def _arrived(self, resource: str, obj: dict[str, Any]) -> None:
        key = (resource, m.namespace_of(obj), m.name_of(obj))
        for waiter in self._waiting.get(key, []):
            if not waiter.done():
                waiter.set_result(obj)


def build_admission(
    stores: dict[ResourceType, Store],
    authorizer: Authorizer,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
    informers: InformerFactory | None = None,
    webhook_transport: TransportFactory | None = None,
) -> tuple[AdmissionChain, StoreReader]:
    """The chain from ``--enable/--disable-admission-plugins`` and the reader its plugins use.

    Raises:
        InputError: the flags name an unknown plugin, or ask for one kubeward lacks.
    """
    chain = build_chain(
        PLUGINS, enable, disable, authorizer=authorizer, webhook_transport=webhook_transport
    )
    return chain, StoreReader(stores, informers)


def operation_options(
    operation: str,
    query: Mapping[str, str],
    dry_run: Sequence[str] = (),
    given: m.JSONObject | None = None,
) -> m.JSONObject:
    """The options object a plugin sees for ``operation``: ``given``, then the query's."""
    options: m.JSONObject = {
        "kind": _OPTIONS_KIND[operation],
        "apiVersion": "meta.k8s.io/v1",
        **(given or {}),
    }
    if dry_run:
        options["dryRun"] = list(dry_run)
    for key in ("fieldManager", "fieldValidation"):
        if operation != DELETE and query.get(key):
            options[key] = query[key]
    return options


def delete_options(body: m.JSONObject, grace: Any, query: Mapping[str, str]) -> m.JSONObject:
    """A delete's options: the body's ``DeleteOptions``, with the query's overrides."""
    options = {k: v for k, v in body.items() if k not in ("kind", "apiVersion")}
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    policy = query.get("propagationPolicy")
    if policy:
        options["propagationPolicy"] = policy
    return options
