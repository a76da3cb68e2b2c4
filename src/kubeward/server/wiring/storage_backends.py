"""Which backend holds which resource: one store, or more with ``--etcd-servers-overrides``.

kube-apiserver's storage factory gives each resource a storage configuration; an override
(storage/etcd/config.py rule 6) changes the etcd servers of one built-in resource, which is how
clusters keep Events in an etcd of their own. Rules:

 1. A kind is matched by the group and resource its objects are stored under: an Event of
    ``events.k8s.io`` is stored with core Events (``storage_group``), so ``/events`` moves both,
    as upstream's cohabitating resources do. Kinds added at run time (custom resources) stay in
    the default store: overrides apply to resources compiled into the server, as upstream says.
 2. Overrides naming the same servers share one backend; each override has a readiness check
    ``etcd-override-<i>`` (i its position in the flag), as kube-apiserver's.
 3. An override naming a resource this server does not have is ignored, as upstream ignores it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kubeward.api.scheme import ResourceType
from kubeward.storage.etcd.config import EtcdConfig, for_override
from kubeward.storage.factory import backend_from_etcd
from kubeward.storage.interfaces import Backend


class StorageBackends:
    """The default backend and the backends of the overridden resources."""

    def __init__(self, default: Backend, etcd: EtcdConfig | None = None) -> None:
        self.default = default
        self._by_servers: dict[tuple[str, ...], Backend] = {}
        self._by_resource: dict[tuple[str, str], Backend] = {}
        self._checked: list[Backend] = []  # rule 2: one per override, in flag order
        if etcd is None:
            return
        for override in etcd.overrides:
            backend = self._by_servers.get(override.endpoints)
            if backend is None:
                backend = backend_from_etcd(for_override(etcd, override))
                self._by_servers[override.endpoints] = backend
            self._by_resource.setdefault((override.group, override.resource), backend)
            self._checked.append(backend)

    @property
    def extra(self) -> list[Backend]:
        """The override backends (the default is the caller's to start and close)."""
        return list(self._by_servers.values())

    def for_type(self, rt: ResourceType) -> Backend:
        """Rule 1."""
        group = rt.group if rt.storage_group is None else rt.storage_group
        return self._by_resource.get((group, rt.resource), self.default)

    async def start(self) -> None:
        for backend in self.extra:
            await backend.start()

    async def close(self) -> None:
        for backend in self.extra:
            await backend.close()

    def health_checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        """Rule 2."""
        checks: dict[str, Callable[[], Awaitable[bool]]] = {}
        for index, backend in enumerate(self._checked):

            async def check(backend: Backend = backend) -> bool:
                await backend.current_revision()
                return True

            checks[f"etcd-override-{index}"] = check
        return checks
