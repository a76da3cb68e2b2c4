"""The ``CertificateApproval`` admission plugin: only a signer's approvers approve its requests.

As upstream's ``plugin/pkg/admission/certificates/approval``: an update of
``certificatesigningrequests/approval`` needs, besides ``update`` on that subresource (checked
by authorization), the ``approve`` verb on the request's signer (``admission.plugins.signers``).
A refusal is 403 ``certificatesigningrequests.certificates.k8s.io "NAME" is forbidden: user not
permitted to approve requests with signerName "SIGNER"``.
"""

from __future__ import annotations

from kubeward.admission.interfaces import UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.admission.plugins.signers import is_authorized_for_signer, is_csr, signer_name
from kubeward.authz.interfaces import Authorizer

PLUGIN_NAME = "CertificateApproval"


class CertificateApprovalPlugin:
    name = PLUGIN_NAME

    def __init__(self) -> None:
        self._authorizer: Authorizer | None = None

    def set_authorizer(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if (
            request.operation != UPDATE
            or request.subresource != "approval"
            or not is_csr(request.group, request.resource)
        ):
            return
        assert self._authorizer is not None, "the registry gives every plugin its authorizer"
        signer = signer_name(request.old_object or request.object)
        if not is_authorized_for_signer(self._authorizer, request.user, "approve", signer):
            raise forbidden(
                request, f'user not permitted to approve requests with signerName "{signer}"'
            )
