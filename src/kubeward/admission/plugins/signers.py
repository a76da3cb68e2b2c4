"""Who may act for a CSR signer: the check the CertificateApproval and CertificateSigning plugins share.

:class:`SignerPermissionPlugin` is both plugins' shape: an update of one CSR subresource needs
one verb on the request's signer; each plugin names its subresource and verb, and may narrow
which updates it looks at (:meth:`SignerPermissionPlugin.concerns`).

As upstream's ``plugin/pkg/admission/certificates/util.go``: a user may ``approve`` (or
``sign``) for a signer when the authorizer allows that verb on the ``signers`` resource of
group ``certificates.k8s.io`` named by the signer (``example.com/my-signer``) or by its
domain's wildcard (``example.com/*``).
"""

from __future__ import annotations

from typing import Any

from kubeward.admission.interfaces import UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Authorizer, decide

CSR_GROUP = "certificates.k8s.io"
CSR_RESOURCE = "certificatesigningrequests"


def is_csr(group: str, resource: str) -> bool:
    return group == CSR_GROUP and resource == CSR_RESOURCE


def signer_name(csr: dict[str, Any] | None) -> str:
    return str(((csr or {}).get("spec") or {}).get("signerName") or "")


async def is_authorized_for_signer(
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
        if (await decide(authorizer, attributes)).allowed:
            return True
    return False


class SignerPermissionPlugin:
    """A validating plugin: an update of ``subresource`` needs ``verb`` on the request's signer."""

    name: str
    subresource: str
    verb: str

    def __init__(self) -> None:
        self._authorizer: Authorizer | None = None

    def set_authorizer(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    def concerns(self, request: AdmissionRequest) -> bool:
        """Whether this update of the subresource is one the plugin judges (all, by default)."""
        return True

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if (
            request.operation != UPDATE
            or request.subresource != self.subresource
            or not is_csr(request.group, request.resource)
            or not self.concerns(request)
        ):
            return
        assert self._authorizer is not None, "the registry gives every plugin its authorizer"
        signer = signer_name(request.old_object or request.object)
        if not await is_authorized_for_signer(self._authorizer, request.user, self.verb, signer):
            raise forbidden(
                request, f'user not permitted to {self.verb} requests with signerName "{signer}"'
            )
