"""The resource metrics the horizontal pod autoscaler reads: ``metrics.k8s.io/v1beta1``
PodMetrics, as kube-controller-manager's resource metrics client reads metrics-server
(``pkg/controller/podautoscaler/metrics/client.go``).

Rules:

 1. One list of the namespace's PodMetrics per metric, asked with the target's selector; only
    the pods the caller names (those its selector picks in its own cache) are kept, whatever
    the server answered.
 2. A pod's value is the sum of its containers' usage of the resource in milli-units
    (``Quantity.MilliValue``), or of one container's when asked. A pod with a container that
    reports no such usage (or without the asked container) has no metric: it is *missing*.
 3. Errors are upstream's words: ``unable to fetch metrics from resource metrics API: …`` when
    the list fails, ``no metrics returned from resource metrics API`` when it is empty.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection

from kubeward.api import meta as m
from kubeward.api.quantity import milli_value, quantity_or_zero
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers.podautoscaler_replicas import PodMetric
from kubeward.errors import KubewardError, MetricUnavailable

PATH = "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
DEFAULT_WINDOW = datetime.timedelta(seconds=30)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_window(text: str) -> datetime.timedelta:
    """A Go duration (``10s``, ``1m30s``); metrics-server's 30 s when it is not one."""
    parts = _DURATION.findall(text or "")
    if not parts or _DURATION.sub("", text):
        return DEFAULT_WINDOW
    return datetime.timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))


def pod_value(item: m.JSONObject, resource: str, container: str = "") -> int | None:
    """Rule 2 for one PodMetrics object."""
    total, found = 0, False
    for c in item.get("containers") or []:
        if container and c.get("name") != container:
            continue
        usage = (c.get("usage") or {}).get(resource)
        if usage is None:
            return None
        total += milli_value(quantity_or_zero(usage))
        found = True
    return total if found else None


class ResourceMetricsClient:
    def __init__(self, client: APIClient) -> None:
        self.client = client

    async def pod_metrics(
        self,
        resource: str,
        namespace: str,
        selector: LabelSelector,
        pods: Collection[str],
        container: str = "",
    ) -> dict[str, PodMetric]:
        """Rules 1-3: the named pods' metrics by pod name.

        Raises:
            MetricUnavailable: the list failed or was empty.
        """
        params = {"labelSelector": str(selector)} if not selector.empty else None
        try:
            answer = await self.client.request(
                "GET", PATH.format(namespace=namespace), params=params
            )
        except (KubewardError, OSError) as exc:
            raise MetricUnavailable(
                f"unable to fetch metrics from resource metrics API: {exc}"
            ) from exc
        items = answer.get("items") or []
        if not items:
            raise MetricUnavailable("no metrics returned from resource metrics API")
        wanted = set(pods)
        found: dict[str, PodMetric] = {}
        for item in items:
            name = m.name_of(item)
            if name not in wanted:
                continue
            value = pod_value(item, resource, container)
            stamp = m.parse_time(str(item.get("timestamp") or ""))
            if value is None or stamp is None:
                continue
            found[name] = PodMetric(value, stamp, parse_window(str(item.get("window") or "")))
        return found
