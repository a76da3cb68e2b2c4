"""The CertificateApproval and CertificateSigning admission plugins."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.certificateapproval import CertificateApprovalPlugin
from kubeward.admission.plugins.certificatesigning import CertificateSigningPlugin
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision
from kubeward.errors import Forbidden

SIGNER = "kubernetes.io/kube-apiserver-client"


class Grants:
    """Allows exactly the (verb, signers name) pairs given; records what was asked."""

    def __init__(self, *allowed: tuple[str, str]) -> None:
        self.allowed = set(allowed)
        self.asked: list[Attributes] = []

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.asked.append(attributes)
        ok = attributes.resource == "signers" and (attributes.verb, attributes.name) in self.allowed
        return AuthzResult(Decision.ALLOW if ok else Decision.NO_OPINION, "")


class NoReader:
    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def csr(certificate: str = "") -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "bob"}, "spec": {"signerName": SIGNER}}
    if certificate:
        obj["status"] = {"certificate": certificate}
    return obj


def update(subresource: str, new: dict[str, Any], old: dict[str, Any]) -> AdmissionRequest:
    return AdmissionRequest(
        "UPDATE",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        subresource,
        "",
        "bob",
        UserInfo("half-approver"),
        new,
        old_object=old,
    )


def run_approval(grants: Grants, request: AdmissionRequest) -> None:
    plugin = CertificateApprovalPlugin()
    plugin.set_authorizer(grants)
    asyncio.run(plugin.validate(request, NoReader()))


def run_signing(grants: Grants, request: AdmissionRequest) -> None:
    plugin = CertificateSigningPlugin()
    plugin.set_authorizer(grants)
    asyncio.run(plugin.validate(request, NoReader()))


def test_approval_needs_approve_on_the_signer() -> None:
    with pytest.raises(Forbidden) as caught:
        run_approval(Grants(), update("approval", csr(), csr()))
    assert caught.value.message == (
        'certificatesigningrequests.certificates.k8s.io "bob" is forbidden: '
        f'user not permitted to approve requests with signerName "{SIGNER}"'
    )


@pytest.mark.parametrize("granted", [SIGNER, "kubernetes.io/*"], ids=["signer", "domain-wildcard"])
def test_approval_with_approve_on_the_signer_or_its_domain_passes(granted: str) -> None:
    run_approval(Grants(("approve", granted)), update("approval", csr(), csr()))


def test_approval_ignores_other_subresources_and_resources() -> None:
    grants = Grants()
    run_approval(grants, update("status", csr(), csr()))
    run_approval(grants, update("", csr(), csr()))
    other = update("approval", csr(), csr())
    other.resource = "configmaps"
    run_approval(grants, other)
    assert grants.asked == []


def test_signing_needs_sign_when_the_certificate_changes() -> None:
    with pytest.raises(Forbidden, match='not permitted to sign requests with signerName "'):
        run_signing(Grants(), update("status", csr("Y2VydA=="), csr()))
    run_signing(Grants(("sign", SIGNER)), update("status", csr("Y2VydA=="), csr()))


def test_signing_does_not_ask_when_the_certificate_is_unchanged() -> None:
    grants = Grants()
    run_signing(grants, update("status", csr("Y2VydA=="), csr("Y2VydA==")))
    run_signing(grants, update("approval", csr("Y2VydA=="), csr()))
    assert grants.asked == []
