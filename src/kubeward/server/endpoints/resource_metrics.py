"""``metrics.k8s.io``: node and pod metrics gathered from the kubelets, as metrics-server does.

Rules:
 1. Each list or get asks every node's kubelet for ``/stats/summary`` (over the same mTLS
    connection as logs and exec); a node that does not answer is left out, as metrics-server
    leaves out nodes it could not scrape.
 2. NodeMetrics and PodMetrics carry the node's or each container's CPU (nanocores, ``n``) and
    working-set memory (``Ki``), a timestamp and the window (10 s, metrics-server's default).
 3. A node or pod with no metrics is 404 ``nodemetrics.metrics.k8s.io "NAME" not found`` (or
    ``podmetrics…``); pod metrics are listed per namespace or across all of them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions
from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.core import NODES
from kubeward.api.user import UserInfo
from kubeward.errors import NotFound, StatusDetails, StatusError
from kubeward.server.endpoints.kubelet_connection import KubeletConnector
from kubeward.server.http import json_response

if TYPE_CHECKING:
    from kubeward.server.app import APIServer

log = logging.getLogger("kubeward.server")
API_VERSION = "metrics.k8s.io/v1beta1"
WINDOW = "10s"
JSONObject = dict[str, Any]


def _usage(stats: JSONObject) -> JSONObject:
    cpu = int((stats.get("cpu") or {}).get("usageNanoCores") or 0)
    memory = int((stats.get("memory") or {}).get("workingSetBytes") or 0)
    return {"cpu": f"{cpu}n", "memory": f"{memory // 1024}Ki"}


def node_metrics(node: JSONObject, summary: JSONObject) -> JSONObject:
    """Rule 2 for a node."""
    stamp = m.format_time(m.now())
    meta = m.metadata(node)
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": meta.get("name", ""),
            "creationTimestamp": stamp,
            "labels": meta.get("labels") or {},
        },
        "timestamp": stamp,
        "window": WINDOW,
        "usage": _usage(summary.get("node") or {}),
    }


def pod_metrics(pod: JSONObject) -> JSONObject:
    """Rule 2 for a pod of a summary."""
    stamp = m.format_time(m.now())
    ref = pod.get("podRef") or {}
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": {
            "name": ref.get("name", ""),
            "namespace": ref.get("namespace", ""),
            "creationTimestamp": stamp,
        },
        "timestamp": stamp,
        "window": WINDOW,
        "containers": [
            {"name": c.get("name", ""), "usage": _usage(c)} for c in pod.get("containers") or []
        ],
    }


class ResourceMetrics:
    def __init__(self, server: APIServer, connector: KubeletConnector) -> None:
        self.server = server
        self.connector = connector

    async def _summary(self, node: JSONObject) -> JSONObject | None:
        """Rule 1 for one node."""
        try:
            url = self.connector.locate(node).url("/stats/summary")
            async with self.connector.session.get(url) as answer:
                if answer.status != 200:
                    return None
                body = await answer.json(content_type=None)
                return body if isinstance(body, dict) else None
        except (StatusError, aiohttp.ClientError, OSError, ValueError) as exc:
            log.info("metrics: node %s not scraped: %s", m.metadata(node).get("name"), exc)
            return None

    async def _summaries(self) -> list[tuple[JSONObject, JSONObject]]:
        store = self.server.stores[NODES]
        nodes = (await store.list("", ListOptions())).get("items") or []
        found = await asyncio.gather(*(self._summary(n) for n in nodes))
        return [(n, s) for n, s in zip(nodes, found, strict=True) if s is not None]

    async def nodes(
        self, _: web.Request, info: RequestInfo, __: UserInfo, ___: bytes
    ) -> web.StreamResponse:
        items = [node_metrics(n, s) for n, s in await self._summaries()]
        if info.name:
            for item in items:
                if item["metadata"]["name"] == info.name:
                    return json_response(item)
            raise NotFound(
                f'nodemetrics.metrics.k8s.io "{info.name}" not found',
                StatusDetails(name=info.name, group="metrics.k8s.io", kind="nodes"),
            )
        return json_response(
            {"kind": "NodeMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}
        )

    async def pods(
        self, _: web.Request, info: RequestInfo, __: UserInfo, ___: bytes
    ) -> web.StreamResponse:
        items = [
            pod_metrics(p)
            for _, summary in await self._summaries()
            for p in summary.get("pods") or []
            if not info.namespace or (p.get("podRef") or {}).get("namespace") == info.namespace
        ]
        if info.name:
            for item in items:
                if item["metadata"]["name"] == info.name:
                    return json_response(item)
            raise NotFound(
                f'podmetrics.metrics.k8s.io "{info.name}" not found',
                StatusDetails(name=info.name, group="metrics.k8s.io", kind="pods"),
            )
        return json_response(
            {"kind": "PodMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}
        )


def register(server: APIServer, connector: KubeletConnector) -> None:
    metrics = ResourceMetrics(server, connector)
    server.virtual[("metrics.k8s.io", "nodes", "")] = metrics.nodes
    server.virtual[("metrics.k8s.io", "pods", "")] = metrics.pods
