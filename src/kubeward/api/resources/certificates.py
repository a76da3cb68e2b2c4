"""certificates.k8s.io/v1: CertificateSigningRequest, with its ``/approval`` and ``/status``.

The kind is cluster-scoped and its names are free-form (Kubernetes does not check them beyond
being a path segment). The strategy enforces, as upstream's CSR strategies do:

 1. On create the status is cleared (nobody creates a pre-approved or pre-signed request) and
    ``spec.username``, ``uid``, ``groups`` and ``extra`` are the requester's, taken from the
    request's scope (the authenticated or impersonated user); whatever the client sent there
    is replaced.
 2. The spec never changes after creation (``api.validation.certificates`` rule 7).
 3. ``/approval`` changes only ``status.conditions``; ``/status`` changes the status but never
    the Approved or Denied conditions (422 otherwise). Missing condition timestamps are filled.

Who may approve or sign for a signer is checked by the ``CertificateApproval`` and
``CertificateSigning`` admission plugins, which know the authorizer.
"""

from __future__ import annotations

import copy

from kubeward.api import meta as m
from kubeward.api.meta import JSONObject
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType, Subresource
from kubeward.api.validation import certificates as v
from kubeward.api.validation.meta import check_path_segment_name
from kubeward.errors import Cause

GROUP = "certificates.k8s.io"
KIND = "CertificateSigningRequest"
_SUB_VERBS = ("get", "patch", "update")

CERTIFICATE_SIGNING_REQUESTS = ResourceType(
    GROUP,
    "v1",
    KIND,
    "certificatesigningrequests",
    False,
    verbs=ALL_VERBS,
    short_names=("csr",),
    subresources=(
        Subresource("approval", KIND, _SUB_VERBS, GROUP, "v1"),
        Subresource("status", KIND, _SUB_VERBS, GROUP, "v1"),
    ),
)
TYPES = (CERTIFICATE_SIGNING_REQUESTS,)

# What an update through each path may change (rule 3).
_PATHS = {"approval": v.APPROVAL, "status": v.STATUS, "": v.MAIN}


class CertificateSigningRequestStrategy(Strategy):
    name_check = staticmethod(check_path_segment_name)
    has_status = True

    def prepare_for_create(self, obj: JSONObject, scope: RequestScope | None) -> None:
        obj.pop("status", None)
        if scope is not None:
            fill_requester(obj, scope)

    def prepare_for_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> JSONObject:
        merged = copy.deepcopy(old)
        status = new.get("status")
        if subresource == "approval":
            conditions = status.get("conditions") if isinstance(status, dict) else None
            merged_status = merged.setdefault("status", {})
            if conditions:
                merged_status["conditions"] = copy.deepcopy(conditions)
            else:
                merged_status.pop("conditions", None)
            if not merged_status:
                merged.pop("status")
        elif subresource == "status":
            if isinstance(status, dict):
                merged["status"] = copy.deepcopy(status)
            else:
                merged.pop("status", None)
        else:
            return super().prepare_for_subresource_update(new, old, subresource)
        _fill_condition_times(merged, old)
        return merged

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_csr(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_csr_transition(new, old, v.MAIN)

    def validate_subresource_update(
        self, new: JSONObject, old: JSONObject, subresource: str
    ) -> list[Cause]:
        return v.validate_csr_transition(new, old, _PATHS.get(subresource, v.MAIN))


def fill_requester(obj: JSONObject, scope: RequestScope) -> None:
    """Rule 1: the requester's identity, never the client's claim."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    user = scope.user
    for key in ("username", "uid", "groups", "extra"):
        spec.pop(key, None)
    spec["username"] = user.name
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups"] = list(user.groups)
    if user.extra:
        spec["extra"] = {k: list(vals) for k, vals in user.extra.items()}


def _fill_condition_times(obj: JSONObject, old: JSONObject) -> None:
    now = m.format_time(m.now())
    previous = {
        str(c.get("type")): c
        for c in ((old.get("status") or {}).get("conditions") or [])
        if isinstance(c, dict)
    }
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if not isinstance(cond, dict):
            continue
        if not cond.get("lastUpdateTime"):
            cond["lastUpdateTime"] = now
        if not cond.get("lastTransitionTime"):
            before = previous.get(str(cond.get("type")))
            same = before is not None and before.get("status") == cond.get("status")
            cond["lastTransitionTime"] = (
                (before or {}).get("lastTransitionTime") or now if same else now
            )


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    CERTIFICATE_SIGNING_REQUESTS: CertificateSigningRequestStrategy,
}
