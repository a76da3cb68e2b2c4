"""The ``CertificateSigning`` admission plugin: only a signer's signers set its certificates.

As upstream's ``plugin/pkg/admission/certificates/signing``: an update of
``certificatesigningrequests/status`` that sets or changes ``status.certificate`` needs the
``sign`` verb on the request's signer (``admission.plugins.signers``). A refusal is 403
``... is forbidden: user not permitted to sign requests with signerName "SIGNER"``.
"""

from __future__ import annotations

from kubeward.admission.interfaces import UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.admission.plugins.signers import is_authorized_for_signer, is_csr, signer_name
from kubeward.api.validation.certificates import certificate_bytes
from kubeward.authz.interfaces import Authorizer

PLUGIN_NAME = "CertificateSigning"


class CertificateSigningPlugin:
    name = PLUGIN_NAME

    def __init__(self) -> None:
        self._authorizer: Authorizer | None = None

    def set_authorizer(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if (
            request.operation != UPDATE
            or request.subresource != "status"
            or not is_csr(request.group, request.resource)
        ):
            return
        if certificate_bytes(request.object) == certificate_bytes(request.old_object):
            return
        assert self._authorizer is not None, "the registry gives every plugin its authorizer"
        signer = signer_name(request.old_object or request.object)
        if not is_authorized_for_signer(self._authorizer, request.user, "sign", signer):
            raise forbidden(
                request, f'user not permitted to sign requests with signerName "{signer}"'
            )
