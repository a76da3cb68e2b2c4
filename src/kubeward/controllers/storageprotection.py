"""The controller-manager's pvc-protection and pv-protection controllers.

Rules (kube-controller-manager's ``pvc-protection`` and ``pv-protection``): the
StorageObjectInUseProtection admission plugin puts a finalizer on every claim and volume; these
controllers take it off once the object is being deleted and nothing uses it any more. Each is an
API client with its own role (``system:controller:pvc-protection-controller``,
``…:pv-protection-controller``: get, list, watch and update their kind; the claim controller
also reads pods); the finalizer is removed by an update over the cached object's
resourceVersion, retried from the newer object on Conflict.
 1. A PersistentVolumeClaim being deleted keeps ``kubernetes.io/pvc-protection`` while a pod
    that is not Succeeded or Failed names it in ``spec.volumes[].persistentVolumeClaim``
    (looked up in the pods informer, so a pod's end or deletion brings the claim back here;
    before the finalizer goes, the API server's list of the namespace's pods confirms it).
 2. A PersistentVolume being deleted keeps ``kubernetes.io/pv-protection`` while it is Bound.
"""

from __future__ import annotations

import contextlib

from kubeward.api import meta as m
from kubeward.api.resources.core import PODS
from kubeward.api.resources.core_storage import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
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

    def __init__(self, informers: InformerFactory, client: APIClient, rt: ResourceType) -> None:
        super().__init__(informers.informer(rt))
        self._client = client
        self._rt = rt

    async def in_use(self, obj: m.JSONObject) -> bool:
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
        if await self.in_use(obj):
            return None

        released = {
            **obj,
            "metadata": {
                **meta,
                "finalizers": [f for f in meta.get("finalizers") or [] if f != self.finalizer],
            },
        }
        with contextlib.suppress(NotFound):  # gone already: nothing to release
            await self._client.update(self._rt, released, namespace=m.namespace_of(obj))
        return None


class PVCProtectionController(_Protection):
    name = "pvc-protection"
    finalizer = PVC_FINALIZER

    def __init__(self, informers: InformerFactory, client: APIClient) -> None:
        super().__init__(informers, client, PERSISTENT_VOLUME_CLAIMS)
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

    async def in_use(self, obj: m.JSONObject) -> bool:
        """Rule 1; the cache first, then (as upstream) the API server, whose answer a lagging
        cache cannot contradict."""
        namespace, name = m.namespace_of(obj), m.name_of(obj)
        if any(name in _claims_used(pod) for pod in list(self._pods.in_namespace(namespace))):
            return True
        listed = await self._client.list(PODS, namespace)
        return any(name in _claims_used(pod) for pod in listed.get("items") or [])


class PVProtectionController(_Protection):
    name = "pv-protection"
    finalizer = PV_FINALIZER

    def __init__(self, informers: InformerFactory, client: APIClient) -> None:
        super().__init__(informers, client, PERSISTENT_VOLUMES)

    async def in_use(self, obj: m.JSONObject) -> bool:
        """Rule 2."""
        return ((obj.get("status") or {}).get("phase")) == "Bound"
