"""The CSR strategy: the requester from the request's scope, and what each subresource changes."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from kubeward.api.registry.scope import RequestScope
from kubeward.api.resources.certificates import (
    CERTIFICATE_SIGNING_REQUESTS,
    CertificateSigningRequestStrategy,
)
from kubeward.api.user import UserInfo

STRATEGY = CertificateSigningRequestStrategy(CERTIFICATE_SIGNING_REQUESTS)
JANE = UserInfo(
    "jane", uid="u-1", groups=("dev", "system:authenticated"), extra=MappingProxyType({"k": ("v",)})
)


def csr(**status: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "c"}, "spec": {"signerName": "example.com/x"}}
    if status:
        obj["status"] = status
    return obj


def approved() -> dict[str, Any]:
    return {"type": "Approved", "status": "True", "reason": "R", "message": "ok"}


def test_the_requester_comes_from_the_scope_and_replaces_the_clients_claim() -> None:
    obj = csr(conditions=[approved()])
    obj["spec"].update(username="kubernetes-admin", groups=["system:masters"], uid="admin")
    STRATEGY.prepare_for_create(obj, RequestScope(JANE, verb="create"))
    assert obj["spec"] == {
        "signerName": "example.com/x",
        "username": "jane",
        "uid": "u-1",
        "groups": ["dev", "system:authenticated"],
        "extra": {"k": ["v"]},
    }
    assert "status" not in obj


def test_the_servers_own_create_keeps_the_spec() -> None:
    obj = csr()
    obj["spec"]["username"] = "controller"
    STRATEGY.prepare_for_create(obj, None)
    assert obj["spec"]["username"] == "controller"


def test_approval_takes_only_the_conditions_and_fills_their_times() -> None:
    old = csr()
    new = csr(conditions=[approved()], certificate="Y2VydA==")
    new["spec"] = {"signerName": "changed"}
    merged = STRATEGY.prepare_for_subresource_update(new, old, "approval")
    assert merged["spec"] == old["spec"]
    (condition,) = merged["status"]["conditions"]
    assert condition["lastUpdateTime"] and condition["lastTransitionTime"]
    assert "certificate" not in merged["status"]
    assert STRATEGY.validate_subresource_update(merged, old, "approval") == []


def test_status_may_set_the_certificate_but_not_approve() -> None:
    old = csr()
    signed = STRATEGY.prepare_for_subresource_update(csr(certificate="Y2VydA=="), old, "status")
    assert STRATEGY.validate_subresource_update(signed, old, "status") == []
    approving = STRATEGY.prepare_for_subresource_update(csr(conditions=[approved()]), old, "status")
    causes = STRATEGY.validate_subresource_update(approving, old, "status")
    assert [c.message for c in causes] == [
        'Forbidden: updates may not add a condition of type "Approved"'
    ]
    causes = STRATEGY.validate_update(csr(certificate="Y2VydA=="), old)
    assert [c.message for c in causes] == ["Forbidden: updates may not set certificate content"]
