"""The ``CertificateApproval`` admission plugin: only a signer's approvers approve its requests.

As upstream's ``plugin/pkg/admission/certificates/approval``: an update of
``certificatesigningrequests/approval`` needs, besides ``update`` on that subresource (checked
by authorization), the ``approve`` verb on the request's signer (``admission.plugins.signers``).
A refusal is 403 ``certificatesigningrequests.certificates.k8s.io "NAME" is forbidden: user not
permitted to approve requests with signerName "SIGNER"``.
"""

from __future__ import annotations

from kubeward.admission.plugins.signers import SignerPermissionPlugin

PLUGIN_NAME = "CertificateApproval"


class CertificateApprovalPlugin(SignerPermissionPlugin):
    name = PLUGIN_NAME
    subresource = "approval"
    verb = "approve"
