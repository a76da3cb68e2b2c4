"""metrics.k8s.io/v1beta1: the resource metrics ``kubectl top`` reads, answered, never stored.

kubeward serves them itself, as metrics-server does for a kubeadm cluster, from the nodes'
``/stats/summary`` (``server.endpoints.resource_metrics``).
"""

from __future__ import annotations

from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType

_READ = ("get", "list")
NODE_METRICS = ResourceType(
    "metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=_READ, stored=False
)
POD_METRICS = ResourceType(
    "metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=_READ, stored=False
)
TYPES = (NODE_METRICS, POD_METRICS)
STRATEGIES: dict[ResourceType, type[Strategy]] = {}
