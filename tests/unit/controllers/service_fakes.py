"""Services and pods for the endpoints and endpointslice controllers' unit tests."""

from __future__ import annotations

from typing import Any


def service(
    name: str = "web",
    *,
    selector: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    cluster_ip: str = "10.96.0.10",
    publish_not_ready: bool = False,
    labels: dict[str, str] | None = None,
    kind: str = "ClusterIP",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": kind,
        "clusterIP": cluster_ip,
        "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}] if ports is None else ports,
    }
    if selector is not None:
        spec["selector"] = selector
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-svc-{name}",
            "labels": labels or {},
        },
        "spec": spec,
    }


def pod(
    name: str,
    ip: str,
    *,
    ready: bool = True,
    labels: dict[str, str] | None = None,
    node: str = "node-1",
    deleting: bool = False,
    phase: str = "Running",
    ports: list[dict[str, Any]] | None = None,
    hostname: str = "",
    subdomain: str = "",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "labels": {"app": "web"} if labels is None else labels,
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "ports": ports or []}]}
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return {"metadata": meta, "spec": spec, "status": status}
