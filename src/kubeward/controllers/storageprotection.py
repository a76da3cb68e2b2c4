"""The pvc-protection and pv-protection controllers, inside the API server.

Rules (kube-controller-manager's ``pvc-protection`` and ``pv-protection``): the
StorageObjectInUseProtection admission plugin puts a finalizer on every claim and volume; these
controllers take it off once the object is being deleted and nothing uses it any more:
 1. A PersistentVolumeClaim being deleted keeps ``kubernetes.io/pvc-protection`` while a pod
    that is not Succeeded or Failed names it in ``spec.volumes[].persistentVolumeClaim``
    (looked up in the pods informer, so a pod's end or deletion brings the claim back here).
 2. A PersistentVolume being deleted keeps ``kubernetes.io/pv-protection`` while it is Bound.
"""

from __future__ import annotations

import contextlib

from kubeward.api import meta as m
from kubeward.api.registry.store import Store
from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from kubeward.api.scheme import ResourceType
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import NotFound

PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"


def _claims_used(pod: m.JSONObject) -> set[str]:
    if ((pod.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
        return set()
    names = set()
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        claim = (volume or {}).get("persistentVolumeClaim") or {}
        if claim.get("claimName"):
            names.add(str(claim["claimName"]))
    return names


class _Protection(Controller):
    finalizer = ""

    def __init__(self, store: Store, informers: InformerFactory, rt: ResourceType) -> None:
        super().__init__(informers.informer(rt))
        self._store = store

    def in_use(self, obj: m.JSONObject) -> bool:
        raise NotImplementedError

    async def reconcile(self, key: str) -> float | None:
        obj = self.cached(key)
        if obj is None:
            return None
        meta = m.metadata(obj)
        if not meta.get("deletionTimestamp") or self.finalizer not in (
            meta.get("finalizers") or []
        ):
            return None
        if self.in_use(obj):
            return None

        def release(current: m.JSONObject) -> m.JSONObject:
            current_meta = m.metadata(current)
            current_meta["finalizers"] = [
                f for f in current_meta.get("finalizers") or [] if f != self.finalizer
            ]
            return current

        with contextlib.suppress(NotFound):  # gone already: nothing to release
            await self._store.guaranteed_update(m.namespace_of(obj), m.name_of(obj), release)
        return None


class PVCProtectionController(_Protection):
    name = "pvc-protection"
    finalizer = PVC_FINALIZER

    def __init__(self, stores: dict[ResourceType, Store], informers: InformerFactory) -> None:
        super().__init__(stores[PERSISTENT_VOLUME_CLAIMS], informers, PERSISTENT_VOLUME_CLAIMS)
        self._pods = informers.informer(PODS)
        self._pods.add_event_handler(
            on_update=lambda old, new: self._pod_changed(old),
            on_delete=self._pod_changed,
        )
        self.depends_on(self._pods)

    def _pod_changed(self, pod: m.JSONObject) -> None:
        """Rule 1: the claims a pod used may be free now."""
        namespace = m.namespace_of(pod)
        for claim in _claims_used({**pod, "status": {}}):
            self.queue.add(f"{namespace}/{claim}")

    def in_use(self, obj: m.JSONObject) -> bool:
        namespace, name = m.namespace_of(obj), m.name_of(obj)
        return any(name in _claims_used(pod) for pod in list(self._pods.in_namespace(namespace)))


class PVProtectionController(_Protection):
    name = "pv-protection"
    finalizer = PV_FINALIZER

    def __init__(self, stores: dict[ResourceType, Store], informers: InformerFactory) -> None:
        super().__init__(stores[PERSISTENT_VOLUMES], informers, PERSISTENT_VOLUMES)

    def in_use(self, obj: m.JSONObject) -> bool:
        """Rule 2."""
        return ((obj.get("status") or {}).get("phase")) == "Bound"
