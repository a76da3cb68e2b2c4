"""The Node object and status a kubelet reports, and the status of a pod it runs.

Rules (the kubelet's node status setters and ``generateAPIPodStatus``, for a runtime that
starts every container at once):
 1. A node registers with the labels the kubelet sets (``kubernetes.io/hostname``, ``…/os``,
    ``…/arch``), its capacity (allocatable equal to capacity: nothing is reserved), the
    conditions Ready, MemoryPressure, DiskPressure and PIDPressure with the kubelet's reasons
    and messages, its InternalIP and Hostname addresses, its kubelet endpoint and node info.
 2. A pod it runs is Running with an IP, a host IP, a start time, the conditions
    PodReadyToStartContainers, Initialized, Ready, ContainersReady and PodScheduled (True), and
    one running, ready container status per container, as ``kubectl get pods -o wide`` reads.
"""

from __future__ import annotations

import hashlib
import platform
from typing import Any

from kubeward.api import meta as m
from kubeward.node.config import KUBELET_VERSION, RUNTIME_VERSION, NodeConfig

JSONObject = dict[str, Any]


def node_labels(config: NodeConfig) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": config.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        **config.labels,
    }


def _condition(kind: str, status: str, reason: str, message: str, stamp: str) -> JSONObject:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
    }


def node_status(config: NodeConfig, kubelet_port: int | None = None) -> JSONObject:
    """Rule 1's status; ``kubelet_port`` is the port the kubelet API was bound to."""
    stamp = m.format_time(m.now())
    return {
        "capacity": dict(config.capacity),
        "allocatable": dict(config.capacity),
        "conditions": [
            _condition(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
                stamp,
            ),
            _condition(
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
                stamp,
            ),
            _condition(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
                stamp,
            ),
            _condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", stamp),
        ],
        "addresses": [
            {"type": "InternalIP", "address": config.address},
            {"type": "Hostname", "address": config.name},
        ],
        "daemonEndpoints": {
            "kubeletEndpoint": {
                "Port": config.kubelet_port if kubelet_port is None else kubelet_port
            }
        },
        "nodeInfo": {
            "machineID": hashlib.md5(config.name.encode(), usedforsecurity=False).hexdigest(),
            "systemUUID": hashlib.md5(config.name.encode(), usedforsecurity=False).hexdigest(),
            "bootID": "",
            "kernelVersion": platform.release(),
            "osImage": "kubeward simulated node",
            "containerRuntimeVersion": RUNTIME_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def node_object(config: NodeConfig) -> JSONObject:
    """Rule 1's Node, as registered."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": config.name, "labels": node_labels(config)},
        "spec": {"podCIDR": str(config.pod_cidr), "podCIDRs": [str(config.pod_cidr)]},
    }


def running_pod_status(pod: JSONObject, pod_ip: str, host_ip: str) -> JSONObject:
    """Rule 2."""
    stamp = m.format_time(m.now())
    status = pod.get("status") or {}
    started = status.get("startTime") or stamp
    conditions = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
        for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
    ]
    scheduled = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"),
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": stamp,
        },
    )
    uid = m.metadata(pod).get("uid", "")
    containers = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        name = str(container.get("name", ""))
        digest = hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()
        containers.append(
            {
                "name": name,
                "image": container.get("image", ""),
                "imageID": f"kubeward.local/{container.get('image', '')}@sha256:{digest}",
                "containerID": f"kubeward://{digest[:32]}",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            }
        )
    return {
        "phase": "Running",
        "conditions": [*conditions, scheduled],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started,
        "containerStatuses": containers,
        "qosClass": status.get("qosClass", "BestEffort"),
    }
