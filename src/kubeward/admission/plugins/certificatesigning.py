"""The ``CertificateSigning`` admission plugin: only a signer's signers set its certificates.

As upstream's ``plugin/pkg/admission/certificates/signing``: an update of
``certificatesigningrequests/status`` that sets or changes ``status.certificate`` needs the
``sign`` verb on the request's signer (``admission.plugins.signers``). A refusal is 403
``... is forbidden: user not permitted to sign requests with signerName "SIGNER"``.
"""

from __future__ import annotations

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.signers import SignerPermissionPlugin
from kubeward.api.validation.certificates import certificate_bytes

PLUGIN_NAME = "CertificateSigning"


class CertificateSigningPlugin(SignerPermissionPlugin):
    name = PLUGIN_NAME
    subresource = "status"
    verb = "sign"

    def concerns(self, request: AdmissionRequest) -> bool:
        """Only a status update that sets or changes the certificate."""
        return certificate_bytes(request.object) != certificate_bytes(request.old_object)
