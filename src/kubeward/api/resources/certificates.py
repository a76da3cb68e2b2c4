"""certificates.k8s.io/v1: CertificateSigningRequest, with its ``/approval`` and ``/status``.

The kind is cluster-scoped and its names are free-form (Kubernetes does not check them beyond
being a path segment). What the strategy enforces (the rest lives in ``server.certificates``,
which knows the requester and the authorizer):

 1. On create the status is cleared: nobody creates a pre-approved or pre-signed request.
 2. The spec never changes after creation (``api.validation.certificates`` rule 7).
 3. A ``/status`` or ``/approval`` update changes only the status; which parts of it each may
    change is checked by the server's hook, which knows the subresource.
"""

from __future__ import annotations

import copy

from kubeward.api.meta import JSONObject
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

# Both subresources may touch conditions and the certificate as far as the store is concerned;
# the server's hook narrows each to its own part (rule 3).
_ANY_SUBRESOURCE = v.UpdatePath(may_set_approval=True, may_set_certificate=True)


class CertificateSigningRequestStrategy(Strategy):
    name_check = staticmethod(check_path_segment_name)
    has_status = True

    def prepare_for_create(self, obj: JSONObject) -> None:
        obj.pop("status", None)

    def prepare_for_status_update(self, new: JSONObject, old: JSONObject) -> JSONObject:
        merged = copy.deepcopy(old)
        status = new.get("status")
        if isinstance(status, dict):
            merged["status"] = copy.deepcopy(status)
        else:
            merged.pop("status", None)
        return merged

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_csr(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_csr_transition(new, old, _ANY_SUBRESOURCE)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    CERTIFICATE_SIGNING_REQUESTS: CertificateSigningRequestStrategy,
}
