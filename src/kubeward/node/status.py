"""The Node object and the node status a kubelet reports.

Rules (the kubelet's node status setters):
 1. A node registers with the labels the kubelet sets (``kubernetes.io/hostname``, ``…/os``,
    ``…/arch``), its capacity (allocatable equal to capacity: nothing is reserved), the
    conditions Ready, MemoryPressure, DiskPressure and PIDPressure with the kubelet's reasons
    and messages, its InternalIP and Hostname addresses, its kubelet endpoint and node info.

A pod's status is ``node.pod_status``'s.
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
    """Rule 1's Node, as registered (with ``--pod-cidr`` as its range when given)."""
    spec: JSONObject = {}
    if config.pod_cidr is not None:
        spec = {"podCIDR": str(config.pod_cidr), "podCIDRs": [str(config.pod_cidr)]}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": config.name, "labels": node_labels(config)},
        "spec": spec,
    }
