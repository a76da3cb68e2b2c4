"""What each built-in signer agrees to sign, as Kubernetes' signers check it.

From ``k8s.io/kubernetes/pkg/apis/certificates/v1/helpers.go`` and the csrsigning controller:

 1. ``kubernetes.io/kube-apiserver-client``: usages only ``digital signature``,
    ``key encipherment`` and ``client auth``.
 2. ``kubernetes.io/kube-apiserver-client-kubelet``: O exactly ``system:nodes``, CN starting
    ``system:node:``, no subject alternative names at all, usages ``digital signature`` and
    ``client auth`` (``key encipherment`` allowed too).
 3. ``kubernetes.io/kubelet-serving``: the same subject, at least one DNS or IP SAN and no
    email or URI SAN, usages ``digital signature`` and ``server auth`` (``key encipherment``
    allowed too).
 4. Beyond Kubernetes: a kube-apiserver-client request whose subject asks for the
    ``system:masters`` group is refused unless the controller-manager was started with
    ``--cluster-signing-allow-system-masters``. Such a certificate would be an unrevocable
    superuser, and one approval by mistake would mint it.
 5. ``kubernetes.io/legacy-unknown`` and signers outside ``kubernetes.io`` are never signed
    by kubeward's controller-manager.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID

from kubeward.api.user import NODE_USER_PREFIX, NODES_GROUP, SYSTEM_MASTERS
from kubeward.api.validation.certificates import (
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
)

BUILT_IN_SIGNERS = frozenset(
    {KUBE_APISERVER_CLIENT, KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING}
)
_CLIENT_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
_KUBELET_CLIENT_REQUIRED = frozenset({"digital signature", "client auth"})
_KUBELET_SERVING_REQUIRED = frozenset({"digital signature", "server auth"})
_KUBELET_SERVING_ALLOWED = frozenset({"digital signature", "key encipherment", "server auth"})


def organizations(request: x509.CertificateSigningRequest) -> list[str]:
    return [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def common_name(request: x509.CertificateSigningRequest) -> str:
    found = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""


def _alt_names(request: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _node_subject_problem(request: x509.CertificateSigningRequest) -> str:
    if organizations(request) != [NODES_GROUP]:
        return f"subject organization is not {NODES_GROUP}"
    if not common_name(request).startswith(NODE_USER_PREFIX):
        return f"subject common name does not begin with {NODE_USER_PREFIX}"
    return ""


def _usage_problem(usages: Sequence[str], required: frozenset[str], allowed: frozenset[str]) -> str:
    given = set(usages)
    if not required <= given or not given <= allowed:
        return f"usages did not match {sorted(required)}"
    return ""


def kubelet_client_problem(request: x509.CertificateSigningRequest, usages: Sequence[str]) -> str:
    """Rule 2: why this is not a node client certificate request ('' when it is)."""
    problem = _node_subject_problem(request)
    if problem:
        return problem
    sans = _alt_names(request)
    if sans is not None:
        for kind, label in (
            (x509.DNSName, "DNS"),
            (x509.RFC822Name, "Email"),
            (x509.IPAddress, "IP"),
            (x509.UniformResourceIdentifier, "URI"),
        ):
            if sans.get_values_for_type(kind):
                return f"{label} subjectAltNames are not allowed"
    return _usage_problem(usages, _KUBELET_CLIENT_REQUIRED, _CLIENT_USAGES)


def kubelet_serving_problem(request: x509.CertificateSigningRequest, usages: Sequence[str]) -> str:
    """Rule 3: why this is not a kubelet serving certificate request ('' when it is)."""
    problem = _node_subject_problem(request)
    if problem:
        return problem
    sans = _alt_names(request)
    dns = sans.get_values_for_type(x509.DNSName) if sans is not None else []
    ips = sans.get_values_for_type(x509.IPAddress) if sans is not None else []
    if not dns and not ips:
        return "DNS or IP subjectAltName is required"
    if sans is not None and sans.get_values_for_type(x509.RFC822Name):
        return "Email subjectAltNames are not allowed"
    if sans is not None and sans.get_values_for_type(x509.UniformResourceIdentifier):
        return "URI subjectAltNames are not allowed"
    return _usage_problem(usages, _KUBELET_SERVING_REQUIRED, _KUBELET_SERVING_ALLOWED)


def kube_apiserver_client_problem(
    request: x509.CertificateSigningRequest, usages: Sequence[str], *, allow_system_masters: bool
) -> str:
    """Rules 1 and 4."""
    for usage in usages:
        if usage not in _CLIENT_USAGES:
            return f"invalid usage for client certificate: {usage}"
    if SYSTEM_MASTERS in organizations(request) and not allow_system_masters:
        return (
            f"refusing to sign a client certificate for the {SYSTEM_MASTERS} group: it would be a"
            " superuser that RBAC cannot restrict or revoke (start the controller-manager with"
            " --cluster-signing-allow-system-masters to allow it)"
        )
    return ""


def signer_problem(
    signer: str,
    request: x509.CertificateSigningRequest,
    usages: Sequence[str],
    *,
    allow_system_masters: bool = False,
) -> str:
    """Why ``signer`` must not sign ``request`` ('' when it may); rule 5 for the rest."""
    if signer == KUBE_APISERVER_CLIENT:
        return kube_apiserver_client_problem(
            request, usages, allow_system_masters=allow_system_masters
        )
    if signer == KUBE_APISERVER_CLIENT_KUBELET:
        return kubelet_client_problem(request, usages)
    if signer == KUBELET_SERVING:
        return kubelet_serving_problem(request, usages)
    return f"signer {signer} is not one this controller-manager signs for"
