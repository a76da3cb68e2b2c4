"""The endpoints controller: an Endpoints object per Service with a selector, listing its pods
(``pkg/controller/endpoint``).

Rules:

 1. A Service with a selector (``servicepods`` rule 1) has an Endpoints object of its name and
    namespace, labelled as the Service is, plus ``service.kubernetes.io/headless`` when
    headless. A Service without a selector is left alone: its Endpoints are the user's.
 2. Its pods are those the selector matches that ``servicepods`` rule 2 lists; terminating
    pods only under ``publishNotReadyAddresses``. Each is an address (IP, ``nodeName``,
    ``targetRef`` to the pod, ``hostname`` by ``servicepods`` rule 5): a ready pod, or any pod
    under ``publishNotReadyAddresses``, in ``addresses``, the others in ``notReadyAddresses``.
 3. Each Service port the pod serves (``servicepods`` rule 4) is a port of its address, named
    and with the protocol of the Service port; a pod that serves none of them is left out. A
    headless Service without ports lists its pods' addresses with no ports.
 4. Subsets are repacked as upstream's ``RepackSubsets``: addresses with the same set of ports
    share a subset; addresses are sorted by IP, ports by name, subsets by their first address.
 5. More than :data:`MAX_CAPACITY` addresses are truncated as upstream's
    ``truncateEndpoints``: not-ready addresses go first, each subset keeping its share
    (rounded up); when the ready ones alone are too many, only ready ones are kept, each subset
    its share. A truncated object is annotated ``endpoints.kubernetes.io/over-capacity:
    truncated``; the annotation goes when the object fits again.
 6. The object is written only when its subsets or labels changed, and written again when
    someone deletes it; when the Service is deleted, its Endpoints are deleted. A lost race (409) is looked at again shortly, not logged as a
    failure.
 7. Every write is made with the controller's own client (``endpoint-controller`` under
    ``--use-service-account-credentials``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
from typing import Any

from kubeward.api import meta as m
from kubeward.api.resources.core_services import ENDPOINTS
from kubeward.client.api import APIClient
from kubeward.controllers import servicepods as sp
from kubeward.controllers.base import Controller
from kubeward.controllers.informer import Informer, key_of
from kubeward.errors import NotFound, StatusError

log = logging.getLogger("kubeward.controllers")

RETRY_AFTER_CONFLICT = 0.1
MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"


def _address(pod: m.JSONObject, service: m.JSONObject, ip: str) -> dict[str, Any]:
    address: dict[str, Any] = {"ip": ip}
    hostname = sp.hostname_of(pod, service)
    if hostname:
        address["hostname"] = hostname
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    address["targetRef"] = sp.target_ref(pod)
    return address


def desired_subsets(service: m.JSONObject, pods: list[m.JSONObject]) -> list[dict[str, Any]]:
    """Rules 2-4: the subsets the Service's pods make."""
    selector = sp.selector_of(service)
    if selector is None:
        return []
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    ipv6 = sp.ipv6_family(service)
    ports = sp.service_ports(service)
    groups: dict[str, dict[str, Any]] = {}
    for pod in pods:
        if not sp.selects(selector, pod):
            continue
        if not sp.should_be_listed(pod, include_terminating=publish, ipv6=ipv6):
            continue
        served = sp.served_ports(pod, ports)
        if ports and not served:
            continue
        served.sort(key=lambda p: (p["name"], p["port"], p["protocol"]))
        key = json.dumps(served, sort_keys=True)
        group = groups.setdefault(key, {"addresses": [], "notReadyAddresses": [], "ports": served})
        address = _address(pod, service, sp.pod_ip(pod, ipv6))
        ready = publish or sp.is_ready(pod)
        group["addresses" if ready else "notReadyAddresses"].append(address)
    subsets = []
    for group in groups.values():
        subset: dict[str, Any] = {}
        for field in ("addresses", "notReadyAddresses"):
            if group[field]:
                subset[field] = sorted(
                    group[field], key=lambda a: (a["ip"], a["targetRef"].get("uid", ""))
                )
        if group["ports"]:
            subset["ports"] = group["ports"]
        subsets.append(subset)
    subsets.sort(
        key=lambda s: str((s.get("addresses") or s.get("notReadyAddresses") or [{}])[0].get("ip"))
    )
    return subsets


def truncate(subsets: list[dict[str, Any]]) -> bool:
    """Rule 5: cut ``subsets`` in place to :data:`MAX_CAPACITY` addresses; True if cut."""
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    if ready + not_ready <= MAX_CAPACITY:
        return False
    cut_ready = ready > MAX_CAPACITY
    room, total = (MAX_CAPACITY, ready) if cut_ready else (MAX_CAPACITY - ready, not_ready)
    left = room
    for subset in subsets:
        field = "addresses" if cut_ready else "notReadyAddresses"
        listed = subset.get(field) or []
        share = min(math.ceil(len(listed) / total * room), left)
        subset[field] = listed[:share]
        left -= len(subset[field])
        if cut_ready:
            subset.pop("notReadyAddresses", None)
        for key in ("addresses", "notReadyAddresses"):
            if key in subset and not subset[key]:
                del subset[key]
    return True


def desired_labels(service: m.JSONObject) -> dict[str, str]:
    """Rule 1."""
    labels = dict(m.metadata(service).get("labels") or {})
    if sp.is_headless(service):
        labels[sp.HEADLESS_LABEL] = ""
    else:
        labels.pop(sp.HEADLESS_LABEL, None)
    return labels


class EndpointsController(Controller):
    name = "endpoints"

    def __init__(
        self,
        services: Informer,
        pods: Informer,
        endpoints: Informer,
        client: APIClient,
        *,
        workers: int = 5,
    ) -> None:
        super().__init__(services, workers=workers)
        self.pods = pods
        self.endpoints = endpoints
        self.client = client
        self.depends_on(pods, endpoints)
        sp.follow_pods(services, pods, self.queue.add)
        # An Endpoints object deleted by someone else is written again (rule 5); upstream
        # follows deletions only, so Endpoints written before their Service are left alone.
        endpoints.add_event_handler(on_delete=lambda obj: self.queue.add(key_of(obj)))

    async def reconcile(self, key: str) -> float | None:
        service = self.cached(key)
        namespace, _, name = key.partition("/")
        if service is None:
            if self.endpoints.get(key) is not None:
                with contextlib.suppress(NotFound):
                    await self.client.delete(ENDPOINTS, name, namespace)
            return None
        if sp.selector_of(service) is None:
            return None
        subsets = desired_subsets(service, list(self.pods.in_namespace(namespace)))
        truncated = truncate(subsets)
        labels = desired_labels(service)
        current = self.endpoints.get(key)
        try:
            if current is None:
                body: m.JSONObject = {
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                }
                if truncated:
                    body["metadata"]["annotations"] = {OVER_CAPACITY: "truncated"}
                if subsets:
                    body["subsets"] = subsets
                await self.client.create(ENDPOINTS, body, namespace)
                return None
            annotations = dict(m.metadata(current).get("annotations") or {})
            annotations.pop(OVER_CAPACITY, None)
            if truncated:
                annotations[OVER_CAPACITY] = "truncated"
            current_meta = m.metadata(current)
            if (
                (current.get("subsets") or []) == subsets
                and (current_meta.get("labels") or {}) == labels
                and (current_meta.get("annotations") or {}) == annotations
            ):
                return None
            updated = copy.deepcopy(current)
            updated["metadata"]["labels"] = labels
            updated["metadata"]["annotations"] = annotations
            updated.pop("subsets", None)
            if subsets:
                updated["subsets"] = subsets
            await self.client.update(ENDPOINTS, updated, namespace=namespace)
        except StatusError as exc:
            if exc.code != 409:
                raise
            return RETRY_AFTER_CONFLICT  # the cache is behind our own last write
        return None
