"""The controller-manager's resourcequota controller: a quota's ``status`` counts what is there.

The ResourceQuota admission plugin stays in the API server and raises usage as objects are
admitted; this controller, an API client under ``system:controller:resourcequota-controller``
(list and watch everything, update ``resourcequotas/status``), brings usage back down.

Rules (kube-controller-manager's resourcequota controller, driven by events here):
 1. A quota is recalculated when it is created, when its ``spec`` changes, and when an object in
    its namespace is deleted or a pod finishes (Succeeded or Failed): the admission plugin only
    ever adds, so this is how usage comes back down. A change to ``status`` alone (the
    admission plugin raising usage) does not recalculate, so usage admitted but not yet seen by
    the informers is never taken back.
 2. Usage is counted from the manager's shared informers of every namespaced kind discovery
    found that can be listed, watched and deleted, events excepted
    (``discovery.quotable``, upstream's ``GetQuotableResources`` and ignored resources), as
    ``admission.quota.usage`` counts each object, for the resources ``spec.hard`` names and the
    quota's scopes; ``status.hard`` mirrors ``spec.hard``.
 3. The status is written through ``/status``, only when it changed, over the cached quota's
    resourceVersion (``status_writes``): a write that meets Conflict (the admission plugin
    raised usage meanwhile) is counted again shortly, from the newer quota.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

from kubeward.admission.quota import matches_scopes, quota_usage
from kubeward.api import meta as m
from kubeward.api.quantity import format_quantity, quantity_or_zero
from kubeward.api.resources.core_policy import RESOURCE_QUOTAS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.status_writes import Written, write_status

log = logging.getLogger("kubeward.controllers.resourcequota")

STALE_RETRY_SECONDS = 0.05


def _binary(name: str) -> bool:
    return "memory" in name or name.endswith("storage")


def _terminal(obj: m.JSONObject | None) -> bool:
    return ((obj or {}).get("status") or {}).get("phase") in ("Succeeded", "Failed")


class ResourceQuotaController(Controller):
    name = "resourcequota"

    def __init__(
        self, informers: InformerFactory, client: APIClient, kinds: list[ResourceType]
    ) -> None:
        """``kinds``: what to count (``discovery.quotable``)."""
        super().__init__(informers.informer(RESOURCE_QUOTAS))
        self._client = client
        self.informer.add_event_handler(on_add=self._quota_added, on_update=self._quota_updated)
        self._kinds = {rt: informers.informer(rt) for rt in kinds if rt.namespaced}
        for informer in self._kinds.values():
            informer.add_event_handler(
                on_update=self._content_updated,
                on_delete=lambda obj: self._recount(m.namespace_of(obj)),
            )
        self.depends_on(*self._kinds.values())

    def _enqueue(self, key: str, obj: m.JSONObject | None) -> None:
        """Quotas are queued by the handlers of rule 1, not on every change."""

    def _quota_added(self, quota: m.JSONObject) -> None:
        self.queue.add(f"{m.namespace_of(quota)}/{m.name_of(quota)}")

    def _quota_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if old.get("spec") != new.get("spec") or not new.get("status"):
            self._quota_added(new)

    def _content_updated(self, old: m.JSONObject, new: m.JSONObject) -> None:
        if _terminal(new) and not _terminal(old):
            self._recount(m.namespace_of(new))

    def _recount(self, namespace: str) -> None:
        for quota in list(self.informer.in_namespace(namespace)):
            self.queue.add(f"{namespace}/{m.name_of(quota)}")

    def usage(self, quota: m.JSONObject) -> dict[str, Fraction]:
        """Rule 2."""
        namespace = m.namespace_of(quota)
        hard = (quota.get("spec") or {}).get("hard") or {}
        used = {name: Fraction(0) for name in hard}
        for rt, informer in self._kinds.items():
            for obj in list(informer.in_namespace(namespace)):
                if m.metadata(obj).get("deletionTimestamp") and rt.resource != "pods":
                    continue
                if not matches_scopes(quota, rt.resource, obj):
                    continue
                for name, value in quota_usage(rt.group, rt.resource, obj).items():
                    if name in used:
                        used[name] += value
        return used

    async def reconcile(self, key: str) -> float | None:
        quota = self.cached(key)
        if quota is None:
            return None
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        counted = self.usage(quota)
        status: dict[str, Any] = {
            "hard": hard,
            "used": {
                name: format_quantity(value, "binary" if _binary(name) else "decimal")
                for name, value in sorted(counted.items())
            },
        }
        current = quota.get("status") or {}
        same = (
            current.get("hard") == hard
            and {k: quantity_or_zero(v) for k, v in (current.get("used") or {}).items()} == counted
        )
        if same:
            return None

        written = await write_status(self._client, RESOURCE_QUOTAS, quota, status)
        if written is Written.STALE:
            return STALE_RETRY_SECONDS  # the newer quota is on its way: count again then
        if written is Written.DONE:
            log.info("%s/%s: used %s", m.namespace_of(quota), m.name_of(quota), status["used"])
        return None
