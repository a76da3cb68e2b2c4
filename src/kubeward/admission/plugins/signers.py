"""Who may act for a CSR signer: the check the CertificateApproval and CertificateSigning plugins share.

As upstream's ``plugin/pkg/admission/certificates/util.go``: a user may ``approve`` (or
``sign``) for a signer when the authorizer allows that verb on the ``signers`` resource of
group ``certificates.k8s.io`` named by the signer (``example.com/my-signer``) or by its
domain's wildcard (``example.com/*``).
"""

from __future__ import annotations

from typing import Any

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Authorizer

CSR_GROUP = "certificates.k8s.io"
CSR_RESOURCE = "certificatesigningrequests"


def is_csr(group: str, resource: str) -> bool:
    return group == CSR_GROUP and resource == CSR_RESOURCE


def signer_name(csr: dict[str, Any] | None) -> str:
    return str(((csr or {}).get("spec") or {}).get("signerName") or "")


def is_authorized_for_signer(
    authorizer: Authorizer, user: UserInfo, verb: str, signer: str
) -> bool:
    """``verb`` on ``signers/<signer>``, or on ``signers/<domain>/*``."""
    names = [signer]
    domain, sep, _ = signer.partition("/")
    if sep:
        names.append(f"{domain}/*")
    for name in names:
        attributes = Attributes(
            user=user,
            verb=verb,
            api_group=CSR_GROUP,
            api_version="*",
            resource="signers",
            name=name,
        )
        if authorizer.authorize(attributes).allowed:
            return True
    return False
