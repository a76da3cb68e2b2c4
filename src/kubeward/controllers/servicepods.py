"""What the endpoints and endpointslice controllers read from a Service and its pods
(``pkg/controller/util/endpoint``, ``pkg/api/v1/pod``'s ``FindPort``).

Rules:

 1. A Service selects pods by ``spec.selector``, a plain label map in the Service's namespace.
    A Service without a selector (or with an empty one) gets no endpoints from a controller:
    its Endpoints and EndpointSlices are whatever users write.
 2. A pod is listed (``ShouldPodBeInEndpoints``) unless it has ended (phase Succeeded or
    Failed) or has no IP yet; a pod being deleted is listed only when terminating pods are
    wanted (EndpointSlices always, Endpoints under ``publishNotReadyAddresses``).
 3. A pod's address is its IP of the Service's family (IPv4 unless the Service's first family
    is IPv6): ``status.podIPs`` first, then ``status.podIP``.
 4. A Service port's number in a pod (``FindPort``): a numeric ``targetPort`` is itself (an
    absent one is the Service port's ``port``); a named one is the ``containerPort`` of the
    pod's container port with that name and the Service port's protocol (regular containers,
    then init containers, as sidecars declare ports). A pod without it serves no such port.
 5. A pod's hostname is published when it sets ``spec.hostname`` and its ``spec.subdomain``
    is the Service's name (the headless-Service DNS rule).
 6. A Service is headless when ``spec.clusterIP`` is ``None``; its endpoints then carry the
    label ``service.kubernetes.io/headless``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from kubeward.api import meta as m
from kubeward.controllers import podstate
from kubeward.controllers.informer import Informer, key_of

HEADLESS_LABEL = "service.kubernetes.io/headless"


def selector_of(service: m.JSONObject) -> dict[str, str] | None:
    """Rule 1: the Service's selector, or None when it has none."""
    selector = (service.get("spec") or {}).get("selector")
    if not isinstance(selector, dict) or not selector:
        return None
    return {str(k): str(v) for k, v in selector.items()}


def selects(selector: dict[str, str], pod: m.JSONObject) -> bool:
    labels = m.metadata(pod).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def is_headless(service: m.JSONObject) -> bool:
    """Rule 6."""
    return (service.get("spec") or {}).get("clusterIP") == "None"


def ipv6_family(service: m.JSONObject) -> bool:
    families = (service.get("spec") or {}).get("ipFamilies") or []
    return bool(families) and families[0] == "IPv6"


def pod_ip(pod: m.JSONObject, ipv6: bool = False) -> str:
    """Rule 3: the pod's address of the wanted family, or '' when it has none."""
    status = pod.get("status") or {}
    candidates = [str(entry.get("ip") or "") for entry in status.get("podIPs") or []]
    candidates.append(str(status.get("podIP") or ""))
    for text in candidates:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if (ip.version == 6) == ipv6:
            return text
    return ""


def should_be_listed(pod: m.JSONObject, *, include_terminating: bool, ipv6: bool = False) -> bool:
    """Rule 2."""
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return False
    if not pod_ip(pod, ipv6):
        return False
    return include_terminating or not m.metadata(pod).get("deletionTimestamp")


def is_ready(pod: m.JSONObject) -> bool:
    return podstate.is_ready(pod)


def is_terminating(pod: m.JSONObject) -> bool:
    return bool(m.metadata(pod).get("deletionTimestamp"))


def find_port(pod: m.JSONObject, service_port: m.JSONObject) -> int | None:
    """Rule 4: the port number the pod serves ``service_port`` on, or None."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            for port in (container or {}).get("ports") or []:
                if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                    number = port.get("containerPort")
                    return int(number) if number is not None else None
    return None


def hostname_of(pod: m.JSONObject, service: m.JSONObject) -> str:
    """Rule 5."""
    spec = pod.get("spec") or {}
    hostname = str(spec.get("hostname") or "")
    if (
        hostname
        and spec.get("subdomain") == m.name_of(service)
        and m.namespace_of(pod) == m.namespace_of(service)
    ):
        return hostname
    return ""


def target_ref(pod: m.JSONObject) -> m.JSONObject:
    meta = m.metadata(pod)
    return {
        "kind": "Pod",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }


def service_ports(service: m.JSONObject) -> list[m.JSONObject]:
    ports = (service.get("spec") or {}).get("ports") or []
    return [p for p in ports if isinstance(p, dict)]


def endpoint_port(service_port: m.JSONObject, number: int) -> dict[str, Any]:
    """The port an Endpoints subset or an EndpointSlice lists for ``service_port``."""
    port: dict[str, Any] = {
        "name": service_port.get("name") or "",
        "port": number,
        "protocol": service_port.get("protocol") or "TCP",
    }
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def services_selecting(services: Iterable[m.JSONObject], pod: m.JSONObject) -> list[m.JSONObject]:
    """The Services of the pod's namespace whose selector matches it (for event handlers)."""
    found = []
    for service in services:
        selector = selector_of(service)
        if selector is not None and selects(selector, pod):
            found.append(service)
    return found


def follow_pods(services: Informer, pods: Informer, enqueue: Callable[[str], None]) -> None:
    """Enqueue the Services selecting a pod, before and after each change of it."""

    def changed(pod: m.JSONObject) -> None:
        for service in services_selecting(services.in_namespace(m.namespace_of(pod)), pod):
            enqueue(key_of(service))

    def updated(old: m.JSONObject, new: m.JSONObject) -> None:
        if old is new:  # a resync: the Services' own resync covers it
            return
        changed(old)
        if m.metadata(old).get("labels") != m.metadata(new).get("labels"):
            changed(new)

    pods.add_event_handler(changed, updated, changed)


def served_ports(pod: m.JSONObject, ports: list[m.JSONObject]) -> list[m.JSONObject]:
    """The Service's ports the pod serves, as endpoint ports (a port it does not have is left out)."""
    served = []
    for service_port in ports:
        number = find_port(pod, service_port)
        if number is not None:
            served.append(endpoint_port(service_port, number))
    return served
