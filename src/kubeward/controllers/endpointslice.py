"""The endpointslice controller: EndpointSlices for each Service with a selector
(``pkg/controller/endpointslice`` and ``staging/src/k8s.io/endpointslice``).

Rules:

 1. A Service with a selector (``servicepods`` rule 1), other than an ExternalName one, has
    EndpointSlices of its address type (IPv4, or IPv6 when that is its first family), named
    ``<service>-<random>``, labelled ``kubernetes.io/service-name: <service>`` and
    ``endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`` (with the
    Service's own labels, and ``service.kubernetes.io/headless`` when headless), and
    controlled by the Service (an owner reference with ``blockOwnerDeletion``), so the garbage
    collector removes them with it. Slices of other managers are never touched.
 2. Every pod the selector matches that ``servicepods`` rule 2 lists (terminating pods
    included) is an endpoint: its address, ``conditions`` (``ready``: ready and not
    terminating, or always under ``publishNotReadyAddresses``; ``serving``: ready;
    ``terminating``: being deleted), ``nodeName``, ``targetRef``, ``hostname``
    (``servicepods`` rule 5) and ``zone`` (its node's ``topology.kubernetes.io/zone``).
 3. Endpoints are grouped by the ports they serve (``servicepods`` rule 4: a named
    ``targetPort`` may differ by pod); each group fills slices of at most
    :data:`MAX_ENDPOINTS_PER_SLICE`. An endpoint stays in the slice that already lists it while
    that slice keeps its ports; new endpoints fill the slices with room, then new slices. A
    Service with no endpoint keeps one empty slice (no endpoints, no ports), as upstream's
    placeholder.
 4. A slice is written only when what it lists, its ports, labels or owner changed; slices no
    longer needed are deleted.
 5. The informer may not have seen the controller's own last writes: until every slice it
    created or changed is cached at that generation and every one it deleted is gone, the
    Service waits (the slices' events bring it back), so no duplicate is created.
 6. Every write is made with the controller's own client (``endpointslice-controller`` under
    ``--use-service-account-credentials``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Iterable
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core_services import SERVICES
from kubeward.api.resources.discovery import ENDPOINT_SLICES
from kubeward.client.api import APIClient
from kubeward.controllers import ownership
from kubeward.controllers import servicepods as sp
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer
from kubeward.errors import NotFound, StatusError

log = logging.getLogger("kubeward.controllers")

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_ENDPOINTS_PER_SLICE = 100
STALE_CACHE_RECHECK = 1.0  # should a slice event never come (rule 5)
_RESERVED_LABELS = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, sp.HEADLESS_LABEL)


def address_type(service: m.JSONObject) -> str:
    return "IPv6" if sp.ipv6_family(service) else "IPv4"


def desired_labels(service: m.JSONObject) -> dict[str, str]:
    """Rule 1."""
    labels = {
        k: v
        for k, v in (m.metadata(service).get("labels") or {}).items()
        if k not in _RESERVED_LABELS
    }
    labels[SERVICE_NAME_LABEL] = m.name_of(service)
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    if sp.is_headless(service):
        labels[sp.HEADLESS_LABEL] = ""
    return labels


def _endpoint(
    pod: m.JSONObject, service: m.JSONObject, ip: str, zones: dict[str, str]
) -> dict[str, Any]:
    """Rule 2."""
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    terminating = sp.is_terminating(pod)
    serving = sp.is_ready(pod)
    endpoint: dict[str, Any] = {
        "addresses": [ip],
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    hostname = sp.hostname_of(pod, service)
    if hostname:
        endpoint["hostname"] = hostname
    endpoint["targetRef"] = sp.target_ref(pod)
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    if node:
        endpoint["nodeName"] = node
        if zones.get(node):
            endpoint["zone"] = zones[node]
    return endpoint


def desired_endpoints(
    service: m.JSONObject, pods: Iterable[m.JSONObject], zones: dict[str, str] | None = None
) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Rules 2 and 3: port-set key -> (ports, endpoints) of the Service's pods."""
    selector = sp.selector_of(service)
    if selector is None:
        return {}
    ipv6 = sp.ipv6_family(service)
    ports = sp.service_ports(service)
    groups: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for pod in pods:
        if not sp.selects(selector, pod):
            continue
        if not sp.should_be_listed(pod, include_terminating=True, ipv6=ipv6):
            continue
        served = sp.served_ports(pod, ports)
        key = _ports_key(served)
        group = groups.setdefault(key, (served, []))
        group[1].append(_endpoint(pod, service, sp.pod_ip(pod, ipv6), zones or {}))
    return groups


def _ports_key(ports: list[dict[str, Any]]) -> str:
    return json.dumps(sorted(ports, key=lambda p: (p["name"], p["port"])), sort_keys=True)


def _endpoint_key(endpoint: dict[str, Any]) -> str:
    return str((endpoint.get("addresses") or [""])[0])


def _sorted(endpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(endpoints, key=lambda e: (e["targetRef"].get("name", ""), _endpoint_key(e)))


def plan_slices(
    service: m.JSONObject,
    groups: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    existing: list[m.JSONObject],
) -> tuple[list[m.JSONObject], list[m.JSONObject], list[m.JSONObject]]:
    """Rules 3 and 4: the slices to create, to update and to delete."""
    kind = address_type(service)
    labels = desired_labels(service)
    owner = [ownership.new_controller_ref(service, SERVICES)]
    if not groups:
        groups = {_ports_key([]): ([], [])}  # the placeholder
    by_ports: dict[str, list[m.JSONObject]] = {}
    to_delete: list[m.JSONObject] = []
    for slice_ in sorted(existing, key=m.name_of):
        key = _ports_key(slice_.get("ports") or [])
        if slice_.get("addressType") != kind or key not in groups:
            to_delete.append(slice_)
        else:
            by_ports.setdefault(key, []).append(slice_)
    to_create: list[m.JSONObject] = []
    to_update: list[m.JSONObject] = []
    for key, (ports, endpoints) in groups.items():
        slices = by_ports.get(key, [])
        wanted = {_endpoint_key(e): e for e in endpoints}
        placed: list[list[dict[str, Any]]] = []
        for slice_ in slices:  # keep endpoints where they are
            kept: list[dict[str, Any]] = []
            for endpoint in slice_.get("endpoints") or []:
                key_ = _endpoint_key(endpoint)
                if key_ in wanted and len(kept) < MAX_ENDPOINTS_PER_SLICE:
                    kept.append(wanted.pop(key_))
            placed.append(kept)
        rest = _sorted(list(wanted.values()))
        for kept in placed:  # fill the room left
            room = MAX_ENDPOINTS_PER_SLICE - len(kept)
            kept.extend(rest[:room])
            rest = rest[room:]
        while rest:
            placed.append(rest[:MAX_ENDPOINTS_PER_SLICE])
            rest = rest[MAX_ENDPOINTS_PER_SLICE:]
        if not endpoints and not placed:
            placed.append([])
        for index, content in enumerate(placed):
            if index < len(slices):
                current = slices[index]
                if not content and (endpoints or index > 0):
                    to_delete.append(current)
                    continue
                meta = m.metadata(current)
                unchanged = (
                    (current.get("endpoints") or []) == content
                    and (current.get("ports") or []) == ports
                    and meta.get("labels") == labels
                    and meta.get("ownerReferences") == owner
                )
                if unchanged:
                    continue
                updated = copy.deepcopy(current)
                updated["metadata"]["labels"] = labels
                updated["metadata"]["ownerReferences"] = owner
                updated["endpoints"] = content
                updated["ports"] = ports
                to_update.append(updated)
                continue
            to_create.append(
                {
                    "apiVersion": ENDPOINT_SLICES.api_version,
                    "kind": "EndpointSlice",
                    "metadata": {
                        "generateName": f"{m.name_of(service)}-",
                        "namespace": m.namespace_of(service),
                        "labels": labels,
                        "ownerReferences": owner,
                    },
                    "addressType": kind,
                    "endpoints": content,
                    "ports": ports,
                }
            )
    return to_create, to_update, to_delete


class EndpointSliceController(Controller):
    name = "endpointslice"

    def __init__(
        self,
        services: Informer,
        pods: Informer,
        slices: Informer,
        nodes: Informer,
        client: APIClient,
        *,
        workers: int = 5,
    ) -> None:
        super().__init__(services, workers=workers)
        self.pods = pods
        self.slices = slices
        self.nodes = nodes
        self.client = client
        # Rule 5: service key -> slice name -> generation written (0: deleted).
        self._written: dict[str, dict[str, int]] = {}
        self.depends_on(pods, slices, nodes)
        sp.follow_pods(services, pods, self.queue.add)
        slices.add_event_handler(
            self._slice_changed, lambda _old, new: self._slice_changed(new), self._slice_changed
        )

    def _slice_changed(self, obj: m.JSONObject) -> None:
        """A managed slice added, changed or deleted: its Service is looked at again."""
        labels = m.metadata(obj).get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME and labels.get(SERVICE_NAME_LABEL):
            self.queue.add(f"{m.namespace_of(obj)}/{labels[SERVICE_NAME_LABEL]}")

    def managed_slices(self, namespace: str, service_name: str) -> list[m.JSONObject]:
        found = []
        for slice_ in self.slices.in_namespace(namespace):
            labels = m.metadata(slice_).get("labels") or {}
            if (
                labels.get(SERVICE_NAME_LABEL) == service_name
                and labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME
            ):
                found.append(slice_)
        return found

    def _cache_is_current(self, key: str) -> bool:
        """Rule 5."""
        written = self._written.get(key)
        if not written:
            return True
        namespace = key.partition("/")[0]
        for name, generation in list(written.items()):
            cached = self.slices.get(f"{namespace}/{name}")
            if (generation == 0 and cached is None) or (
                cached is not None and generation and _generation(cached) >= generation
            ):
                del written[name]
        if not written:
            del self._written[key]
            return True
        return False

    def _zones(self) -> dict[str, str]:
        zones = {}
        for node in self.nodes.cache.values():
            zone = (m.metadata(node).get("labels") or {}).get(ZONE_LABEL)
            if zone:
                zones[m.name_of(node)] = str(zone)
        return zones

    async def reconcile(self, key: str) -> float | None:
        service = self.cached(key)
        namespace, _, name = key.partition("/")
        if service is None:
            self._written.pop(key, None)
            return None  # the garbage collector deletes the slices it owned (rule 1)
        spec = service.get("spec") or {}
        if sp.selector_of(service) is None or spec.get("type") == "ExternalName":
            return None
        if not self._cache_is_current(key):
            return STALE_CACHE_RECHECK
        groups = desired_endpoints(service, self.pods.in_namespace(namespace), self._zones())
        existing = [
            s
            for s in self.managed_slices(namespace, name)
            if not m.metadata(s).get("deletionTimestamp")
        ]
        to_create, to_update, to_delete = plan_slices(service, groups, existing)
        written = self._written.setdefault(key, {})
        try:
            for slice_ in to_delete:
                with contextlib.suppress(NotFound):
                    await self.client.delete(ENDPOINT_SLICES, m.name_of(slice_), namespace)
                written[m.name_of(slice_)] = 0
            for slice_ in to_update:
                done = await self.client.update(ENDPOINT_SLICES, slice_, namespace=namespace)
                written[m.name_of(done)] = _generation(done)
            for slice_ in to_create:
                done = await self.client.create(ENDPOINT_SLICES, slice_, namespace)
                written[m.name_of(done)] = _generation(done)
        except StatusError as exc:
            if exc.code != 409:
                raise
            return STALE_CACHE_RECHECK / 10
        finally:
            if not written:
                self._written.pop(key, None)
        return None


def _generation(obj: m.JSONObject) -> int:
    return int(m.metadata(obj).get("generation") or 1)
