"""The admission chain in the request path: one hook that runs every enabled plugin.

``ResourceHandlers.admission`` hooks see the request context, the new object and the old one;
this module turns them into an :class:`AdmissionRequest` (``CREATE`` without an old object,
``UPDATE`` with one), gives the plugins an :class:`ObjectReader` over the server's stores, and
copies the plugins' warnings into the response's ``Warning`` headers. Plugins mutate the object
in place, before the store validates and writes it.
"""

from __future__ import annotations

import logging
from typing import Any

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import CREATE, DELETE, UPDATE, AdmissionRequest
from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.scheme import ResourceType
from kubeward.errors import NotFound
from kubeward.server.resources import Hook, RequestContext

log = logging.getLogger("kubeward.apiserver.admission")


class StoreReader:
    """An :class:`kubeward.admission.interfaces.ObjectReader` over the core group's stores."""

    def __init__(self, stores: dict[ResourceType, Store]) -> None:
        self._by_resource = {(rt.group, rt.resource): store for rt, store in stores.items()}

    def _store(self, resource: str) -> Store | None:
        plain, _, group = resource.partition(".")
        return self._by_resource.get((group, plain))

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


_DELETE_VERBS = frozenset({"delete", "deletecollection"})


def _operation(ctx: RequestContext, old: m.JSONObject | None) -> str:
    if ctx.info.verb in _DELETE_VERBS:
        return DELETE
    return CREATE if old is None else UPDATE


def admission_hook(chain: AdmissionChain, stores: dict[ResourceType, Store]) -> Hook:
    reader = StoreReader(stores)

    async def admit(ctx: RequestContext, obj: m.JSONObject, old: m.JSONObject | None) -> None:
        rt = ctx.rt
        request = AdmissionRequest(
            operation=_operation(ctx, old),
            group=rt.group,
            resource=rt.resource,
            kind=rt.kind,
            subresource=ctx.info.subresource,
            namespace=ctx.info.namespace if rt.namespaced else "",
            name=m.name_of(obj) or ctx.info.name,
            user=ctx.user,
            object=obj,
            old_object=old,
            dry_run=ctx.dry_run,
        )
        try:
            await chain.admit(request, reader)
        finally:
            ctx.warnings.extend(request.warnings)
            if request.audit_annotations:
                log.debug(
                    "audit annotations for %s %s/%s: %s",
                    request.operation,
                    rt.resource,
                    request.name,
                    request.audit_annotations,
                )

    return admit
