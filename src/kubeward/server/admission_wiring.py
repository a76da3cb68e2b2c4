"""Admission in the running server: the chain the flags ask for, reading the server's stores.

``server.builder`` calls :func:`install_admission` once the stores and the authorizer exist.
The chain itself comes from ``admission.registry`` (every plugin by Kubernetes' name and
order); the request handlers bind it to each write (``server.resources``) and the store runs
it around the kind's strategy (``api.registry.scope``). This module adds only what a plugin
needs of the server: an :class:`kubeward.admission.interfaces.ObjectReader` over the stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.registry import PLUGINS, build_chain
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.scheme import ResourceType
from kubeward.authz.interfaces import Authorizer
from kubeward.errors import NotFound
from kubeward.server.resources import ResourceHandlers


class StoreReader:
    """An :class:`kubeward.admission.interfaces.ObjectReader` over the server's stores."""

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


def install_admission(
    handlers: ResourceHandlers,
    stores: dict[ResourceType, Store],
    authorizer: Authorizer,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
) -> AdmissionChain:
    """Build the chain from ``--enable/--disable-admission-plugins`` and give it to the handlers.

    Raises:
        InputError: the flags name an unknown plugin, or ask for one kubeward lacks.
    """
    chain = build_chain(PLUGINS, enable, disable, authorizer=authorizer)
    handlers.admission = chain
    handlers.object_reader = StoreReader(stores)
    return chain
