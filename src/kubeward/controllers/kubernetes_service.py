"""The ``kubernetes`` Service in ``default``: how pods find the API server.

As kube-apiserver's bootstrap controller (``pkg/controlplane/controller/kubernetesservice``)
and its endpoint reconciler, at start:

 1. The Service ``default/kubernetes`` exists, type ClusterIP, with the first address of
    ``--service-cluster-ip-range`` (``10.0.0.1`` by default), one port ``https`` 443/TCP whose
    ``targetPort`` is the port the server serves on, labels ``component: apiserver`` and
    ``provider: kubernetes``. An existing one whose port no longer matches is updated.
 2. Its address is allocated like any Service's (the store's hooks), so no user Service can
    take it, and it survives restarts because the allocation is stored.
 3. The Endpoints and EndpointSlice ``kubernetes`` list the advertise address and port —
    unless that address is loopback or unspecified, which an Endpoints object may not hold
    (upstream refuses such an advertise address outright); then the Service has no endpoints.
 4. Before that, the stored allocations are repaired against the stored Services
    (``ServiceAllocations.repair``), with a one-minute grace for allocations in flight.
 5. While the server runs, :class:`KubernetesServiceController` follows Services through the
    shared informer and puts ``default/kubernetes`` back when it is deleted or its port is
    changed, as upstream's controller does on its timer (here on the event, with no timer).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from datetime import timedelta

from kubeward.api import meta as m
from kubeward.api.allocation.ranges import IPRange
from kubeward.api.allocation.services import ServiceAllocations
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.core_services import ENDPOINTS, SERVICES
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.api.scheme import ResourceType
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import AlreadyExists, NotFound

log = logging.getLogger("kubeward.controllers.kubernetes_service")

NAME = "kubernetes"
NAMESPACE = "default"
LABELS = {"component": "apiserver", "provider": "kubernetes"}


def _service(ip: str, port: int) -> m.JSONObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ip,
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    }


REPAIR_GRACE = timedelta(minutes=1)


async def repair_service_allocations(stores: dict[ResourceType, Store]) -> None:
    """Rule 4."""
    store = stores[SERVICES]
    if not isinstance(store.hooks, ServiceAllocations):
        return
    services = (await store.list("", ListOptions()))["items"]
    freed, recorded = await store.hooks.repair(services, m.now(), REPAIR_GRACE)
    if freed or recorded:
        log.info("service allocations repaired: %d freed, %d recorded again", freed, recorded)


async def ensure_kubernetes_service(
    stores: dict[ResourceType, Store], ip_range: IPRange, advertise_address: str, port: int
) -> None:
    """Rules 1–3; the server's own writes (no request scope)."""
    store = stores[SERVICES]
    ip = str(ip_range.address(0))
    try:
        current = await store.get(NAMESPACE, NAME)
    except NotFound:
        with contextlib.suppress(AlreadyExists):
            await store.create(NAMESPACE, _service(ip, port))
    else:
        ports = (current.get("spec") or {}).get("ports") or []
        if not ports or ports[0].get("targetPort") != port or ports[0].get("port") != 443:

            def repoint(obj: m.JSONObject) -> m.JSONObject:
                obj["spec"]["ports"] = _service(ip, port)["spec"]["ports"]
                return obj

            await store.guaranteed_update(NAMESPACE, NAME, repoint)
    await _ensure_endpoints(stores, advertise_address, port)


async def _ensure_endpoints(stores: dict[ResourceType, Store], address: str, port: int) -> None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return
    if parsed.is_loopback or parsed.is_unspecified:
        log.info("kubernetes Service: advertise address %s is not routable; no endpoints", address)
        return
    endpoints: m.JSONObject = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }
        ],
    }
    endpoint_slice: m.JSONObject = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/service-name": NAME},
        },
        "addressType": "IPv4" if parsed.version == 4 else "IPv6",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }
    for rt, wanted in ((ENDPOINTS, endpoints), (ENDPOINT_SLICES, endpoint_slice)):
        store = stores[rt]
        try:
            await store.create(NAMESPACE, wanted)
        except AlreadyExists:

            def replace(obj: m.JSONObject, wanted: m.JSONObject = wanted) -> m.JSONObject:
                for key in ("subsets", "addressType", "endpoints", "ports"):
                    if key in wanted:
                        obj[key] = wanted[key]
                return obj

            await store.guaranteed_update(NAMESPACE, NAME, replace)


class KubernetesServiceController(Controller):
    """Rule 5, keyed like the informer (``default/kubernetes`` is the only key acted on)."""

    name = "kubernetes-service"

    def __init__(
        self,
        stores: dict[ResourceType, Store],
        informers: InformerFactory,
        ip_range: IPRange,
        advertise_address: str,
        port: int,
    ) -> None:
        super().__init__(informers.informer(SERVICES))
        self._stores = stores
        self._ip_range = ip_range
        self._advertise_address = advertise_address
        self._port = port

    async def reconcile(self, key: str) -> float | None:
        if key != f"{NAMESPACE}/{NAME}":
            return None
        current = self.cached(key)
        ports = ((current or {}).get("spec") or {}).get("ports") or [{}]
        if current is None or ports[0].get("targetPort") != self._port:
            await ensure_kubernetes_service(
                self._stores, self._ip_range, self._advertise_address, self._port
            )
        return None
