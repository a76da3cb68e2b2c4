"""The ValidatingAdmissionPolicy status controller, inside the API server.

Rules (kube-controller-manager's ``validatingadmissionpolicy-status-controller``):
 1. A policy whose ``status.observedGeneration`` is not its ``metadata.generation`` is type
    checked against the kinds it matches (``admission.policy.typecheck``), and its status set,
    through ``/status``, to that ``observedGeneration`` and ``typeChecking`` (with the
    ``expressionWarnings``, none when the check found nothing).
 2. It runs in the API server (over the server's own stores, as the storage-protection
    controllers do), so a policy's status follows its spec without the controller-manager.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubeward.admission.policy.typecheck import expression_warnings
from kubeward.api import meta as m
from kubeward.api.registry.store import Store
from kubeward.api.resources.admissionregistration import VALIDATING_ADMISSION_POLICIES
from kubeward.api.scheme import ResourceType
from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import NotFound


class AdmissionPolicyStatusController(Controller):
    name = "validatingadmissionpolicy-status"

    def __init__(self, stores: dict[ResourceType, Store], informers: InformerFactory) -> None:
        super().__init__(informers.informer(VALIDATING_ADMISSION_POLICIES))
        self._stores = stores
        self._store = stores[VALIDATING_ADMISSION_POLICIES]

    def _kinds_for(self, group: str, version: str, resource: str) -> list[str]:
        return [
            rt.kind
            for rt in list(self._stores)
            if (rt.group, rt.version, rt.resource) == (group, version, resource)
        ]

    async def reconcile(self, key: str) -> float | None:
        """Rule 1."""
        policy = self.cached(key)
        if policy is None:
            return None
        generation = m.metadata(policy).get("generation")
        if (policy.get("status") or {}).get("observedGeneration") == generation:
            return None
        warnings = expression_warnings(policy, self._kinds_for)

        def set_status(current: m.JSONObject) -> m.JSONObject:
            checking: dict[str, Any] = {"expressionWarnings": warnings} if warnings else {}
            status = dict(current.get("status") or {})
            status["observedGeneration"] = m.metadata(current).get("generation")
            status["typeChecking"] = checking
            current["status"] = status
            return current

        with contextlib.suppress(NotFound):  # deleted meanwhile: nothing to report
            await self._store.guaranteed_update(
                "", m.name_of(policy), set_status, subresource="status"
            )
        return None
